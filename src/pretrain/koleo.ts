import * as tf from '@tensorflow/tfjs';

/**
 * The row of `x` `[N, E]` nearest to each row (largest inner product, itself excluded), as
 * `P x` with `P` the one-hot neighbour matrix. The choice of neighbour is a constant of the
 * gradient (torch's `max` is not differentiated), so `P` is computed inside a custom gradient,
 * off the tape, and the gradient is `P^T dy`.
 */
const nearestRows = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
  const n = x.shape[0];
  const p = tf.tidy(() => {
    const dots = tf.sub(tf.matMul(x, x, false, true), tf.mul(tf.eye(n), 1e9));
    return tf.oneHot(tf.argMax(dots, 1), n).asType('float32');
  });
  save([p]);
  return {
    value: tf.matMul(p, x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(saved[0] as tf.Tensor2D, dy as tf.Tensor2D, true, false)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

/**
 * DINOv2's KoLeo regulariser (`KoLeoLoss`, after Kozachenko-Leonenko's entropy estimator): the
 * features are L2-normalised, each is paired with its nearest neighbour in the batch (largest
 * inner product, itself excluded) and the loss is `-mean(log(||x_i - x_nn(i) + eps|| + eps))`, as
 * `nn.PairwiseDistance` adds `eps` to the difference. Minimising it spreads the batch's features
 * uniformly over the sphere. DINOv2 applies it to the student's class tokens of each global crop
 * separately, weighted 0.1.
 *
 * @param features `[N, E]`, N >= 2.
 * @example
 * const reg = koleoLoss(clsTokens); // scalar
 */
export function koleoLoss(features: tf.Tensor2D, eps = 1e-8): tf.Scalar {
  if (features.rank !== 2 || features.shape[0] < 2) throw new Error(`koleoLoss: expected features [N >= 2, E], got [${features.shape.join(', ')}]`);
  return tf.tidy(() => {
    const x = tf.div(features, tf.maximum(tf.sqrt(tf.sum(tf.square(features), 1, true)), eps)) as tf.Tensor2D;
    const d = tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(x, nearestRows(x)), eps)), 1));
    return tf.neg(tf.mean(tf.log(tf.add(d, eps)))) as tf.Scalar;
  });
}
