import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault, torchDefaultUniform } from '../nn/init';
import { conv2dValid } from '../ops/conv2d';
import { padAxis, sliceAxis } from '../ops/slice_axis';
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
 * (`[B Do, H, W, kd C]`) against the filter reshaped to `[kh, kw, kd I, O]`. On wasm this runs
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
      // Depth tap t reads padded planes t, t + sd, ..., t + sd (dOut - 1).
      // One axis at a time on rank-3 views: the gradient of a rank-5 pad is a rank-5 slice, which
      // wasm runs cell by cell in JavaScript.
      const padded = padAxis(padAxis(padAxis(x, 1, pd, pd), 2, ph, ph), 3, pw, pw);
      const [, , hp, wp] = padded.shape;
      const taps: tf.Tensor[] = [];
      for (let t = 0; t < kd; t++) taps.push(sliceAxis(padded, 1, t, dOut, sd));
      // [B Do, Hp, Wp, kd C] against [kh, kw, kd I, O]: channel index t C + i on both sides.
      const rows = b * dOut * hp * wp;
      const stacked = tf.reshape(kd === 1 ? taps[0] : tf.concat(taps.map((s) => tf.reshape(s, [rows, c])), 1), [b * dOut, hp, wp, kd * c]);
      const filter = tf.reshape(tf.transpose(this.weight, [1, 2, 0, 3, 4]), [kh, kw, kd * c, this.outChannels]);
      const y = conv2dValid(stacked as tf.Tensor4D, filter as tf.Tensor4D, [sh, sw]);
      const [, ho, wo] = y.shape;
      const out = tf.reshape(y, [b, dOut, ho, wo, this.outChannels]);
      return (this.bias ? tf.add(out, this.bias) : out) as tf.Tensor5D;
    });
  }
}
