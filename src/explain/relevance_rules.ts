import * as tf from '@tensorflow/tfjs';

/**
 * The layer-wise relevance propagation rules of Chefer et al. (CVPR 2021, "Transformer
 * Interpretability Beyond Attention Visualization", Sec. 3.1), as tensor formulas. Relevance
 * passes unchanged through element-wise layers (LayerNorm, GELU/ReLU, softmax, LayerScale,
 * dropout); Linear layers take the alpha-beta rule with alpha = 1, beta = 0 (eq. 3); the binary
 * operators, skip connections and the two attention products, take the gradient x input rule
 * (eq. 2) on both operands, normalised per item so relevance is conserved (eqs. 5-6). Biases
 * receive no relevance. Every function runs inside `tf.tidy` by its caller or itself.
 */

/** `a / b` where `b != 0`, and 0 where `b == 0` (LRP's stabilised division). */
export function safeDiv(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const nz = tf.notEqual(b, 0);
    return tf.where(nz, tf.div(a, tf.where(nz, b, tf.onesLike(b))), tf.zerosLike(tf.add(a, b)));
  });
}

/**
 * The alpha-1 beta-0 rule through `y = x W (+ b)` (eq. 3): `R_j = sum_i (x_j w_ji)^+ /
 * sum_j' (x_j' w_j'i)^+ R_i`, computed with the positive and negative parts of `x` and `W`.
 *
 * @param x `[..., in]` the layer's input
 * @param w `[in, out]` (mst-ts's Linear layout)
 * @param relevance `[..., out]`
 * @returns `[..., in]`
 * @example
 * const rIn = lrpLinear(hidden, fc2.weight, rOut);
 */
export function lrpLinear(x: tf.Tensor, w: tf.Tensor, relevance: tf.Tensor): tf.Tensor {
  const [inF, outF] = w.shape;
  if (w.rank !== 2 || x.shape[x.rank - 1] !== inF || relevance.shape[relevance.rank - 1] !== outF) {
    throw new Error(`lrpLinear: expected x [..., ${inF}] and relevance [..., ${outF}] for a weight [${w.shape.join(', ')}], got [${x.shape.join(', ')}] and [${relevance.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, inF]);
    const xp = tf.relu(x2);
    const xn = tf.minimum(x2, 0);
    const wp = tf.relu(w);
    const wn = tf.minimum(w, 0);
    const z = tf.add(tf.matMul(xp, wp), tf.matMul(xn, wn));
    const s = safeDiv(tf.reshape(relevance, [-1, outF]), z);
    const r = tf.add(tf.mul(xp, tf.matMul(s, tf.transpose(wp))), tf.mul(xn, tf.matMul(s, tf.transpose(wn))));
    return tf.reshape(r, x.shape);
  });
}

/**
 * Eqs. 5-6: rescales the relevances of the two operands of a binary operator so that they keep
 * their share `|sum R_u| / (|sum R_u| + |sum R_v|)` and together sum to the output's relevance,
 * per item (sums over every axis but the first).
 *
 * @example
 * const [ru, rv] = normaliseBinary(rawU, rawV, rOut);
 */
export function normaliseBinary(ru: tf.Tensor, rv: tf.Tensor, relevance: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const sum = (t: tf.Tensor) => tf.reshape(tf.sum(tf.reshape(t, [t.shape[0], -1]), 1), [t.shape[0], ...t.shape.slice(1).map(() => 1)]);
    const su = sum(ru);
    const sv = sum(rv);
    const denom = tf.add(tf.abs(su), tf.abs(sv));
    // R_u sum(R) |s_u| / ((|s_u| + |s_v|) s_u) = R_u sum(R) sign(s_u) / (|s_u| + |s_v|).
    const scale = (s: tf.Tensor, r: tf.Tensor) => tf.mul(r, safeDiv(tf.mul(sum(relevance), tf.sign(s)), denom));
    return [scale(su, ru), scale(sv, rv)];
  });
}

/**
 * The skip connection `y = u + v` (eq. 2 for a sum: `R_u = u R / y`), normalised (eqs. 5-6).
 *
 * @example
 * const [rSkip, rBranch] = lrpAdd(x, branch, rOut);
 */
export function lrpAdd(u: tf.Tensor, v: tf.Tensor, relevance: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const s = safeDiv(relevance, tf.add(u, v));
    const ru = tf.mul(u, s);
    const rv = tf.mul(v, s);
    return normaliseBinary(ru, rv, relevance);
  });
}

/**
 * The batched product `y = a b` (`a: [..., m, k]`, `b: [..., k, n]`): eq. 2 on both operands,
 * `R_a = a * ((R / y) b^T)`, `R_b = b * (a^T (R / y))`, normalised (eqs. 5-6).
 *
 * @example
 * const [rAttention, rValues] = lrpMatMul(attention, values, rHeads);
 */
export function lrpMatMul(a: tf.Tensor, b: tf.Tensor, relevance: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const t = (x: tf.Tensor) => {
      const perm = x.shape.map((_, i) => i);
      [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
      return tf.transpose(x, perm);
    };
    const s = safeDiv(relevance, tf.matMul(a, b));
    const ra = tf.mul(a, tf.matMul(s, t(b)));
    const rb = tf.mul(b, tf.matMul(t(a), s));
    return normaliseBinary(ra, rb, relevance);
  });
}
