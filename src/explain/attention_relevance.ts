import * as tf from '@tensorflow/tfjs';

/** The two class-specific attention attributions. */
export type AttributionMethod = 'transformer-attribution' | 'gradient-attention';

/**
 * The class token's row of the relevance map of a stack of attention blocks:
 * `e_0^T (I + A_L) ... (I + A_1)`, first block first in `gradients`, with
 * `A_b = mean_heads((grad_b * x_b)^+)`. With `x_b` the LRP relevance of the attention
 * probabilities this is Chefer et al. CVPR 2021, eqs. 13-14 (the product written in the order the
 * layers apply); with `x_b` the probabilities themselves it is the update `R <- R + A_b R` of
 * Chefer et al. ICCV 2021 (eqs. 5-6 for self-attention). Only the row is propagated, so the cost
 * is `blocks * T^2` per item.
 *
 * @param gradients per block, `[N, heads, T, T]`: the target's gradient with respect to the probabilities
 * @param weights per block, same shapes: relevance (CVPR 2021) or probabilities (ICCV 2021)
 * @returns `[N, T]`
 * @example
 * const row = clsRelevanceRow(grads, attentions); // gradient x attention
 */
export function clsRelevanceRow(gradients: readonly tf.Tensor[], weights: readonly tf.Tensor[]): tf.Tensor2D {
  if (gradients.length === 0 || gradients.length !== weights.length) {
    throw new Error(`clsRelevanceRow: expected one gradient and one weight per block, got ${gradients.length} and ${weights.length}`);
  }
  const [n, , t] = gradients[0].shape;
  for (const [i, g] of gradients.entries()) {
    const w = weights[i];
    if (g.rank !== 4 || g.shape[0] !== n || g.shape[2] !== t || g.shape[3] !== t || w.shape.some((d, j) => d !== g.shape[j])) {
      throw new Error(`clsRelevanceRow: block ${i}: expected gradient and weight [${n}, heads, ${t}, ${t}], got [${g.shape.join(', ')}] and [${w.shape.join(', ')}]`);
    }
  }
  return tf.tidy(() => {
    let r: tf.Tensor = tf.oneHot(tf.zeros([n, 1], 'int32'), t).toFloat(); // [N, 1, T]
    for (let b = gradients.length - 1; b >= 0; b--) {
      const a = tf.mean(tf.relu(tf.mul(gradients[b], weights[b])), 1); // [N, T, T]
      r = tf.add(r, tf.matMul(r, a));
    }
    return tf.reshape(r, [n, t]) as tf.Tensor2D;
  });
}

/**
 * The row's entries after the first `prefix` tokens (class token, registers), divided by their
 * sum per item (a row without positive mass gives zeros).
 *
 * @returns `[N, T - prefix]`
 * @example
 * const patches = tokenShare(row, 1 + numRegisters); // [N, h * w]
 */
export function tokenShare(row: tf.Tensor2D, prefix: number): tf.Tensor2D {
  const [n, t] = row.shape;
  if (!(Number.isInteger(prefix) && prefix >= 0 && prefix < t)) throw new Error(`tokenShare: prefix must be an integer in [0, ${t - 1}], got ${prefix}`);
  return tf.tidy(() => {
    const rest = tf.slice(row, [0, prefix], [n, t - prefix]);
    const sum = tf.sum(rest, 1, true);
    return tf.div(rest, tf.where(tf.greater(sum, 0), sum, tf.onesLike(sum))) as tf.Tensor2D;
  });
}
