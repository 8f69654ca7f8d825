import * as tf from '@tensorflow/tfjs';
import { leanReshape } from './lean_shape';

type Save = tf.GradSaveFunc;

/**
 * `y = x @ w (+ b)` for `x: [N, in]`, `w: [in, out]`, `b: [out]`, with a gradient written with
 * explicit transposes and plain matMuls. tfjs's own matMul gradient uses the transpose flags,
 * which run 10-60x slower on the wasm backend (see FACTS.md).
 */
export function linear2d(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  return (b ? linearWithBias(x, w, b) : linearNoBias(x, w)) as tf.Tensor2D;
}

const linearWithBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Save) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g), tf.sum(g, 0)];
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
      return [tf.matMul(g, tf.transpose(ws)), tf.matMul(tf.transpose(xs), g)];
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
