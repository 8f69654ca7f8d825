import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { kaimingNormalFanOut, rngOrDefault, torchDefaultUniform } from '../nn/init';
import { conv2dValid } from '../ops/conv2d';
import { assertFloat32, assertRank } from '../utils/check';
import type { Rng } from '../utils/rng';

/**
 * How a convolution's weight is drawn: PyTorch's default, Kaiming normal (fan-out, ReLU gain) as
 * ResNets use, or zeros (no drawing, for a checkpoint loaded right after).
 */
export type ConvInit = 'torch-default' | 'kaiming-normal-fan-out' | 'zeros';

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  /** Kernel size `k` or `[kh, kw]`. */
  kernelSize: number | [number, number];
  /** Stride `s` or `[sh, sw]` (default 1). */
  stride?: number | [number, number];
  /** Zero padding on each side, `p` or `[ph, pw]` (default 0), as PyTorch's symmetric padding. */
  padding?: number | [number, number];
  /** Add a learned bias (default true). */
  bias?: boolean;
  /**
   * Weight initialisation: PyTorch's default `kaiming_uniform_(a=sqrt(5))` (default) or
   * `kaiming_normal_(mode='fan_out', nonlinearity='relu')` as ResNets use. Biases always follow
   * PyTorch's default U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
   */
  init?: ConvInit;
  /** Seed source of the initialisation. */
  rng?: Rng;
}

/** A convolution weight of our layout `shape` drawn as `init` says. */
export function drawConvWeight(init: ConvInit | undefined, shape: number[], fanIn: number, fanOut: number, rng: Rng): tf.Tensor {
  if (init === 'zeros') return tf.zeros(shape);
  return init === 'kaiming-normal-fan-out' ? kaimingNormalFanOut(shape, fanOut, rng) : torchDefaultUniform(shape, fanIn, rng);
}

/** `n` or `[a, b]` -> `[a, b]`, checked to be integers >= min. */
export function pair(what: string, v: number | [number, number], min: number): [number, number] {
  const out: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!out.every((d) => Number.isInteger(d) && d >= min)) throw new Error(`${what}: expected integers >= ${min}, got ${JSON.stringify(v)}`);
  return out;
}

/**
 * `torch.nn.Conv2d` (no groups, no dilation) on channels-last images `[N, H, W, C]`. It trains on
 * every backend, wasm included (see {@link conv2dValid}). Keys `weight` `[O, I, kh, kw]` and
 * `bias` `[O]`; the weight is held as `[kh, kw, I, O]`.
 *
 * @example
 * const conv = new Conv2d(3, 64, { kernelSize: 7, stride: 2, padding: 3, bias: false });
 * conv.forward(tf.zeros([1, 224, 224, 3]) as tf.Tensor4D).shape; // [1, 112, 112, 64]
 */
export class Conv2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  /** `[kh, kw, I, O]` (PyTorch's `[O, I, kh, kw]` in the state dict). */
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(readonly inChannels: number, readonly outChannels: number, options: Conv2dOptions) {
    super();
    this.kernelSize = pair('Conv2d kernelSize', options.kernelSize, 1);
    this.stride = pair('Conv2d stride', options.stride ?? 1, 1);
    this.padding = pair('Conv2d padding', options.padding ?? 0, 0);
    const rng = rngOrDefault(options.rng);
    const [kh, kw] = this.kernelSize;
    const fanIn = inChannels * kh * kw;
    const shape = [kh, kw, inChannels, outChannels];
    const weight = drawConvWeight(options.init, shape, fanIn, outChannels * kh * kw, rng);
    this.weight = this.registerParameter('weight', weight, 'conv2d');
    if (options.bias ?? true) this.bias = this.registerParameter('bias', torchDefaultUniform([outChannels], fanIn, rng));
  }

  /** `[N, H, W, I] -> [N, Ho, Wo, O]` with `Ho = floor((H + 2 ph - kh) / sh) + 1`. */
  forward(x: tf.Tensor): tf.Tensor4D {
    assertRank('Conv2d', x.shape, [4], 'input [N, H, W, C]');
    assertFloat32('Conv2d', x.dtype);
    if (x.shape[3] !== this.inChannels) {
      throw new Error(`Conv2d: expected ${this.inChannels} channels in [N, H, W, C], got shape [${x.shape.join(', ')}]`);
    }
    const [ph, pw] = this.padding;
    return tf.tidy(() => {
      const padded = ph === 0 && pw === 0 ? x : tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
      const y = conv2dValid(padded as tf.Tensor4D, this.weight as tf.Tensor4D, this.stride);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}
