import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import type { OnnxGraphBuilder } from '../../onnx/onnx_graph';
import { checkPaddingMask, checkSliceFeatures, type SliceFusion, type SliceFusionCallOptions, type SliceFusionGraph, type SliceFusionOutput } from './slice_fusion';

/**
 * The paper's "Average" fusion (Table 2): the mean of the slice features (over the slices that
 * are not padded). No weights; every slice counts the same, so it has no slice attention.
 *
 * @example
 * new AverageFusion(384).forward(tf.ones([2, 8, 384])).pooled.shape; // [2, 384]
 */
export class AverageFusion extends Module implements SliceFusion {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly providesSliceAttention = false;
  readonly supportsPaddingMask = true;
  readonly config = {};

  constructor(width: number) {
    super();
    this.inputSize = width;
    this.outputSize = width;
  }

  forward(features: tf.Tensor, paddingMask?: tf.Tensor, _options: SliceFusionCallOptions = {}): SliceFusionOutput {
    checkSliceFeatures('AverageFusion', features, this.inputSize);
    checkPaddingMask('AverageFusion', features, paddingMask);
    if (!paddingMask) return { pooled: tf.mean(features, 1) as tf.Tensor2D };
    const [B, D] = features.shape;
    // Mean over the slices that are not padded.
    const pooled = tf.tidy(() => {
      const keep = tf.reshape(tf.cast(tf.logicalNot(paddingMask), 'float32'), [B, D, 1]);
      return tf.div(tf.sum(tf.mul(features, keep), 1), tf.maximum(tf.sum(keep, 1), 1));
    }) as tf.Tensor2D;
    return { pooled };
  }

  toOnnx(g: OnnxGraphBuilder, features: string): SliceFusionGraph {
    return { pooled: g.op('ReduceMean', [features], { axes: [1], keepdims: 0 }) };
  }
}
