import * as tf from '@tensorflow/tfjs';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** A weight per class, as torch's `weight` (default all 1). */
  weight?: readonly number[];
  /** 'mean' (default; weighted mean when `weight` is given, as torch), 'sum' or 'none' (`[B]`). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * `torch.nn.functional.cross_entropy` for class indices: `-log softmax(logits)[y]`, optionally
 * weighted per class. With weights, 'mean' divides by the sum of the weights of the targets, not
 * by the batch size, as torch does.
 *
 * @param logits `[B, C]` unnormalised scores.
 * @param labels `[B]` class indices in `[0, C)`, as numbers or an int32 tensor.
 * @example
 * const loss = crossEntropy(tf.tensor2d([[2, 0], [0, 1]]), [0, 1]); // scalar ~ 0.2201
 */
export function crossEntropy(logits: tf.Tensor, labels: readonly number[] | tf.Tensor1D, options: CrossEntropyOptions = {}): tf.Tensor {
  if (logits.rank !== 2) throw new Error(`crossEntropy: expected logits [B, C], got shape [${logits.shape.join(', ')}]`);
  const [b, c] = logits.shape;
  const labelValues = labels instanceof tf.Tensor ? Array.from(labels.dataSync()) : labels;
  if (labelValues.length !== b) throw new Error(`crossEntropy: expected ${b} labels for logits [${b}, ${c}], got ${labelValues.length}`);
  for (const y of labelValues) {
    if (!Number.isInteger(y) || y < 0 || y >= c) throw new Error(`crossEntropy: label ${y} outside the classes [0, ${c})`);
  }
  const weight = options.weight;
  if (weight && weight.length !== c) throw new Error(`crossEntropy: expected ${c} class weights, got ${weight.length}`);
  const reduction = options.reduction ?? 'mean';
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labelValues as number[], 'int32'), c);
    // [B] negative log-likelihood of each target.
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1));
    const w = weight ? tf.tensor1d(labelValues.map((y) => weight[y])) : null;
    const per = w ? tf.mul(nll, w) : nll;
    if (reduction === 'none') return per;
    if (reduction === 'sum') return tf.sum(per);
    return w ? tf.div(tf.sum(per), tf.sum(w)) : tf.mean(per);
  });
}
