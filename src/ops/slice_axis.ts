import * as tf from '@tensorflow/tfjs';

/**
 * Cells `start, start + step, ..., start + (count - 1) step` of one axis, differentiable on every
 * backend (tfjs's stridedSlice has no gradient). The tensor is viewed as `[A, n, B]` around the
 * axis first: wasm slices tensors of rank 5 and more cell by cell in JavaScript, hundreds of times
 * slower than its rank <= 4 copies.
 *
 * @example
 * sliceAxis(tf.range(0, 10).reshape([1, 10, 1]), 1, 1, 3, 3); // cells 1, 4, 7
 */
export function sliceAxis(x: tf.Tensor, axis: number, start: number, count: number, step = 1): tf.Tensor {
  const n = x.shape[axis];
  const last = start + (count - 1) * step;
  if (!(Number.isInteger(start) && Number.isInteger(count) && Number.isInteger(step)) || start < 0 || count < 1 || step < 1 || last >= n) {
    throw new Error(`sliceAxis: cells ${start}..${last} (step ${step}) are outside axis ${axis} of size ${n} in [${x.shape.join(', ')}]`);
  }
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outShape = x.shape.map((d, i) => (i === axis ? count : d));
  return tf.tidy(() => {
    const view = tf.reshape(x, [outer, n, inner]);
    if (step === 1) return tf.reshape(tf.slice(view, [0, start, 0], [outer, count, inner]), outShape);
    // count * step cells from start (zero-padded past the end), as [count, step], first column.
    const span = count * step;
    const avail = Math.min(span, n - start);
    let block = tf.slice(view, [0, start, 0], [outer, avail, inner]);
    if (avail < span) block = tf.pad(block, [[0, 0], [0, span - avail], [0, 0]]);
    const grouped = tf.reshape(block, [outer, count, step, inner]);
    return tf.reshape(tf.slice(grouped, [0, 0, 0, 0], [outer, count, 1, inner]), outShape);
  });
}

/**
 * Pads one axis with `before` and `after` cells of `value`, on an `[A, n, B]` view so that the
 * gradient (a slice) stays rank 3 (see {@link sliceAxis}).
 *
 * @example
 * padAxis(tf.ones([1, 4, 4, 4, 8]), 2, 1, 1, -Infinity).shape; // [1, 4, 6, 4, 8]
 */
export function padAxis(x: tf.Tensor, axis: number, before: number, after: number, value = 0): tf.Tensor {
  if (before === 0 && after === 0) return tf.clone(x);
  const n = x.shape[axis];
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outShape = x.shape.map((d, i) => (i === axis ? n + before + after : d));
  return tf.tidy(() => tf.reshape(tf.pad(tf.reshape(x, [outer, n, inner]), [[0, 0], [before, after], [0, 0]], value), outShape));
}
