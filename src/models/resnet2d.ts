import * as tf from '@tensorflow/tfjs';
import { ResNet, type ResNetOptions } from './resnet';
import type { EncodeOptions, SliceEncoder, SliceEncoderGraph, SliceEncoding } from './slice_encoder';
import type { OnnxGraphBuilder } from '../onnx/onnx_graph';
import { resnetGraph } from '../onnx/encoder_graphs';

/** Options of {@link ResNet2D} and its factories. */
export interface ResNet2DOptions {
  /** Classes of the `fc` head (default 1000, torchvision's). */
  numClasses?: number;
  /**
   * Keep the `fc` head (default true, as torchvision, whose ImageNet checkpoints carry it). The
   * authors' `ResNetSliceTrans` replaces it by `nn.Identity`, so its checkpoints have no `fc.*`:
   * use `false` to load them strictly.
   */
  feedForward?: boolean;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /** Leave conv weights zero instead of drawing them, for a checkpoint loaded right after. */
  skipInit?: boolean;
  /** Stage widths (default `[64, 128, 256, 512]`, torchvision's); other widths for slimmed models. */
  blockInplanes?: [number, number, number, number];
  /**
   * Channels of the input images (default 3, torchvision's RGB): 1 for gray slices, or one per
   * sequence of a multi-sequence input (pre/post contrast, T1/T2) fed as image channels.
   */
  inChannels?: number;
}

/**
 * torchvision's ResNet (`torchvision.models.resnet18/34/50`): conv1 7x7 stride 2, max pool,
 * shortcut convs without bias, `fc` with PyTorch's default init. Input `[N, H, W, 3]`
 * channels-last (or `inChannels` channels). As a {@link SliceEncoder} it returns the pooled features before `fc`
 * (`[N, 512]`, 2048 for ResNet-50), as the authors' `ResNetSliceTrans` does with `fc = Identity`.
 *
 * @example
 * const encoder = resnet2d18({ feedForward: false }).eval();
 * const { features } = encoder.encode(tf.zeros([4, 224, 224, 3]) as tf.Tensor4D); // [4, 512]
 */
export class ResNet2D extends ResNet implements SliceEncoder {
  /** Length of the pooled feature vector (512, or 2048 for ResNet-50). */
  readonly featureSize: number;
  /** Channels of the input images (3, RGB, unless built otherwise). */
  readonly inChannels: number;
  /** Grad-CAM can cut it at any named layer (`layer4` by default). */
  readonly camLayers: readonly string[];

  constructor(options: ResNet2DOptions & Pick<ResNetOptions, 'block' | 'layers'>) {
    super({
      block: options.block,
      layers: options.layers,
      spatialDims: 2,
      nInputChannels: options.inChannels ?? 3,
      conv1TStride: 2,
      biasDownsample: false,
      numClasses: options.numClasses ?? 1000,
      feedForward: options.feedForward ?? true,
      fcBiasInit: 'torch-default',
      seed: options.seed,
      skipInit: options.skipInit,
      blockInplanes: options.blockInplanes,
    });
    this.featureSize = this.featureChannels;
    this.inChannels = this.nInputChannels;
    this.camLayers = this.camLayerNames();
  }

  /**
   * `[N, H, W, 3] -> { features: [N, featureSize] }`, the `avgpool` output before `fc`. A ResNet
   * has no attention maps, so an attention request returns none (explain it with Grad-CAM).
   */
  encode(images: tf.Tensor4D, _options: EncodeOptions = {}): SliceEncoding {
    return { features: this.forwardTo('avgpool', images) as tf.Tensor2D };
  }

  /** From the output of `layer` to the pooled features `[N, featureSize]` (before `fc`). */
  featuresFrom(layer: string, activation: tf.Tensor): tf.Tensor2D {
    return this.forwardBetween(layer, 'avgpool', activation) as tf.Tensor2D;
  }

  /** Writes the encoder into an ONNX graph on NCHW images: the pooled features, without `fc`. */
  toOnnx(g: OnnxGraphBuilder, images: string): SliceEncoderGraph {
    return { features: resnetGraph(g, images, this, false) };
  }
}

/**
 * ResNet-18 as torchvision's `resnet18` (11,689,512 parameters with the 1000-class `fc`).
 *
 * @example
 * const net = resnet2d18({ feedForward: false });
 */
export function resnet2d18(options: ResNet2DOptions = {}): ResNet2D {
  return new ResNet2D({ ...options, block: 'basic', layers: [2, 2, 2, 2] });
}

/**
 * ResNet-34 as torchvision's `resnet34` (the authors' default slice encoder size).
 *
 * @example
 * const net = resnet2d34({ feedForward: false });
 */
export function resnet2d34(options: ResNet2DOptions = {}): ResNet2D {
  return new ResNet2D({ ...options, block: 'basic', layers: [3, 4, 6, 3] });
}

/**
 * ResNet-50 as torchvision's `resnet50` (2048 features).
 *
 * @example
 * const net = resnet2d50({ feedForward: false });
 */
export function resnet2d50(options: ResNet2DOptions = {}): ResNet2D {
  return new ResNet2D({ ...options, block: 'bottleneck', layers: [3, 4, 6, 3] });
}
