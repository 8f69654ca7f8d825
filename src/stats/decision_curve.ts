import { toBinaryData, type BinaryLabels } from './binary_data';
import { sortFloat64 } from './rank';

/** Net benefit of a model and of the default strategies over threshold probabilities. */
export interface DecisionCurve {
  /** [T] threshold probabilities p_t in (0, 1). */
  thresholds: Float64Array;
  /** [T] net benefit of treating cases with p >= p_t: TP/N - FP/N · p_t / (1 - p_t). */
  netBenefit: Float64Array;
  /** [T] net benefit of treating everyone: π - (1 - π) p_t / (1 - p_t). */
  treatAll: Float64Array;
  /** [T] net benefit of treating no one: 0. */
  treatNone: Float64Array;
  /** π, the prevalence. */
  prevalence: number;
}

/** Options of {@link decisionCurve}. */
export interface DecisionCurveOptions {
  /** Threshold probabilities, each in (0, 1). Default 0.01, 0.02, ..., 0.99. */
  thresholds?: ArrayLike<number>;
}

/**
 * Vickers & Elkin (2006)'s decision curve: the net benefit of acting on the model at each
 * threshold probability (treat when p >= p_t), beside treating everyone and no one. O(N) after one
 * radix sort, plus a binary search per threshold.
 *
 * @example
 * const dc = decisionCurve(labels, probabilities);
 * dc.netBenefit[19]; // net benefit at p_t = 0.2
 */
export function decisionCurve(labels: BinaryLabels, probabilities: ArrayLike<number>, options: DecisionCurveOptions = {}): DecisionCurve {
  const what = 'decisionCurve';
  const data = toBinaryData(labels, probabilities, what, false);
  const n = data.labels.length;
  const thresholds = Float64Array.from(options.thresholds ?? Array.from({ length: 99 }, (_, i) => (i + 1) / 100));
  for (const t of thresholds) if (!(t > 0 && t < 1)) throw new Error(`${what}: thresholds must be in (0, 1), got ${t}`);
  const { order, sorted } = sortFloat64(data.scores);
  // positivesFrom[i] = positives among sorted[i..n-1].
  const positivesFrom = new Int32Array(n + 1);
  for (let i = n - 1; i >= 0; i--) positivesFrom[i] = positivesFrom[i + 1] + data.labels[order[i]];
  const prevalence = data.nPositive / n;
  const t = thresholds.length;
  const netBenefit = new Float64Array(t);
  const treatAll = new Float64Array(t);
  for (let j = 0; j < t; j++) {
    const pt = thresholds[j];
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < pt) lo = mid + 1;
      else hi = mid;
    }
    const tp = positivesFrom[lo];
    const fp = n - lo - tp;
    const odds = pt / (1 - pt);
    netBenefit[j] = tp / n - (fp / n) * odds;
    treatAll[j] = prevalence - (1 - prevalence) * odds;
  }
  return { thresholds, netBenefit, treatAll, treatNone: new Float64Array(t), prevalence };
}
