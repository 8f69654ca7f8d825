import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { sortFloat64 } from './rank';

/**
 * Area under the ROC curve as the Mann-Whitney probability P(score_pos > score_neg) + P(=)/2:
 * ties count one half, a higher score means "more positive". Equals pROC's `auc` (direction "<")
 * and scikit-learn's `roc_auc_score`. O(N) after a radix sort.
 *
 * Throws when labels and scores differ in length, a label is not 0/1, a score is NaN, or one class
 * is absent (scikit-learn raises and pROC stops there too). ±Infinity scores are allowed.
 *
 * @example
 * auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // returns 0.75
 */
export function auc(labels: BinaryLabels, scores: ArrayLike<number>): number {
  return aucOf(toBinaryData(labels, scores, 'auc'));
}

/** AUC of already validated data (no copy). */
export function aucOf(data: BinaryData): number {
  const { labels, scores, nPositive, nNegative } = data;
  const { order, sorted } = sortFloat64(scores);
  const n = order.length;
  // sum over cases of (#controls below + #controls tied / 2): exact in doubles (half-integers < 2^53).
  let sum = 0;
  let negBelow = 0;
  let i = 0;
  while (i < n) {
    const v = sorted[i];
    let pos = 0;
    const start = i;
    while (i < n && sorted[i] === v) {
      pos += labels[order[i]];
      i++;
    }
    const neg = i - start - pos;
    sum += pos * (negBelow + neg / 2);
    negBelow += neg;
  }
  return sum / nPositive / nNegative;
}

/**
 * Area under a curve given by points (x, y) with the trapezoidal rule, as scikit-learn's
 * `metrics.auc`: x must be monotonic (either direction); the area is then positive.
 *
 * @example
 * trapezoidArea([0, 0.5, 1], [0, 0.75, 1]); // returns 0.625
 */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`trapezoidArea: x and y must have equal length, got ${x.length} and ${y.length}`);
  if (x.length < 2) throw new Error(`trapezoidArea: at least 2 points are needed, got ${x.length}`);
  let increasing = true;
  let decreasing = true;
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) increasing = false;
    if (x[i] > x[i - 1]) decreasing = false;
  }
  if (!increasing && !decreasing) throw new Error('trapezoidArea: x must be monotonic increasing or decreasing');
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return decreasing && !increasing ? -area : area;
}
