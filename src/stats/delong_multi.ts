import { toBinaryData, type BinaryLabels } from './binary_data';
import { chiSquareSf } from './chi_square';
import { placementsOf, type DelongOptions } from './delong';
import { normalQuantile, normalTwoSidedP } from './normal';
import { pAdjust } from './p_adjust';
import { symmetricEigen } from './symmetric_eigen';

/** One model's AUC with its DeLong variance and interval. */
export interface DelongModel {
  /** AUC. */
  auc: number;
  /** DeLong variance (NaN with fewer than 2 cases of a class). */
  variance: number;
  /** sqrt(variance). */
  std: number;
  /** [lower, upper] normal interval clipped to [0, 1], as pROC's `ci.auc(method = "delong")`. */
  ci: [number, number];
}

/** DeLong's paired test of one pair of models, with the p-value adjusted over all pairs. */
export interface DelongPair {
  /** Index of the first model. */
  i: number;
  /** Index of the second model. */
  j: number;
  /** AUC of model i. */
  auc1: number;
  /** AUC of model j. */
  auc2: number;
  /** z = (auc1 - auc2) / std(auc1 - auc2), as pROC's `roc.test(method = "delong", paired = TRUE)`. */
  z: number;
  /** Two-sided p-value. */
  p: number;
  /** Holm-adjusted p over all k (k - 1) / 2 pairs (R's `p.adjust(p, "holm")`). */
  pHolm: number;
  /** Benjamini-Hochberg-adjusted p over all pairs (R's `p.adjust(p, "BH")`). */
  pBH: number;
  /** [lower, upper] interval of auc1 - auc2 (not clipped). */
  ci: [number, number];
}

/** DeLong (1988)'s chi-square test that all k AUCs are equal. */
export interface DelongGlobalTest {
  /** (L θ)' (L S L')^+ (L θ) with the (k - 1) x k successive-difference contrast L. */
  chi2: number;
  /** Degrees of freedom: the rank of L S L' (k - 1 unless models are perfectly correlated). */
  df: number;
  /** Upper-tail chi-square p-value. */
  p: number;
}

/** All pairwise and the global DeLong comparison of several models on the same cases. */
export interface DelongMultiResult {
  /** [k] each model's AUC, variance and interval. */
  models: DelongModel[];
  /** [k][k] DeLong covariance matrix of the AUCs. */
  covariance: number[][];
  /** [k (k - 1) / 2] every pair i < j, in order (0, 1), (0, 2), ..., (1, 2), ... */
  pairwise: DelongPair[];
  /** The chi-square test of equal AUCs. */
  global: DelongGlobalTest;
  /** The level of the intervals. */
  confLevel: number;
}

/** Eigenvalues below this fraction of the largest count as zero in the pseudo-inverse. */
const RANK_TOLERANCE = 1e-10;

/**
 * Compares k >= 2 models scored on the same cases: each AUC with its DeLong interval, the k x k
 * DeLong covariance, every pairwise paired DeLong test (each equal to pROC's `roc.test`) with Holm
 * and Benjamini-Hochberg adjusted p-values, and DeLong, DeLong & Clarke-Pearson (1988)'s
 * chi-square test of H0: all AUCs equal, θ' L' (L S L')^+ L θ on k - 1 degrees of freedom (the
 * statistic does not depend on which full-rank contrast L is used; a pseudo-inverse drops
 * directions of zero variance, e.g. two identical models, and lowers df accordingly).
 * O(k² N) after one radix sort per model.
 *
 * @example
 * const r = delongMulti(labels, [mst, resnet, radiologist]);
 * r.global.p; // p-value of "all three AUCs are equal"
 * r.pairwise.map((t) => `${t.i} vs ${t.j}: p = ${t.pHolm}`); // Holm-adjusted
 */
export function delongMulti(labels: BinaryLabels, scores: readonly ArrayLike<number>[], options: DelongOptions = {}): DelongMultiResult {
  const confLevel = options.confLevel ?? 0.95;
  if (!(confLevel > 0 && confLevel < 1)) throw new Error(`delongMulti: confLevel must be in (0, 1), got ${confLevel}`);
  const k = scores.length;
  if (k < 2) throw new Error(`delongMulti: expected at least 2 score arrays, got ${k}`);
  const placements = scores.map((s, i) => placementsOf(toBinaryData(labels, s, `delongMulti (scores ${i})`)));
  const m = placements[0].cases.length;
  const n = placements[0].controls.length;
  const theta = placements.map((v) => v.auc);
  const cov: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(NaN));
  if (m >= 2 && n >= 2) {
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        const va = placements[a];
        const vb = placements[b];
        let sx = 0;
        for (let i = 0; i < m; i++) sx += (va.cases[i] - va.auc) * (vb.cases[i] - vb.auc);
        let sy = 0;
        for (let i = 0; i < n; i++) sy += (va.controls[i] - va.auc) * (vb.controls[i] - vb.auc);
        cov[a][b] = cov[b][a] = sx / (m - 1) / m + sy / (n - 1) / n;
      }
    }
  }
  const crit = normalQuantile(1 - (1 - confLevel) / 2);
  const clip = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
  const models = theta.map((auc, a) => {
    const variance = cov[a][a];
    const std = Math.sqrt(variance);
    const ci: [number, number] = Number.isNaN(variance) ? [NaN, NaN] : [clip(auc - crit * std), clip(auc + crit * std)];
    return { auc, variance, std, ci };
  });
  const pairs: Omit<DelongPair, 'pHolm' | 'pBH'>[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const d = theta[a] - theta[b];
      // L S L' with L = (1, -1), summed in pROC's order (as delongTest).
      const std = Math.sqrt(cov[a][a] - cov[b][a] - (cov[a][b] - cov[b][b]));
      let z = d / std;
      if (Number.isNaN(z) && d === 0 && std === 0) z = 0;
      pairs.push({ i: a, j: b, auc1: theta[a], auc2: theta[b], z, p: normalTwoSidedP(z), ci: [d - crit * std, d + crit * std] });
    }
  }
  const holm = pAdjust(pairs.map((t) => t.p), 'holm');
  const bh = pAdjust(pairs.map((t) => t.p), 'BH');
  const pairwise = pairs.map((t, i) => ({ ...t, pHolm: holm[i], pBH: bh[i] }));
  return { models, covariance: cov, pairwise, global: globalTest(theta, cov), confLevel };
}

/** The chi-square contrast test with L = successive differences (row r: e_r - e_{r+1}). */
function globalTest(theta: number[], cov: number[][]): DelongGlobalTest {
  const k = theta.length;
  if (cov[0][0] !== cov[0][0]) return { chi2: NaN, df: 0, p: NaN };
  const r = k - 1;
  const lt = Array.from({ length: r }, (_, i) => theta[i] - theta[i + 1]);
  // (L S L')[i][j] = S[i][j] - S[i][j+1] - S[i+1][j] + S[i+1][j+1]
  const lsl = Array.from({ length: r }, (_, i) =>
    Array.from({ length: r }, (_, j) => cov[i][j] - cov[i][j + 1] - cov[i + 1][j] + cov[i + 1][j + 1]),
  );
  const { values, vectors } = symmetricEigen(lsl);
  const largest = Math.max(...values);
  if (!(largest > 0)) return { chi2: NaN, df: 0, p: NaN };
  let chi2 = 0;
  let df = 0;
  for (let e = 0; e < r; e++) {
    if (!(values[e] > largest * RANK_TOLERANCE)) continue;
    let proj = 0;
    for (let i = 0; i < r; i++) proj += vectors[e][i] * lt[i];
    chi2 += (proj * proj) / values[e];
    df++;
  }
  return { chi2, df, p: chiSquareSf(chi2, df) };
}
