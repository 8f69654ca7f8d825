import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault, torchDefaultUniform } from '../nn/init';
import { conv2dValid } from '../ops/conv2d';
import { depthTaps } from '../ops/depth_taps';
import { assertFloat32, assertRank } from '../utils/check';
import type { Rng } from '../utils/rng';
import { drawConvWeight, type ConvInit } from './conv2d';

/** Three sizes `[d, h, w]`. */
export type Triple = [number, number, number];

/** Options of {@link Conv3d}. */
export interface Conv3dOptions {
  /** Kernel size `k` or `[kd, kh, kw]`. */
  kernelSize: number | Triple;
  /** Stride `s` or `[sd, sh, sw]` (default 1). */
  stride?: number | Triple;
  /** Zero padding on each side, `p` or `[pd, ph, pw]` (default 0), as PyTorch's symmetric padding. */
  padding?: number | Triple;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Weight initialisation (default PyTorch's); see {@link ConvInit}. */
  init?: ConvInit;
  /** Seed source of the initialisation. */
  rng?: Rng;
}

/** `n` or `[a, b, c]` -> `[a, b, c]`, checked to be integers >= min. */
export function triple(what: string, v: number | Triple, min: number): Triple {
  const out: Triple = typeof v === 'number' ? [v, v, v] : [v[0], v[1], v[2]];
  if (!out.every((d) => Number.isInteger(d) && d >= min)) throw new Error(`${what}: expected integers >= ${min}, got ${JSON.stringify(v)}`);
  return out;
}

/**
 * `torch.nn.Conv3d` (no groups, no dilation) on channels-last volumes `[B, D, H, W, C]`. Keys
 * `weight` `[O, I, kd, kh, kw]` and `bias` `[O]`; the weight is held as `[kd, kh, kw, I, O]`.
 *
 * It is computed as one 2D convolution: the `kd` depth taps are stacked along channels
 * (`[B Do, H, W, kd C]`, {@link depthTaps}, which leaves nothing on the training tape) against the
 * filter reshaped to `[kh, kw, kd I, O]`. On wasm this runs
 * ~25x faster than tfjs's Conv3D kernel, and it trains there (see {@link conv2dValid}).
 *
 * @example
 * const conv = new Conv3d(1, 64, { kernelSize: 7, padding: 3, bias: false });
 * conv.forward(tf.zeros([1, 16, 64, 64, 1])).shape; // [1, 16, 64, 64, 64]
 */
export class Conv3d extends Module {
  readonly kernelSize: Triple;
  readonly stride: Triple;
  readonly padding: Triple;
  /** `[kd, kh, kw, I, O]` (PyTorch's `[O, I, kd, kh, kw]` in the state dict). */
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(readonly inChannels: number, readonly outChannels: number, options: Conv3dOptions) {
    super();
    this.kernelSize = triple('Conv3d kernelSize', options.kernelSize, 1);
    this.stride = triple('Conv3d stride', options.stride ?? 1, 1);
    this.padding = triple('Conv3d padding', options.padding ?? 0, 0);
    const rng = rngOrDefault(options.rng);
    const [kd, kh, kw] = this.kernelSize;
    const taps = kd * kh * kw;
    const shape = [kd, kh, kw, inChannels, outChannels];
    const weight = drawConvWeight(options.init, shape, inChannels * taps, outChannels * taps, rng);
    this.weight = this.registerParameter('weight', weight, 'conv3d');
    if (options.bias ?? true) this.bias = this.registerParameter('bias', torchDefaultUniform([outChannels], inChannels * taps, rng));
  }

  /** `[B, D, H, W, I] -> [B, Do, Ho, Wo, O]` with `Do = floor((D + 2 pd - kd) / sd) + 1`. */
  forward(x: tf.Tensor): tf.Tensor5D {
    assertRank('Conv3d', x.shape, [5], 'input [B, D, H, W, C]');
    assertFloat32('Conv3d', x.dtype);
    const [b, d, h, w, c] = x.shape;
    if (c !== this.inChannels) throw new Error(`Conv3d: expected ${this.inChannels} channels in [B, D, H, W, C], got shape [${x.shape.join(', ')}]`);
    const [kd, kh, kw] = this.kernelSize;
    const [sd, sh, sw] = this.stride;
    const [pd, ph, pw] = this.padding;
    const dp = d + 2 * pd;
    if (dp < kd || h + 2 * ph < kh || w + 2 * pw < kw) {
      throw new Error(`Conv3d: input [${x.shape.join(', ')}] with padding [${this.padding.join(', ')}] is smaller than the kernel [${this.kernelSize.join(', ')}]`);
    }
    const dOut = Math.floor((dp - kd) / sd) + 1;
    return tf.tidy(() => {
      const plain = kd === 1 && sd === 1 && pd === 0 && ph === 0 && pw === 0;
      const stacked = plain ? (tf.reshape(x, [b * d, h, w, c]) as tf.Tensor4D) : depthTaps(x, kd, sd, this.padding);
      const filter = tf.reshape(tf.transpose(this.weight, [1, 2, 0, 3, 4]), [kh, kw, kd * c, this.outChannels]);
      const y = conv2dValid(stacked, filter as tf.Tensor4D, [sh, sw]);
      const [, ho, wo] = y.shape;
      const out = tf.reshape(y, [b, dOut, ho, wo, this.outChannels]);
      return (this.bias ? tf.add(out, this.bias) : out) as tf.Tensor5D;
    });
  }
}
