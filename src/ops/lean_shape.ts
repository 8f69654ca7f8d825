import * as tf from '@tensorflow/tfjs';

// tfjs's gradients of Reshape, Add and Mul-by-a-constant keep their inputs on the tape only to
// read shapes (or a constant), which keeps activations alive that nothing else needs. These ops
// compute the same values and keep nothing: the shapes live in the closure.

/**
 * `tf.reshape` whose gradient tape keeps nothing (tfjs's keeps the input tensor).
 *
 * @example
 * leanReshape(tf.zeros([2, 3, 4]), [6, 4]).shape; // [6, 4]
 */
export function leanReshape(x: tf.Tensor, shape: number[]): tf.Tensor {
  const inShape = x.shape;
  const op = tf.customGrad(((xs: tf.Tensor) => ({
    value: tf.reshape(xs, shape),
    gradFunc: (dy: tf.Tensor) => tf.reshape(dy, inShape),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}

/**
 * `a + b` for two tensors of one shape (a residual connection) whose gradient tape keeps nothing
 * (tfjs's keeps both inputs).
 *
 * @example
 * leanAdd(tf.ones([2, 3]), tf.ones([2, 3])).arraySync(); // [[2, 2, 2], [2, 2, 2]]
 */
export function leanAdd(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`leanAdd: expected operands of one shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  const op = tf.customGrad(((as: tf.Tensor, bs: tf.Tensor) => ({
    value: tf.add(as, bs),
    // Two tensors (clone shares the data): a backward pass may dispose each gradient on its own.
    gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as tf.Tensor;
}

/**
 * `x * factor` for a constant number whose gradient tape keeps nothing (tfjs's keeps `x`).
 *
 * @example
 * leanScale(tf.ones([2]), 0.125).arraySync(); // [0.125, 0.125]
 */
export function leanScale(x: tf.Tensor, factor: number): tf.Tensor {
  const op = tf.customGrad(((xs: tf.Tensor) => ({
    value: tf.mul(xs, factor),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, factor),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor;
}
