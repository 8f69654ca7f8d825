import { toBinaryData, type BinaryLabels } from './binary_data';
import { sortFloat64 } from './rank';

/** Options of {@link rocCurve}. */
export interface RocCurveOptions {
  /**
   * Drop points on straight segments of the curve (scikit-learn's `drop_intermediate`, default true
   * there and here). The authors' figures use false.
   */
  dropIntermediate?: boolean;
  /**
   * First threshold, the point (0, 0) where nothing is called positive: `'maxPlusOne'` is
   * scikit-learn < 1.3 (`thresholds[0] = max(score) + 1`, the Debian 12 python3-sklearn 1.2 our
   * fixtures come from); `'infinity'` is scikit-learn >= 1.3 (`np.inf`). Default `'maxPlusOne'`.
   */
  firstThreshold?: 'maxPlusOne' | 'infinity';
}

/** An ROC curve: point k calls a case positive when its score >= thresholds[k]. */
export interface RocCurve {
  /** [K] false positive rate (1 - specificity), non-decreasing from 0 to 1. */
  fpr: Float64Array;
  /** [K] true positive rate (sensitivity), non-decreasing from 0 to 1. */
  tpr: Float64Array;
  /** [K] decreasing score thresholds. */
  thresholds: Float64Array;
}

/**
 * The ROC curve exactly as scikit-learn's `roc_curve(y_true, y_score)` (bit for bit: same points,
 * same thresholds, same float divisions). Ties share one point.
 *
 * Degenerate input follows scikit-learn: with no negatives fpr is all NaN, with no positives tpr
 * is all NaN (scikit-learn warns); length mismatch, labels other than 0/1 and NaN scores throw.
 *
 * @example
 * const { fpr, tpr, thresholds } = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * // fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1], thresholds [1.8, 0.8, 0.4, 0.35, 0.1]
 */
export function rocCurve(labels: BinaryLabels, scores: ArrayLike<number>, options: RocCurveOptions = {}): RocCurve {
  const data = toBinaryData(labels, scores, 'rocCurve', false);
  const { labels: y, scores: s } = data;
  const { order, sorted } = sortFloat64(s);
  const n = order.length;
  // Walk scores from high to low; one point per distinct score (scikit-learn's threshold_idxs).
  const tpsAll: number[] = [];
  const fpsAll: number[] = [];
  const thrAll: number[] = [];
  let tp = 0;
  let fp = 0;
  let i = n - 1;
  while (i >= 0) {
    const v = sorted[i];
    while (i >= 0 && sorted[i] === v) {
      if (y[order[i]] === 1) tp++;
      else fp++;
      i--;
    }
    tpsAll.push(tp);
    fpsAll.push(fp);
    thrAll.push(v);
  }
  let keep: number[];
  const k = tpsAll.length;
  if ((options.dropIntermediate ?? true) && k > 2) {
    // Keep the ends and every point where the second difference of fps or tps is non-zero.
    keep = [0];
    for (let j = 1; j < k - 1; j++) {
      const d2f = fpsAll[j + 1] - 2 * fpsAll[j] + fpsAll[j - 1];
      const d2t = tpsAll[j + 1] - 2 * tpsAll[j] + tpsAll[j - 1];
      if (d2f !== 0 || d2t !== 0) keep.push(j);
    }
    keep.push(k - 1);
  } else {
    keep = Array.from({ length: k }, (_, j) => j);
  }
  const m = keep.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  const fpTotal = fpsAll[k - 1];
  const tpTotal = tpsAll[k - 1];
  thresholds[0] = (options.firstThreshold ?? 'maxPlusOne') === 'infinity' ? Infinity : thrAll[keep[0]] + 1;
  for (let j = 0; j < keep.length; j++) {
    fpr[j + 1] = fpTotal > 0 ? fpsAll[keep[j]] / fpTotal : NaN;
    tpr[j + 1] = tpTotal > 0 ? tpsAll[keep[j]] / tpTotal : NaN;
    thresholds[j + 1] = thrAll[keep[j]];
  }
  if (!(fpTotal > 0)) fpr[0] = NaN;
  if (!(tpTotal > 0)) tpr[0] = NaN;
  return { fpr, tpr, thresholds };
}
