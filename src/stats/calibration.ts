import { toBinaryData, type BinaryLabels } from './binary_data';
import { fitLogistic } from './logistic';

/** How the predictions are binned. */
export type CalibrationStrategy = 'uniform' | 'quantile';

/** Options of {@link calibration}. */
export interface CalibrationOptions {
  /** Number of bins. Default 10. */
  bins?: number;
  /**
   * 'uniform': equal-width bins on [0, 1]; 'quantile': equal-count bins at the predictions'
   * quantiles. Both as scikit-learn's `calibration_curve` (right-closed bins). Default 'uniform'.
   */
  strategy?: CalibrationStrategy;
  /**
   * Predictions are clipped to [eps, 1 - eps] before the logit of the slope / intercept fits, so
   * a probability of exactly 0 or 1 stays finite. Default 1e-15.
   */
  eps?: number;
}

/** One non-empty bin of the reliability diagram. */
export interface CalibrationBin {
  /** Lower edge (exclusive, except for the first bin). */
  lower: number;
  /** Upper edge (inclusive). */
  upper: number;
  /** Cases in the bin. */
  count: number;
  /** Mean prediction (scikit-learn's `prob_pred`). */
  meanPredicted: number;
  /** Fraction of positives (scikit-learn's `prob_true`). */
  fractionPositive: number;
}

/**
 * Murphy's decomposition of the Brier score over the bins, with Stephenson et al. (2008)'s two
 * within-bin terms so that it is exact: brier = reliability - resolution + uncertainty +
 * withinBinVariance - withinBinCovariance.
 */
export interface BrierDecomposition {
  /** Σ n_k (p̄_k - ō_k)² / N: miscalibration (lower is better). */
  reliability: number;
  /** Σ n_k (ō_k - ō)² / N: discrimination between bins (higher is better). */
  resolution: number;
  /** ō (1 - ō): the Brier score of always predicting the prevalence. */
  uncertainty: number;
  /** Σ_k Σ_i∈k (p_i - p̄_k)² / N. */
  withinBinVariance: number;
  /** 2 Σ_k Σ_i∈k (o_i - ō_k)(p_i - p̄_k) / N. */
  withinBinCovariance: number;
}

/** Calibration of predicted probabilities against 0/1 outcomes. */
export interface CalibrationResult {
  /** Expected calibration error Σ (n_k / N) |ō_k - p̄_k| over the bins. */
  ece: number;
  /** Maximum calibration error max_k |ō_k - p̄_k|. */
  mce: number;
  /** Brier score mean (y - p)² (scikit-learn's `brier_score_loss`). */
  brier: number;
  /** The Brier score's decomposition over the same bins. */
  brierDecomposition: BrierDecomposition;
  /** Calibration slope: b of logit P(y) = a + b logit(p) (R `glm(y ~ lp, binomial)`); 1 is ideal. */
  slope: number;
  /** Calibration intercept (calibration-in-the-large): a of logit P(y) = a + logit(p) (slope fixed at 1); 0 is ideal. */
  intercept: number;
  /** a of the joint fit logit P(y) = a + b logit(p) (the intercept that goes with `slope`). */
  recalibrationIntercept: number;
  /** Non-empty bins, in increasing prediction. */
  bins: CalibrationBin[];
  /** Number of cases. */
  n: number;
}

/** numpy's `linspace(0, 1, k + 1)`: i * (1 / k), the last edge exactly 1. */
function uniformEdges(k: number): Float64Array {
  const step = 1 / k;
  const e = new Float64Array(k + 1);
  for (let i = 0; i < k; i++) e[i] = i * step;
  e[k] = 1;
  return e;
}

/** numpy's `percentile(p, linspace(0, 1, k + 1) * 100)` with the default linear method, bit for bit. */
function quantileEdges(sorted: Float64Array, k: number): Float64Array {
  const n = sorted.length;
  const grid = uniformEdges(k);
  const e = new Float64Array(k + 1);
  for (let i = 0; i <= k; i++) {
    const q = (grid[i] * 100) / 100;
    const v = (n - 1) * q;
    const lo = Math.floor(v);
    const hi = Math.min(lo + 1, n - 1);
    const t = v - lo;
    const a = sorted[lo];
    const b = sorted[hi];
    const d = b - a;
    // numpy's _lerp: a + d t, or b - d (1 - t) from t = 0.5 on.
    e[i] = t >= 0.5 ? b - d * (1 - t) : a + d * t;
  }
  return e;
}

/**
 * Calibration of predicted probabilities: the reliability-diagram bins, ECE and MCE, the Brier
 * score with its decomposition, and the calibration slope and intercept by logistic
 * recalibration on logit(p). Bins and Brier equal scikit-learn's `calibration_curve` and
 * `brier_score_loss`; slope and intercept equal R's `glm` fits. O(N) per bin pass (plus one sort
 * for quantile bins) and a few O(N) Newton steps.
 *
 * Throws on a probability outside [0, 1] (or NaN) and on the input errors of the other
 * statistics; one class may be absent (the slope is then NaN: separation).
 *
 * @example
 * const c = calibration(labels, probabilities);
 * console.log(`ECE ${c.ece.toFixed(3)}, Brier ${c.brier.toFixed(3)}, slope ${c.slope.toFixed(2)}`);
 */
export function calibration(labels: BinaryLabels, probabilities: ArrayLike<number>, options: CalibrationOptions = {}): CalibrationResult {
  const what = 'calibration';
  const data = toBinaryData(labels, probabilities, what, false);
  const { labels: y, scores: p } = data;
  const n = y.length;
  for (let i = 0; i < n; i++) {
    if (!(p[i] >= 0 && p[i] <= 1)) throw new Error(`${what}: probabilities must be in [0, 1], got ${p[i]} at index ${i}`);
  }
  const k = options.bins ?? 10;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`${what}: bins must be an integer >= 1, got ${k}`);
  const strategy = options.strategy ?? 'uniform';
  if (strategy !== 'uniform' && strategy !== 'quantile') throw new Error(`${what}: strategy must be 'uniform' or 'quantile', got '${String(strategy)}'`);
  const eps = options.eps ?? 1e-15;
  if (!(eps > 0 && eps < 0.5)) throw new Error(`${what}: eps must be in (0, 0.5), got ${eps}`);
  const edges = strategy === 'uniform' ? uniformEdges(k) : quantileEdges(p.slice().sort(), k);
  // searchsorted(edges[1:-1], p, 'left'): the number of inner edges strictly below p.
  const bin = new Int32Array(n);
  const sumP = new Float64Array(k);
  const sumY = new Float64Array(k);
  const count = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid + 1] < p[i]) lo = mid + 1;
      else hi = mid;
    }
    bin[i] = lo;
    sumP[lo] += p[i];
    sumY[lo] += y[i];
    count[lo]++;
  }
  const meanP = new Float64Array(k);
  const meanY = new Float64Array(k);
  const bins: CalibrationBin[] = [];
  let ece = 0;
  let mce = 0;
  let sumAll = 0;
  for (let b = 0; b < k; b++) {
    sumAll += sumY[b];
    if (count[b] === 0) continue;
    meanP[b] = sumP[b] / count[b];
    meanY[b] = sumY[b] / count[b];
    const gap = Math.abs(meanY[b] - meanP[b]);
    ece += (count[b] / n) * gap;
    mce = Math.max(mce, gap);
    bins.push({ lower: edges[b], upper: edges[b + 1], count: count[b], meanPredicted: meanP[b], fractionPositive: meanY[b] });
  }
  const prevalence = sumAll / n;
  let brier = 0;
  let wbv = 0;
  let wbc = 0;
  for (let i = 0; i < n; i++) {
    const b = bin[i];
    brier += (y[i] - p[i]) ** 2;
    wbv += (p[i] - meanP[b]) ** 2;
    wbc += (y[i] - meanY[b]) * (p[i] - meanP[b]);
  }
  let rel = 0;
  let res = 0;
  for (let b = 0; b < k; b++) {
    if (count[b] === 0) continue;
    rel += count[b] * (meanP[b] - meanY[b]) ** 2;
    res += count[b] * (meanY[b] - prevalence) ** 2;
  }
  const lp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    lp[i] = Math.log(q / (1 - q));
  }
  const joint = fitLogistic(y, lp);
  const offset = fitLogistic(y, lp, 1);
  return {
    ece,
    mce,
    brier: brier / n,
    brierDecomposition: {
      reliability: rel / n,
      resolution: res / n,
      uncertainty: prevalence * (1 - prevalence),
      withinBinVariance: wbv / n,
      withinBinCovariance: (2 * wbc) / n,
    },
    slope: joint.slope,
    intercept: offset.intercept,
    recalibrationIntercept: joint.intercept,
    bins,
    n,
  };
}
