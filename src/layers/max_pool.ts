import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { MAX_POOL_3D, MAX_POOL_3D_GRAD, type MaxPool3dAttrs } from '../kernels/wasm_max_pool';
import { leanGradients } from '../ops/lean_backprop';
import { padAxis, sliceAxis } from '../ops/slice_axis';
import { assertRank } from '../utils/check';
import { pair } from './conv2d';
import { triple, type Triple } from './conv3d';

/** Options of {@link MaxPool2d} and {@link MaxPool3d}: a size `n` applies to every spatial axis. */
export interface MaxPoolOptions<S> {
  /** Window size. */
  kernelSize: number | S;
  /** Stride (default: the kernel size, as PyTorch). */
  stride?: number | S;
  /** Implicit padding on each side (default 0), at most half the kernel, as PyTorch. */
  padding?: number | S;
}

function checkPadding(what: string, kernel: number[], padding: number[]): void {
  if (padding.some((p, i) => p > kernel[i] / 2)) {
    throw new Error(`${what}: padding must be at most half the kernel size, got padding [${padding.join(', ')}] for kernel [${kernel.join(', ')}]`);
  }
}

/**
 * Max pooling of `[B, ...S, C]` over the spatial axes with -inf padding, one axis at a time (a
 * box maximum is the maximum of per-axis maxima) as `tf.maximum` over strided taps. tfjs's wasm
 * MaxPool3D starts its running maximum at FLT_MIN instead of -inf, and its pooling gradients do
 * likewise, so all-negative windows come out wrong there; this form is exact on every backend.
 * On wasm, mst-ts's native kernel (native/max_pool.c) does the same in one pass.
 */
function maxPoolNd(x: tf.Tensor, kernel: number[], stride: number[], padding: number[]): tf.Tensor {
  if (x.dtype === 'float32' && tf.getKernel(MAX_POOL_3D, tf.getBackend()) != null) return maxPoolNative(x, kernel, stride, padding);
  // The taped form keeps every padded copy, tap and running maximum; recomputing it in the
  // backward pass keeps only x on the training tape (the pool costs a few copies).
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: maxPoolTaps(input, kernel, stride, padding),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const { value, grads } = leanGradients(() => maxPoolTaps(saved, kernel, stride, padding), [saved], dy);
        value.dispose();
        return grads[0] ?? tf.zerosLike(saved);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

/**
 * The wasm backend's native pooling (native/max_pool.c), 2D pooling as 3D with depth 1. Its
 * gradient goes to the first maximum of each window in scan order, as PyTorch's; the tape keeps x.
 */
function maxPoolNative(x: tf.Tensor, kernel: number[], stride: number[], padding: number[]): tf.Tensor {
  const flat = kernel.length === 2;
  const attrs = {
    kernel: flat ? [1, kernel[0], kernel[1]] : kernel,
    stride: flat ? [1, stride[0], stride[1]] : stride,
    padding: flat ? [0, padding[0], padding[1]] : padding,
  } as MaxPool3dAttrs;
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const v = flat ? tf.expandDims(input, 1) : input;
    const y = tf.engine().runKernel(MAX_POOL_3D, { x: v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    return {
      value: flat ? tf.squeeze(y, [1]) : y,
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const sx = flat ? tf.expandDims(saved, 1) : saved;
        const g = flat ? tf.expandDims(dy, 1) : dy;
        const dx = tf.engine().runKernel(MAX_POOL_3D_GRAD, { x: sx, dy: g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        return flat ? tf.squeeze(dx, [1]) : dx;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

function maxPoolTaps(x: tf.Tensor, kernel: number[], stride: number[], padding: number[]): tf.Tensor {
  return tf.tidy(() => {
    let y = x;
    kernel.forEach((k, i) => {
      const axis = i + 1;
      const p = padding[i];
      const padded = p === 0 ? y : padAxis(y, axis, p, p, -Infinity);
      const out = Math.floor((padded.shape[axis] - k) / stride[i]) + 1;
      let acc: tf.Tensor | null = null;
      for (let t = 0; t < k; t++) {
        const tap = sliceAxis(padded, axis, t, out, stride[i]);
        acc = acc === null ? tap : tf.maximum(acc, tap);
      }
      y = acc as tf.Tensor;
    });
    return y;
  });
}

/**
 * `torch.nn.MaxPool2d` on `[N, H, W, C]` (floor mode). PyTorch pads with -inf, so padded cells
 * never win; tfjs's 'same' padding places the window differently, so the padding is explicit
 * (see {@link maxPoolNd}).
 *
 * @example
 * const pool = new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 });
 * pool.forward(tf.zeros([1, 112, 112, 64])).shape; // [1, 56, 56, 64]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(options: MaxPoolOptions<[number, number]>) {
    super();
    this.kernelSize = pair('MaxPool2d kernelSize', options.kernelSize, 1);
    this.stride = pair('MaxPool2d stride', options.stride ?? this.kernelSize, 1);
    this.padding = pair('MaxPool2d padding', options.padding ?? 0, 0);
    checkPadding('MaxPool2d', this.kernelSize, this.padding);
  }

  /** `[N, H, W, C] -> [N, Ho, Wo, C]` with `Ho = floor((H + 2 ph - kh) / sh) + 1`. */
  forward(x: tf.Tensor): tf.Tensor4D {
    assertRank('MaxPool2d', x.shape, [4], 'input [N, H, W, C]');
    const [ph, pw] = this.padding;
    const [, h, w] = x.shape as [number, number, number, number];
    if (h + 2 * ph < this.kernelSize[0] || w + 2 * pw < this.kernelSize[1]) {
      throw new Error(`MaxPool2d: input [${x.shape.join(', ')}] is smaller than the window ${this.kernelSize.join('x')}`);
    }
    return maxPoolNd(x, this.kernelSize, this.stride, this.padding) as tf.Tensor4D;
  }
}

/**
 * `torch.nn.MaxPool3d` on `[B, D, H, W, C]` (floor mode), padding with -inf as PyTorch.
 *
 * @example
 * const pool = new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 });
 * pool.forward(tf.zeros([1, 16, 64, 64, 64])).shape; // [1, 8, 32, 32, 64]
 */
export class MaxPool3d extends Module {
  readonly kernelSize: Triple;
  readonly stride: Triple;
  readonly padding: Triple;

  constructor(options: MaxPoolOptions<Triple>) {
    super();
    this.kernelSize = triple('MaxPool3d kernelSize', options.kernelSize, 1);
    this.stride = triple('MaxPool3d stride', options.stride ?? this.kernelSize, 1);
    this.padding = triple('MaxPool3d padding', options.padding ?? 0, 0);
    checkPadding('MaxPool3d', this.kernelSize, this.padding);
  }

  /** `[B, D, H, W, C] -> [B, Do, Ho, Wo, C]` with `Do = floor((D + 2 pd - kd) / sd) + 1`. */
  forward(x: tf.Tensor): tf.Tensor5D {
    assertRank('MaxPool3d', x.shape, [5], 'input [B, D, H, W, C]');
    if (this.kernelSize.some((k, i) => x.shape[i + 1] + 2 * this.padding[i] < k)) {
      throw new Error(`MaxPool3d: input [${x.shape.join(', ')}] is smaller than the window ${this.kernelSize.join('x')}`);
    }
    return maxPoolNd(x, this.kernelSize, this.stride, this.padding) as tf.Tensor5D;
  }
}
