import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { Linear } from './linear';
import { gelu } from './gelu';
import type { Rng } from '../utils/rng';

/** Options of {@link Mlp}. */
export interface MlpOptions {
  inFeatures: number;
  /** Hidden width (DINOv2: 4 x E). */
  hiddenFeatures: number;
  /** Output width (default `inFeatures`). */
  outFeatures?: number;
  /** Biases on both Linears (default true). */
  bias?: boolean;
  /** Seed source for the initial weights. */
  rng?: Rng;
}

/**
 * The transformer feed-forward of DINOv2 and timm: `fc2(gelu(fc1(x)))` with exact erf GELU and no
 * dropout. Keys `fc1.*`, `fc2.*`.
 *
 * @example
 * const mlp = new Mlp({ inFeatures: 384, hiddenFeatures: 1536 });
 * mlp.forward(tf.zeros([2, 257, 384])).shape; // [2, 257, 384]
 */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(options: MlpOptions) {
    super();
    const bias = options.bias ?? true;
    const out = options.outFeatures ?? options.inFeatures;
    this.fc1 = this.registerModule('fc1', new Linear(options.inFeatures, options.hiddenFeatures, { bias, rng: options.rng }));
    this.fc2 = this.registerModule('fc2', new Linear(options.hiddenFeatures, out, { bias, rng: options.rng }));
  }

  /** `[..., in] -> [..., out]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}
