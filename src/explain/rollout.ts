import * as tf from '@tensorflow/tfjs';

/** How the heads of one block are fused before the rollout. */
export type HeadFusion = 'mean' | 'max' | 'min';

/** Options of {@link attentionRollout}. */
export interface RolloutOptions {
  /** Head fusion (default 'mean'). */
  headFusion?: HeadFusion;
}

/**
 * Attention rollout (Abnar & Zuidema 2020) of a ViT, per image: each block's heads are fused,
 * the identity is added for the residual path, rows are renormalised to sum 1, and the blocks are
 * multiplied from the last to the first. Returns the CLS row of the product over the patch tokens
 * (registers skipped), renormalised to sum 1 per image like the plane attention.
 *
 * Only the CLS row is propagated (`r <- r * A_l`, last block first), so the cost is
 * `blocks * T^2` per image instead of `blocks * T^3`.
 *
 * @param attentions every block's attention, first block first, each `[N, heads, T, T]`
 * @param numPrefixTokens CLS plus registers
 * @param gridSize patch grid `[h, w]`
 * @returns `[N, h, w]`
 * @example
 * const enc = encoder.encode(images, { attention: 'all' });
 * const r = attentionRollout(enc.attentions!, enc.numPrefixTokens!, enc.gridSize!, { headFusion: 'max' });
 */
export function attentionRollout(
  attentions: readonly tf.Tensor[],
  numPrefixTokens: number,
  gridSize: readonly [number, number],
  options: RolloutOptions = {},
): tf.Tensor3D {
  const { headFusion = 'mean' } = options;
  if (headFusion !== 'mean' && headFusion !== 'max' && headFusion !== 'min') {
    throw new Error(`attentionRollout: headFusion must be 'mean', 'max' or 'min', got '${String(headFusion)}'`);
  }
  if (attentions.length === 0) throw new Error('attentionRollout: expected the attention of at least one block, got none');
  const [n, , t] = attentions[0].shape;
  for (const [i, a] of attentions.entries()) {
    if (a.rank !== 4 || a.shape[0] !== n || a.shape[2] !== t || a.shape[3] !== t) {
      throw new Error(`attentionRollout: block ${i}: expected [${n}, heads, ${t}, ${t}], got [${a.shape.join(', ')}]`);
    }
  }
  const patches = gridSize[0] * gridSize[1];
  if (t - numPrefixTokens !== patches || numPrefixTokens < 1) {
    throw new Error(`attentionRollout: ${t} tokens do not split into ${numPrefixTokens} prefix tokens and a ${gridSize[0]}x${gridSize[1]} grid`);
  }
  return tf.tidy(() => {
    // r: the CLS row of the product so far, [N, 1, T].
    let r: tf.Tensor = tf.oneHot(tf.zeros([n, 1], 'int32'), t).toFloat();
    for (let l = attentions.length - 1; l >= 0; l--) {
      const a = attentions[l];
      const fused = headFusion === 'mean' ? tf.mean(a, 1) : headFusion === 'max' ? tf.max(a, 1) : tf.min(a, 1); // [N, T, T]
      // Row sums of fused + I, laid out along the columns of r: [N, 1, T].
      const rowSum = tf.reshape(tf.add(tf.sum(fused, -1), 1), [n, 1, t]);
      // r (F + I) / s  =  u F + u  with u = r / s (s divides row j of F + I, i.e. r's entry j).
      const u = tf.div(r, rowSum);
      r = tf.add(tf.matMul(u, fused), u);
    }
    const row = tf.reshape(tf.slice(r, [0, 0, numPrefixTokens], [n, 1, patches]), [n, patches]);
    return tf.reshape(tf.div(row, tf.sum(row, -1, true)), [n, gridSize[0], gridSize[1]]) as tf.Tensor3D;
  });
}
