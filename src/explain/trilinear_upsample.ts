import * as tf from '@tensorflow/tfjs';

/** Options of {@link trilinearUpsample}: give `size` or `scaleFactor`, as `F.interpolate`. */
export interface TrilinearOptions {
  /** Output `[D, H, W]`. The source step is then `in / out` on every axis. */
  size?: [number, number, number];
  /**
   * Output size `floor(in * scale)` per axis. Unless `recomputeScaleFactor` is set, the source
   * step is `1 / scale` (PyTorch's rule), not `in / out`: the two differ when `in * scale` is not
   * an integer.
   */
  scaleFactor?: number | [number, number, number];
  /** Use `in / out` as the step even with `scaleFactor` (PyTorch's `recompute_scale_factor=True`). */
  recomputeScaleFactor?: boolean;
}

/** Source indices and weights of one axis: `out[i] = w0[i] * in[i0[i]] + w1[i] * in[i1[i]]`. */
export interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

/**
 * PyTorch's linear source coordinates for `align_corners=False`: `src = (dst + 0.5) * step - 0.5`,
 * clamped below at 0, with `i1 = min(i0 + 1, in - 1)`.
 *
 * @example
 * linearAxisWeights(2, 4, 0.5).w1; // Float32Array [0, 0.25, 0.75, 0]
 */
export function linearAxisWeights(inSize: number, outSize: number, step: number): AxisWeights {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.max((i + 0.5) * step - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    const lambda = src - lo;
    i0[i] = lo;
    i1[i] = Math.min(lo + 1, inSize - 1);
    w0[i] = 1 - lambda;
    w1[i] = lambda;
  }
  return { i0, i1, w0, w1 };
}

/** Output sizes and source steps of the three axes under PyTorch's size/scale rules. */
export function trilinearPlan(inShape: readonly number[], options: TrilinearOptions): { outShape: [number, number, number]; steps: [number, number, number] } {
  const { size, scaleFactor, recomputeScaleFactor = false } = options;
  if ((size === undefined) === (scaleFactor === undefined)) {
    throw new Error('trilinearUpsample: give exactly one of size or scaleFactor');
  }
  if (size !== undefined) {
    if (size.length !== 3 || size.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new Error(`trilinearUpsample: size must be three positive integers [D, H, W], got [${size.join(', ')}]`);
    }
    return { outShape: [size[0], size[1], size[2]], steps: [0, 1, 2].map((a) => inShape[a] / size[a]) as [number, number, number] };
  }
  const scales = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor, scaleFactor] : (scaleFactor as number[]);
  if (scales.length !== 3 || scales.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new Error(`trilinearUpsample: scaleFactor must be a positive number or three of them, got ${JSON.stringify(scaleFactor)}`);
  }
  const outShape = [0, 1, 2].map((a) => Math.floor(inShape[a] * scales[a])) as [number, number, number];
  if (outShape.some((s) => s < 1)) throw new Error(`trilinearUpsample: scaleFactor ${JSON.stringify(scaleFactor)} gives an empty output from [${inShape.join(', ')}]`);
  const steps = [0, 1, 2].map((a) => (recomputeScaleFactor ? inShape[a] / outShape[a] : 1 / scales[a])) as [number, number, number];
  return { outShape, steps };
}

/**
 * Trilinear resampling equal to PyTorch's `F.interpolate(x, mode='trilinear', align_corners=False)`,
 * including its rule that an explicit `scale_factor` (not `in / out`) sets the source step.
 * Accepts a volume `[D, H, W]` or a channels-last batch `[B, D, H, W, C]`; the result has the same
 * rank. Separable (one axis at a time), so it costs three gathers per axis and stays
 * differentiable.
 *
 * @example
 * const up = trilinearUpsample(map, { size: [32, 224, 224] }); // [32, 16, 16] -> [32, 224, 224]
 */
export function trilinearUpsample(x: tf.Tensor, options: TrilinearOptions): tf.Tensor {
  if (x.rank !== 3 && x.rank !== 5) {
    throw new Error(`trilinearUpsample: expected a volume [D, H, W] or a batch [B, D, H, W, C], got shape [${x.shape.join(', ')}]`);
  }
  if (x.dtype !== 'float32') throw new Error(`trilinearUpsample: expected float32, got ${x.dtype}`);
  const first = x.rank === 3 ? 0 : 1;
  const inShape = x.shape.slice(first, first + 3);
  const { outShape, steps } = trilinearPlan(inShape, options);
  return tf.tidy(() => {
    let y = x;
    for (let a = 0; a < 3; a++) {
      const axis = first + a;
      if (inShape[a] === outShape[a] && steps[a] === 1) continue;
      const w = linearAxisWeights(inShape[a], outShape[a], steps[a]);
      // [outSize] weights broadcast along `axis` only.
      const bshape = y.shape.map((_, i) => (i === axis ? outShape[a] : 1));
      const g0 = tf.gather(y, tf.tensor1d(w.i0, 'int32'), axis);
      const g1 = tf.gather(y, tf.tensor1d(w.i1, 'int32'), axis);
      y = tf.add(tf.mul(g0, tf.tensor(w.w0, bshape)), tf.mul(g1, tf.tensor(w.w1, bshape)));
    }
    return y === x ? tf.clone(x) : y;
  });
}
