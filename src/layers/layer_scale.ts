import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';

/**
 * Per-channel learned scale on a residual branch, DINOv2's and timm's `LayerScale`: `x * gamma`.
 * Key `gamma` `[E]`.
 *
 * @example
 * const ls = new LayerScale(384, 1e-5);
 * ls.forward(tf.ones([2, 384])).shape; // [2, 384]
 */
export class LayerScale extends Module {
  readonly gamma: tf.Variable;

  /**
   * @param dim channels E.
   * @param initValue the initial value of every gamma (DINOv2's layer default 1e-5; its hub
   *   backbones pass 1.0).
   */
  constructor(readonly dim: number, initValue: number) {
    super();
    this.gamma = this.registerParameter('gamma', tf.fill([dim], initValue));
  }

  /** `[..., E] -> [..., E]`. */
  forward(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.dim) throw new Error(`LayerScale: expected last axis of size ${this.dim}, got shape [${x.shape.join(', ')}]`);
    return tf.mul(x, this.gamma);
  }
}
