import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import type { OnnxGraphBuilder } from '../../onnx/onnx_graph';
import { checkSliceFeatures, type SliceFusion, type SliceFusionCallOptions, type SliceFusionGraph, type SliceFusionOutput } from './slice_fusion';

/** Options of {@link LinearFusion}. */
export interface LinearFusionOptions {
  /** Slices per volume (default 32, as the original): the head sees `numSlices * E` features. */
  numSlices?: number;
}

/**
 * The paper's "Linear" fusion (Table 2): the slice features are concatenated in slice order, so
 * the linear head sees `D * E` features and the slice count is fixed. No weights of its own, no
 * padding, no slice attention.
 *
 * @example
 * const fusion = new LinearFusion(384, { numSlices: 32 });
 * fusion.forward(tf.zeros([2, 32, 384])).pooled.shape; // [2, 12288]
 */
export class LinearFusion extends Module implements SliceFusion {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly numSlices: number;
  readonly providesSliceAttention = false;
  readonly supportsPaddingMask = false;
  readonly config: Required<LinearFusionOptions>;

  constructor(width: number, options: LinearFusionOptions = {}) {
    super();
    const numSlices = options.numSlices ?? 32;
    if (!(Number.isInteger(numSlices) && numSlices > 0)) throw new Error(`LinearFusion: numSlices must be a positive integer, got ${JSON.stringify(numSlices)}`);
    this.inputSize = width;
    this.numSlices = numSlices;
    this.outputSize = width * numSlices;
    this.config = { numSlices };
  }

  forward(features: tf.Tensor, paddingMask?: tf.Tensor, _options: SliceFusionCallOptions = {}): SliceFusionOutput {
    checkSliceFeatures('LinearFusion', features, this.inputSize);
    const [B, D, E] = features.shape;
    if (D !== this.numSlices) throw new Error(`LinearFusion: 'linear' fusion was built for ${this.numSlices} slices, got ${D}`);
    if (paddingMask) throw new Error("LinearFusion: 'linear' fusion has a fixed slice count and cannot skip padded slices");
    return { pooled: tf.reshape(features, [B, D * E]) as tf.Tensor2D };
  }

  toOnnx(g: OnnxGraphBuilder, features: string): SliceFusionGraph {
    return { pooled: g.op('Reshape', [features, g.int64s([0, -1])]) };
  }
}
