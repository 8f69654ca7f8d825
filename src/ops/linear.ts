import * as tf from '@tensorflow/tfjs';
import { transposeFlagsAreFree } from '../kernels/wasm_matmul';
import { leanReshape } from './lean_shape';

type Save = tf.GradSaveFunc;

/**
 * `y = x @ w (+ b)` for `x: [N, in]`, `w: [in, out]`, `b: [out]`, with a gradient written with
 * explicit transposes and plain matMuls (tfjs's own matMul gradient uses the transpose flags,
 * which run 10-60x slower on the stock wasm kernel), or with the flags where mst-ts's wasm kernel
 * makes them free.
 */
export function linear2d(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  return (b ? linearWithBias(x, w, b) : linearNoBias(x, w)) as tf.Tensor2D;
}

/** dX = dY W^T and dW = X^T dY: transpose flags where they are free, else explicit transposes. */
function inputGrads(g: tf.Tensor2D, xs: tf.Tensor2D, ws: tf.Tensor2D): [tf.Tensor, tf.Tensor] {
  if (transposeFlagsAreFree()) return [tf.matMul(g, ws, false, true), tf.matMul(xs, g, true, false)];
  return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g)];
}

const linearWithBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Save) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [...inputGrads(g, xs, ws), tf.sum(g, 0)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

const linearNoBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: Save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return inputGrads(g, xs, ws);
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** {@link linear2d} over the last axis of a tensor of any rank >= 1: `[..., in] -> [..., out]`. */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inF = w.shape[0];
  const outF = w.shape[1];
  const lead = x.shape.slice(0, -1);
  return tf.tidy(() => {
    // Reshapes that keep nothing on the tape: tfjs's would keep the output alive after its consumer
    // (a transpose, say) is done with it.
    const y = linear2d(leanReshape(x, [-1, inF]) as tf.Tensor2D, w, b);
    return leanReshape(y, [...lead, outF]);
  });
}
