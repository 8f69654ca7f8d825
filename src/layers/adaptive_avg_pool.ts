import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { sliceAxis } from '../ops/slice_axis';
import { assertRank } from '../utils/check';

/**
 * Adaptive average pooling over the spatial axes of a channels-last tensor, as PyTorch's
 * `adaptive_avg_pool`: output cell `i` of an axis of size `n` averages input cells
 * `floor(i n / o)` to `ceil((i + 1) n / o) - 1`. Box averages factor over axes, so each axis is
 * pooled in turn. `[B, ...spatial, C] -> [B, ...outputSize, C]`.
 *
 * @example
 * adaptiveAvgPool(tf.ones([2, 4, 7, 7, 512]), [1, 1, 1]).shape; // [2, 1, 1, 1, 512]
 */
export function adaptiveAvgPool(x: tf.Tensor, outputSize: number[]): tf.Tensor {
  const dims = outputSize.length;
  assertRank('adaptiveAvgPool', x.shape, [dims + 2], `[B, ${Array.from({ length: dims }, (_, i) => `S${i + 1}`).join(', ')}, C]`);
  if (!outputSize.every((o) => Number.isInteger(o) && o >= 1)) throw new Error(`adaptiveAvgPool: output sizes must be positive integers, got [${outputSize.join(', ')}]`);
  return tf.tidy(() => {
    if (outputSize.every((o) => o === 1)) return tf.mean(x, outputSize.map((_, i) => i + 1), true);
    let y = x;
    outputSize.forEach((o, i) => {
      const axis = i + 1;
      const n = y.shape[axis];
      if (o === n) return;
      if (o === 1) {
        y = tf.mean(y, axis, true);
        return;
      }
      const cells: tf.Tensor[] = [];
      for (let j = 0; j < o; j++) {
        const start = Math.floor((j * n) / o);
        const end = Math.ceil(((j + 1) * n) / o);
        cells.push(tf.mean(sliceAxis(y, axis, start, end - start), axis, true));
      }
      // Concatenated on [A, 1, B] views so the gradient's slices stay rank 3.
      const outer = y.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = y.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const shape = y.shape.map((d, k) => (k === axis ? o : d));
      y = tf.reshape(tf.concat(cells.map((t) => tf.reshape(t, [outer, 1, inner])), 1), shape);
    });
    return y;
  });
}

/**
 * `torch.nn.AdaptiveAvgPool2d` on `[N, H, W, C]`; see {@link adaptiveAvgPool}.
 *
 * @example
 * new AdaptiveAvgPool2d(1).forward(tf.ones([2, 7, 7, 512])).shape; // [2, 1, 1, 512]
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: number | [number, number]) {
    super();
    this.outputSize = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  }

  /** `[N, H, W, C] -> [N, oh, ow, C]`. */
  forward(x: tf.Tensor): tf.Tensor4D {
    return adaptiveAvgPool(x, this.outputSize) as tf.Tensor4D;
  }
}

/**
 * `torch.nn.AdaptiveAvgPool3d` on `[B, D, H, W, C]`; see {@link adaptiveAvgPool}.
 *
 * @example
 * new AdaptiveAvgPool3d(1).forward(tf.ones([1, 2, 4, 4, 512])).shape; // [1, 1, 1, 1, 512]
 */
export class AdaptiveAvgPool3d extends Module {
  readonly outputSize: [number, number, number];

  constructor(outputSize: number | [number, number, number]) {
    super();
    this.outputSize = typeof outputSize === 'number' ? [outputSize, outputSize, outputSize] : outputSize;
  }

  /** `[B, D, H, W, C] -> [B, od, oh, ow, C]`. */
  forward(x: tf.Tensor): tf.Tensor5D {
    return adaptiveAvgPool(x, this.outputSize) as tf.Tensor5D;
  }
}
