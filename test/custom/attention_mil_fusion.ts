import * as tf from '@tensorflow/tfjs';
import { Linear, Module, Rng, onnxLayers, registerFusion } from '../../src';
import type { OnnxGraphBuilder, SliceFusion, SliceFusionCallOptions, SliceFusionOutput } from '../../src';

/**
 * Attention-based multiple-instance pooling (Ilse et al. 2018) as an MST slice fusion: each slice
 * gets a score `w^T tanh(V h)`, the softmax over the slices weighs their features.
 */
export class AttentionMil extends Module implements SliceFusion {
  readonly providesSliceAttention = true;
  readonly supportsPaddingMask = true;
  readonly outputSize: number;
  readonly v: Linear;
  readonly w: Linear;

  constructor(
    readonly inputSize: number,
    hidden: number,
    seed: number,
  ) {
    super();
    const rng = new Rng(seed);
    this.outputSize = inputSize;
    this.v = this.registerModule('v', new Linear(inputSize, hidden, { rng }));
    this.w = this.registerModule('w', new Linear(hidden, 1, { bias: false, rng }));
  }

  forward(features: tf.Tensor, paddingMask?: tf.Tensor, _options?: SliceFusionCallOptions): SliceFusionOutput {
    return tf.tidy(() => {
      let scores = tf.squeeze(this.w.forward(tf.tanh(this.v.forward(features))), [2]);
      if (paddingMask) scores = tf.where(paddingMask, tf.fill(scores.shape, -1e9), scores);
      const weights = tf.softmax(scores, -1) as tf.Tensor2D;
      return { pooled: tf.sum(tf.mul(features, tf.expandDims(weights, 2)), 1) as tf.Tensor2D, sliceWeights: weights };
    });
  }

  toOnnx(g: OnnxGraphBuilder, features: string) {
    const scores = g.op('Squeeze', [onnxLayers.linear(g, g.op('Tanh', [onnxLayers.linear(g, features, this.v)]), this.w), g.int64s([2])]);
    const weights = g.op('Softmax', [scores], { axis: 1 });
    return { pooled: g.op('ReduceSum', [g.op('Mul', [features, g.op('Unsqueeze', [weights, g.int64s([2])])]), g.int64s([1])], { keepdims: 0 }), sliceWeights: weights };
  }
}

registerFusion('attention-mil', { create: (o, { inputSize, seed }) => new AttentionMil(inputSize, (o.hidden as number | undefined) ?? 16, seed) });
