import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { Linear } from './linear';
import type { Rng } from '../utils/rng';

/** Options of {@link SwiGLUFFN}. */
export interface SwiGLUFFNOptions {
  inFeatures: number;
  /**
   * The hidden width before DINOv2's fused-SwiGLU rounding (4 x E, as for {@link Mlp}); the layer
   * uses `swigluHiddenFeatures(hiddenFeatures)`.
   */
  hiddenFeatures: number;
  /** Output width (default `inFeatures`). */
  outFeatures?: number;
  /** Biases on both Linears (default true). */
  bias?: boolean;
  /** Seed source for the initial weights. */
  rng?: Rng;
}

/**
 * The hidden width DINOv2's `SwiGLUFFNFused` derives from the MLP width: two thirds of it,
 * rounded up to a multiple of 8 (`(int(h * 2 / 3) + 7) // 8 * 8`); 4096 for ViT-g (h = 6144).
 *
 * @example
 * swigluHiddenFeatures(6144); // 4096
 */
export function swigluHiddenFeatures(hiddenFeatures: number): number {
  return Math.floor((Math.floor((hiddenFeatures * 2) / 3) + 7) / 8) * 8;
}

/**
 * DINOv2's SwiGLU feed-forward (`SwiGLUFFNFused`, used by ViT-g/14): `w3(silu(x1) * x2)` where
 * `[x1, x2]` are the two halves of `w12(x)`. Keys `w12.*` (`[2H, E]`) and `w3.*` (`[E, H]`), the
 * names of both DINOv2's fallback and xFormers' packed SwiGLU.
 *
 * @example
 * const ffn = new SwiGLUFFN({ inFeatures: 1536, hiddenFeatures: 6144 });
 * ffn.hiddenFeatures; // 4096
 */
export class SwiGLUFFN extends Module {
  readonly hiddenFeatures: number;
  readonly w12: Linear;
  readonly w3: Linear;

  constructor(options: SwiGLUFFNOptions) {
    super();
    const bias = options.bias ?? true;
    const hidden = swigluHiddenFeatures(options.hiddenFeatures);
    this.hiddenFeatures = hidden;
    this.w12 = this.registerModule('w12', new Linear(options.inFeatures, 2 * hidden, { bias, rng: options.rng }));
    this.w3 = this.registerModule('w3', new Linear(hidden, options.outFeatures ?? options.inFeatures, { bias, rng: options.rng }));
  }

  /** `[..., in] -> [..., out]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [x1, x2] = tf.split(this.w12.forward(x), 2, -1);
      // silu(x1) = x1 * sigmoid(x1)
      return this.w3.forward(tf.mul(tf.mul(x1, tf.sigmoid(x1)), x2));
    });
  }
}
