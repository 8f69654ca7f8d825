import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { padAxis, sliceAxis } from '../ops/slice_axis';
import type { Rng } from '../utils/rng';
import { BatchNorm2d, BatchNorm3d, type BatchNorm } from './batch_norm';
import { Conv2d, type Conv2dOptions, type ConvInit } from './conv2d';
import { Conv3d, type Conv3dOptions } from './conv3d';

/** 2 for images `[N, H, W, C]`, 3 for volumes `[B, D, H, W, C]`. */
export type SpatialDims = 2 | 3;

/** A Conv2d or Conv3d. */
export type ConvNd = Conv2d | Conv3d;

/** Options of {@link convNd}. */
export interface ConvNdOptions {
  kernelSize: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  bias?: boolean;
  init?: ConvInit;
  rng?: Rng;
}

/**
 * A Conv2d or Conv3d by spatial dims, as MONAI's `Conv[Conv.CONV, spatial_dims]`.
 *
 * @example
 * convNd(3, 64, 128, { kernelSize: 1, stride: 2, bias: false }); // a Conv3d
 */
export function convNd(dims: SpatialDims, inChannels: number, outChannels: number, options: ConvNdOptions): ConvNd {
  const fit = (what: string, v: number | number[] | undefined): number | number[] | undefined => {
    if (Array.isArray(v) && v.length !== dims) throw new Error(`convNd: ${what} must have ${dims} entries for ${dims}D, got [${v.join(', ')}]`);
    return v;
  };
  const sizes = { kernelSize: fit('kernelSize', options.kernelSize), stride: fit('stride', options.stride), padding: fit('padding', options.padding) };
  const common = { bias: options.bias, init: options.init, rng: options.rng };
  if (dims === 2) return new Conv2d(inChannels, outChannels, { ...common, ...(sizes as Pick<Conv2dOptions, 'kernelSize' | 'stride' | 'padding'>) });
  return new Conv3d(inChannels, outChannels, { ...common, ...(sizes as Pick<Conv3dOptions, 'kernelSize' | 'stride' | 'padding'>) });
}

/**
 * A BatchNorm2d or BatchNorm3d by spatial dims (eps 1e-5, momentum 0.1).
 *
 * @example
 * batchNormNd(3, 64); // a BatchNorm3d
 */
export function batchNormNd(dims: SpatialDims, channels: number): BatchNorm {
  return dims === 2 ? new BatchNorm2d(channels) : new BatchNorm3d(channels);
}

/**
 * Shortcut type 'B' of a residual block whose shape changes: a 1x1 convolution with the block's
 * stride and a batch norm, keys `0.weight` (`0.bias` when `bias`) and `1.*`, as PyTorch's
 * `nn.Sequential(conv, norm)`.
 *
 * @example
 * const ds = new Downsample(3, 64, 256, { stride: 1, bias: true });
 * ds.stateDictKeys(); // ['0.weight', '0.bias', '1.weight', ...]
 */
export class Downsample extends Module {
  readonly conv: ConvNd;
  readonly norm: BatchNorm;

  constructor(dims: SpatialDims, inChannels: number, outChannels: number, options: { stride: number; bias: boolean; rng?: Rng; skipInit?: boolean }) {
    super();
    const init = options.skipInit ? 'zeros' : 'kaiming-normal-fan-out';
    this.conv = this.registerModule('0', convNd(dims, inChannels, outChannels, { kernelSize: 1, stride: options.stride, bias: options.bias, init, rng: options.rng }));
    this.norm = this.registerModule('1', batchNormNd(dims, outChannels));
  }

  /** `[B, ...S, I] -> [B, ...S / stride, O]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.norm.forward(this.conv.forward(x)));
  }
}

/**
 * Shortcut type 'A' (no parameters, MONAI's `_downsample_basic_block`): every `stride`-th cell
 * (an average pool of kernel 1), zero-padded to `outChannels` channels.
 *
 * @example
 * shortcutA(tf.ones([1, 8, 8, 8, 64]), 128, 2).shape; // [1, 4, 4, 4, 128]
 */
export function shortcutA(x: tf.Tensor, outChannels: number, stride: number): tf.Tensor {
  return tf.tidy(() => {
    let y = x;
    for (let axis = 1; stride > 1 && axis < x.rank - 1; axis++) y = sliceAxis(y, axis, 0, Math.floor((y.shape[axis] - 1) / stride) + 1, stride);
    const c = y.shape[y.rank - 1];
    if (outChannels < c) throw new Error(`shortcutA: expected outChannels >= ${c}, got ${outChannels}`);
    return outChannels === c ? y : padAxis(y, y.rank - 1, 0, outChannels - c);
  });
}

/** How a block's identity path changes shape: a {@link Downsample} module or shortcut 'A'. */
export type Shortcut = Downsample | { type: 'A'; outChannels: number; stride: number };

/** Options of {@link BasicBlock} and {@link Bottleneck}. */
export interface ResNetBlockOptions {
  /** 2 or 3. */
  spatialDims: SpatialDims;
  /** Stride of the block (on conv1 in BasicBlock, conv2 in Bottleneck). Default 1. */
  stride?: number;
  /** Shortcut when the shape changes; none keeps the identity. */
  shortcut?: Shortcut;
  /** Seed source of the Kaiming initialisation. */
  rng?: Rng;
  /** Leave conv weights zero instead of drawing them (a checkpoint is loaded next). */
  skipInit?: boolean;
}

/** The parts every residual block shares. */
abstract class ResidualBlock extends Module {
  readonly downsample?: Downsample;
  private readonly shortcutA?: { outChannels: number; stride: number };

  protected constructor(shortcut: Shortcut | undefined) {
    super();
    if (shortcut instanceof Downsample) this.downsample = shortcut;
    else if (shortcut) this.shortcutA = shortcut;
  }

  /** Registers the downsample module last, as PyTorch's attribute order puts it. */
  protected registerShortcut(): void {
    if (this.downsample) this.registerModule('downsample', this.downsample);
  }

  protected residual(x: tf.Tensor): tf.Tensor {
    if (this.downsample) return this.downsample.forward(x);
    if (this.shortcutA) return shortcutA(x, this.shortcutA.outChannels, this.shortcutA.stride);
    return x;
  }
}

/**
 * The ResNet basic block (two 3x3 convolutions), torchvision's `BasicBlock` and MONAI's
 * `ResNetBlock`: keys `conv1`, `bn1`, `conv2`, `bn2`, `downsample.0/1`.
 *
 * @example
 * const block = new BasicBlock(64, 64, { spatialDims: 3 }).eval();
 * block.forward(tf.zeros([1, 4, 8, 8, 64])).shape; // [1, 4, 8, 8, 64]
 */
export class BasicBlock extends ResidualBlock {
  /** Output channels are `planes * expansion`. */
  static readonly expansion = 1;
  readonly conv1: ConvNd;
  readonly bn1: BatchNorm;
  readonly conv2: ConvNd;
  readonly bn2: BatchNorm;

  constructor(inPlanes: number, planes: number, options: ResNetBlockOptions) {
    super(options.shortcut);
    const { spatialDims: d, stride = 1, rng } = options;
    const init = options.skipInit ? 'zeros' : 'kaiming-normal-fan-out';
    this.conv1 = this.registerModule('conv1', convNd(d, inPlanes, planes, { kernelSize: 3, stride, padding: 1, bias: false, init, rng }));
    this.bn1 = this.registerModule('bn1', batchNormNd(d, planes));
    this.conv2 = this.registerModule('conv2', convNd(d, planes, planes, { kernelSize: 3, padding: 1, bias: false, init, rng }));
    this.bn2 = this.registerModule('bn2', batchNormNd(d, planes));
    this.registerShortcut();
  }

  /** `[B, ...S, inPlanes] -> [B, ...S / stride, planes]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const out = this.bn1.forwardFused(this.conv1.forward(x), { relu: true });
      return this.bn2.forwardFused(this.conv2.forward(out), { relu: true, residual: this.residual(x) });
    });
  }
}

/**
 * The ResNet bottleneck block (1x1, 3x3 with the stride, 1x1 expanding 4x), torchvision's
 * `Bottleneck` (v1.5) and MONAI's `ResNetBottleneck`: keys `conv1..3`, `bn1..3`, `downsample.0/1`.
 *
 * @example
 * const block = new Bottleneck(256, 64, { spatialDims: 2 }).eval();
 * block.forward(tf.zeros([1, 8, 8, 256])).shape; // [1, 8, 8, 256]
 */
export class Bottleneck extends ResidualBlock {
  /** Output channels are `planes * expansion`. */
  static readonly expansion = 4;
  readonly conv1: ConvNd;
  readonly bn1: BatchNorm;
  readonly conv2: ConvNd;
  readonly bn2: BatchNorm;
  readonly conv3: ConvNd;
  readonly bn3: BatchNorm;

  constructor(inPlanes: number, planes: number, options: ResNetBlockOptions) {
    super(options.shortcut);
    const { spatialDims: d, stride = 1, rng } = options;
    const init = options.skipInit ? 'zeros' : 'kaiming-normal-fan-out';
    this.conv1 = this.registerModule('conv1', convNd(d, inPlanes, planes, { kernelSize: 1, bias: false, init, rng }));
    this.bn1 = this.registerModule('bn1', batchNormNd(d, planes));
    this.conv2 = this.registerModule('conv2', convNd(d, planes, planes, { kernelSize: 3, stride, padding: 1, bias: false, init, rng }));
    this.bn2 = this.registerModule('bn2', batchNormNd(d, planes));
    this.conv3 = this.registerModule('conv3', convNd(d, planes, planes * Bottleneck.expansion, { kernelSize: 1, bias: false, init, rng }));
    this.bn3 = this.registerModule('bn3', batchNormNd(d, planes * Bottleneck.expansion));
    this.registerShortcut();
  }

  /** `[B, ...S, inPlanes] -> [B, ...S / stride, 4 planes]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // Batch norm, shortcut and ReLU fused: the training tape keeps only the convolution outputs.
      let out = this.bn1.forwardFused(this.conv1.forward(x), { relu: true });
      out = this.bn2.forwardFused(this.conv2.forward(out), { relu: true });
      return this.bn3.forwardFused(this.conv3.forward(out), { relu: true, residual: this.residual(x) });
    });
  }
}
