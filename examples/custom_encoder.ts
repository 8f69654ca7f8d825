import * as tf from '@tensorflow/tfjs';
import { Conv2d, Linear, Module, MedicalSliceTransformer, onnxLayers, registerEncoder } from 'mst-ts';
import type { OnnxGraphBuilder, SliceEncoder, SliceEncoding } from 'mst-ts';

/** A tiny CNN slice encoder: a strided 3x3 convolution, ReLU, global average pooling, a projection. */
export class TinyCnn extends Module implements SliceEncoder {
  readonly inChannels = 1;
  readonly featureSize: number;
  readonly conv: Conv2d;
  readonly proj: Linear;

  constructor(options: { channels: number; featureSize: number }) {
    super();
    this.featureSize = options.featureSize;
    this.conv = this.registerModule('conv', new Conv2d(1, options.channels, { kernelSize: 3, stride: 2, padding: 1 }));
    this.proj = this.registerModule('proj', new Linear(options.channels, options.featureSize));
  }

  /** `[N, H, W, 1]` slices -> `[N, featureSize]`. */
  encode(images: tf.Tensor4D): SliceEncoding {
    return { features: tf.tidy(() => this.proj.forward(tf.mean(tf.relu(this.conv.forward(images)), [1, 2]))) as tf.Tensor2D };
  }

  /** The same in ONNX (images are NCHW there), so models on this encoder export. */
  toOnnx(g: OnnxGraphBuilder, images: string) {
    const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [g.op('Relu', [onnxLayers.conv(g, images, this.conv)])])], { axis: 1 });
    return { features: onnxLayers.linear(g, pooled, this.proj) };
  }
}

// Registered by name: models built on it save, load and rebuild it from its options.
registerEncoder('tiny-cnn', { create: (o) => new TinyCnn(o as { channels: number; featureSize: number }) });

export const mst = new MedicalSliceTransformer({ encoder: 'tiny-cnn', encoderOptions: { channels: 8, featureSize: 32 }, numClasses: 2, heads: 4 });
