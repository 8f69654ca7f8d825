import * as tf from '@tensorflow/tfjs';
import { batchMatMul, batchMatMulTransposeB } from './batch_matmul';
import { leanScale } from './lean_shape';

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /**
   * Additive bias on the scores, broadcastable to `[B, heads, Tq, Tk]`: 0 where attention is
   * allowed and `-Infinity` where it is not (see {@link keyPaddingBias}).
   */
  mask?: tf.Tensor;
  /** Also return the attention probabilities `[B, heads, Tq, Tk]` (default false). */
  returnWeights?: boolean;
  /** Factor on the scores (default `headDim^-0.5`). */
  scale?: number;
}

/** Output of {@link scaledDotProductAttention}. */
export interface AttentionResult {
  /** `[B, heads, Tq, d]`. */
  output: tf.Tensor4D;
  /** `[B, heads, Tq, Tk]`, only when `returnWeights` was set. */
  weights?: tf.Tensor4D;
}

/**
 * The attention core shared by every transformer layer: `softmax(scale q k^T + mask) v` per
 * head, with `q: [B, heads, Tq, d]`, `k, v: [B, heads, Tk, d]`. The scale multiplies `q` before
 * the product, as DINOv2's and timm's `Attention`. Both products use plain matMuls with explicit
 * transposes and a gradient written the same way (fast on wasm). No dropout.
 *
 * @example
 * const q = tf.randomNormal([1, 6, 257, 64]) as tf.Tensor4D;
 * const { output, weights } = scaledDotProductAttention(q, q, q, { returnWeights: true });
 * output.shape; // [1, 6, 257, 64]
 * weights?.shape; // [1, 6, 257, 257]
 */
export function scaledDotProductAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  options: ScaledDotProductAttentionOptions = {},
): AttentionResult {
  const [b, h, , d] = q.shape;
  const sameBatch = (t: tf.Tensor): boolean => t.rank === 4 && t.shape[0] === b && t.shape[1] === h && t.shape[3] === d;
  if (q.rank !== 4 || !sameBatch(k) || !sameBatch(v) || k.shape[2] !== v.shape[2]) {
    throw new Error(
      `scaledDotProductAttention: expected q [B, heads, Tq, d] and k, v [B, heads, Tk, d], got [${q.shape.join(', ')}], [${k.shape.join(', ')}], [${v.shape.join(', ')}]`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  return tf.tidy(() => {
    let scores = batchMatMulTransposeB(leanScale(q, scale), k);
    if (options.mask) scores = tf.add(scores, options.mask);
    const weights = tf.softmax(scores) as tf.Tensor4D;
    const output = batchMatMul(weights, v) as tf.Tensor4D;
    return options.returnWeights ? { output, weights } : { output };
  });
}

/**
 * The additive mask for {@link scaledDotProductAttention} from a key padding mask `[B, Tk]`
 * (true or 1 = padded key, ignored; PyTorch's `key_padding_mask`): `[B, 1, 1, Tk]` holding 0 or
 * `-Infinity`.
 *
 * @example
 * keyPaddingBias(tf.tensor2d([[0, 0, 1]], [1, 3], 'bool')).arraySync(); // [[[[0, 0, -Infinity]]]]
 */
export function keyPaddingBias(keyPaddingMask: tf.Tensor2D): tf.Tensor4D {
  if (keyPaddingMask.rank !== 2) {
    throw new Error(`keyPaddingBias: expected a key padding mask [B, Tk], got shape [${keyPaddingMask.shape.join(', ')}]`);
  }
  const [b, t] = keyPaddingMask.shape;
  return tf.tidy(() => {
    const padded = tf.cast(keyPaddingMask, 'bool');
    const bias = tf.where(padded, tf.fill([b, t], -Infinity), tf.zeros([b, t]));
    return tf.reshape(bias, [b, 1, 1, t]) as tf.Tensor4D;
  });
}
