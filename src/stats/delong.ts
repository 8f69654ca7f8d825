import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { normalQuantile, normalTwoSidedP } from './normal';
import { sortFloat64 } from './rank';
import { studentTwoSidedP } from './student_t';

/**
 * DeLong placements (structural components) of one ROC curve, computed in O(N) after one radix
 * sort, as in Sun & Xu (2014): one pass over the sorted scores with midranks for ties.
 */
export interface DelongPlacements {
  /** AUC, θ = mean of `cases`. */
  auc: number;
  /** [m] V10 of each positive in input order: (#negatives below + #tied / 2) / n. */
  cases: Float64Array;
  /** [n] V01 of each negative in input order: 1 - (#positives below + #tied / 2) / m. */
  controls: Float64Array;
}

/**
 * DeLong placements of one curve (pROC's `delongPlacements`, equal to its values bit for bit).
 *
 * @example
 * const v = delongPlacements([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * v.auc; // returns 0.75; v.cases is [0.5, 1], v.controls is [1, 0.5]
 */
export function delongPlacements(labels: BinaryLabels, scores: ArrayLike<number>): DelongPlacements {
  return placementsOf(toBinaryData(labels, scores, 'delongPlacements'));
}

/** Placements of already validated data. */
export function placementsOf(data: BinaryData): DelongPlacements {
  const { labels, scores, nPositive: m, nNegative: n } = data;
  const { order, sorted } = sortFloat64(scores);
  const total = order.length;
  const sortedLabels = new Uint8Array(total);
  for (let i = 0; i < total; i++) sortedLabels[i] = labels[order[i]];
  // Unnormalised placement per input index, then split into cases / controls in input order.
  const xy = new Float64Array(total);
  let posBelow = 0;
  let negBelow = 0;
  let sum = 0;
  let i = 0;
  while (i < total) {
    const v = sorted[i];
    let end = i;
    let pos = 0;
    while (end < total && sorted[end] === v) {
      pos += sortedLabels[end];
      end++;
    }
    const neg = end - i - pos;
    const caseValue = negBelow + neg / 2;
    const controlValue = posBelow + pos / 2;
    for (let j = i; j < end; j++) xy[order[j]] = sortedLabels[j] === 1 ? caseValue : controlValue;
    sum += pos * caseValue;
    posBelow += pos;
    negBelow += neg;
    i = end;
  }
  const cases = new Float64Array(m);
  const controls = new Float64Array(n);
  let ci = 0;
  let cj = 0;
  for (let k = 0; k < total; k++) {
    if (labels[k] === 1) cases[ci++] = xy[k] / n;
    else controls[cj++] = 1 - xy[k] / m;
  }
  return { auc: sum / m / n, cases, controls };
}

/** Σ (a_i - θa)(b_i - θb) / (k - 1), the sample covariance around the given centres. */
function centredCov(a: Float64Array, thetaA: number, b: Float64Array, thetaB: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - thetaA) * (b[i] - thetaB);
  return s / (a.length - 1);
}

/** DeLong variance of one AUC from its placements: S10/m + S01/n (NaN when m or n < 2). */
function placementVariance(v: DelongPlacements): number {
  const m = v.cases.length;
  const n = v.controls.length;
  if (m < 2 || n < 2) return NaN;
  return centredCov(v.cases, v.auc, v.cases, v.auc) / m + centredCov(v.controls, v.auc, v.controls, v.auc) / n;
}

/** Options of the DeLong functions. */
export interface DelongOptions {
  /** Confidence level of the interval, in (0, 1). Default 0.95. */
  confLevel?: number;
}

/** One AUC with its DeLong variance and confidence interval. */
export interface DelongAucResult {
  /** AUC. */
  auc: number;
  /** DeLong variance of the AUC (pROC's `var(roc, method = "delong")`); NaN with < 2 cases of a class. */
  variance: number;
  /** sqrt(variance), the standard error. */
  std: number;
  /** [lower, upper] normal interval θ ± z σ clipped to [0, 1] (pROC's `ci.auc(method = "delong")`). */
  ci: [number, number];
  /** The level of `ci`. */
  confLevel: number;
}

function checkConfLevel(confLevel: number, what: string): void {
  if (!(confLevel > 0 && confLevel < 1)) throw new Error(`${what}: confLevel must be in (0, 1), got ${confLevel}`);
}

/**
 * AUC with DeLong's variance and confidence interval, equal to pROC's `var(roc)` and
 * `ci.auc(roc, method = "delong")` (to ~1e-15). With fewer than 2 positives or 2 negatives the
 * variance and interval are NaN (pROC returns NA); one class absent throws.
 *
 * @example
 * const r = delongAuc(labels, scores);
 * console.log(`AUC ${r.auc.toFixed(3)} (95% CI ${r.ci[0].toFixed(3)}-${r.ci[1].toFixed(3)})`);
 */
export function delongAuc(labels: BinaryLabels, scores: ArrayLike<number>, options: DelongOptions = {}): DelongAucResult {
  const confLevel = options.confLevel ?? 0.95;
  checkConfLevel(confLevel, 'delongAuc');
  const v = placementsOf(toBinaryData(labels, scores, 'delongAuc'));
  const variance = placementVariance(v);
  const std = Math.sqrt(variance);
  const z = normalQuantile(1 - (1 - confLevel) / 2);
  const clip = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
  const ci: [number, number] = Number.isNaN(variance) ? [NaN, NaN] : [clip(v.auc - z * std), clip(v.auc + z * std)];
  return { auc: v.auc, variance, std, ci, confLevel };
}

/** DeLong's test of two correlated AUCs (same cases, two scores). */
export interface DelongPairedResult {
  /** AUC of the first scores. */
  auc1: number;
  /** AUC of the second scores. */
  auc2: number;
  /** [2, 2] row-major covariance matrix of (auc1, auc2). */
  covariance: [number, number, number, number];
  /** Standard error of auc1 - auc2. */
  std: number;
  /** z = (auc1 - auc2) / std; 0 when both the difference and its std are 0 (pROC's convention). */
  z: number;
  /** Two-sided p-value 2 Q(|z|) in linear scale, accurate far into the tail. */
  p: number;
  /** [lower, upper] confidence interval of auc1 - auc2 (not clipped), as pROC's `roc.test` conf.int. */
  ci: [number, number];
  /** The level of `ci`. */
  confLevel: number;
}

/**
 * DeLong's paired test of two ROC curves on the same cases (pROC's
 * `roc.test(roc1, roc2, method = "delong", paired = TRUE)`): z, two-sided p and the interval of the
 * difference. With fewer than 2 cases of a class z, p and the interval are NaN.
 *
 * @example
 * const t = delongTest(labels, modelA, modelB);
 * console.log(`AUC ${t.auc1.toFixed(3)} vs ${t.auc2.toFixed(3)}, p = ${t.p.toExponential(2)}`);
 */
export function delongTest(
  labels: BinaryLabels,
  scores1: ArrayLike<number>,
  scores2: ArrayLike<number>,
  options: DelongOptions = {},
): DelongPairedResult {
  const confLevel = options.confLevel ?? 0.95;
  checkConfLevel(confLevel, 'delongTest');
  const d1 = toBinaryData(labels, scores1, 'delongTest (scores1)');
  const d2 = toBinaryData(labels, scores2, 'delongTest (scores2)');
  const r = placementsOf(d1);
  const s = placementsOf(d2);
  const m = r.cases.length;
  const n = r.controls.length;
  let cov: [number, number, number, number] = [NaN, NaN, NaN, NaN];
  if (m >= 2 && n >= 2) {
    const x11 = centredCov(r.cases, r.auc, r.cases, r.auc);
    const x12 = centredCov(r.cases, r.auc, s.cases, s.auc);
    const x22 = centredCov(s.cases, s.auc, s.cases, s.auc);
    const y11 = centredCov(r.controls, r.auc, r.controls, r.auc);
    const y12 = centredCov(r.controls, r.auc, s.controls, s.auc);
    const y22 = centredCov(s.controls, s.auc, s.controls, s.auc);
    const c12 = x12 / m + y12 / n;
    cov = [x11 / m + y11 / n, c12, c12, x22 / m + y22 / n];
  }
  const d = r.auc - s.auc;
  // L S L' with L = (1, -1), summed in pROC's order.
  const std = Math.sqrt(cov[0] - cov[2] - (cov[1] - cov[3]));
  let z = d / std;
  if (Number.isNaN(z) && d === 0 && std === 0) z = 0;
  const crit = normalQuantile(1 - (1 - confLevel) / 2);
  return {
    auc1: r.auc,
    auc2: s.auc,
    covariance: cov,
    std,
    z,
    p: normalTwoSidedP(z),
    ci: [d - crit * std, d + crit * std],
    confLevel,
  };
}

/** DeLong's test of two AUCs from different cases. */
export interface DelongUnpairedResult {
  /** AUC of the first sample. */
  auc1: number;
  /** AUC of the second sample. */
  auc2: number;
  /** t = (auc1 - auc2) / sqrt(var1 + var2). */
  t: number;
  /** Welch-Satterthwaite degrees of freedom, as pROC. */
  df: number;
  /** Two-sided p-value from Student's t with `df` degrees of freedom, in linear scale. */
  p: number;
}

/**
 * DeLong's unpaired test of two ROC curves on different cases (pROC's
 * `roc.test(roc1, roc2, method = "delong", paired = FALSE)`): t = Δ / sqrt(V1 + V2) against Student's
 * t with df = (V1 + V2)^2 / (V1^2 / (N1 - 1) + V2^2 / (N2 - 1)). NaN with < 2 cases of a class.
 *
 * @example
 * const t = delongTestUnpaired(labelsA, scoresA, labelsB, scoresB);
 * t.p; // two-sided p
 */
export function delongTestUnpaired(
  labels1: BinaryLabels,
  scores1: ArrayLike<number>,
  labels2: BinaryLabels,
  scores2: ArrayLike<number>,
): DelongUnpairedResult {
  const r = placementsOf(toBinaryData(labels1, scores1, 'delongTestUnpaired (sample 1)'));
  const s = placementsOf(toBinaryData(labels2, scores2, 'delongTestUnpaired (sample 2)'));
  const v1 = placementVariance(r);
  const v2 = placementVariance(s);
  const n1 = r.cases.length + r.controls.length;
  const n2 = s.cases.length + s.controls.length;
  const t = (r.auc - s.auc) / Math.sqrt(v1 + v2);
  const df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1));
  return { auc1: r.auc, auc2: s.auc, t, df, p: studentTwoSidedP(t, df) };
}
