import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { normalTwoSidedP } from './normal';
import { sortFloat64 } from './rank';
import { mean, quantileSorted, standardDeviation } from './summary';
import { Rng } from '../utils/rng';

/**
 * A uniform index in [0, n): the same value as `rng.int(n)` (floor(u n) with the same draw), without
 * its argument check and global `Math` lookup, which dominate the replicate loops (and are ~100x
 * slower under jest's vm sandbox).
 */
function draw(rng: Rng, n: number): number {
  return (rng.uniform() * n) >>> 0;
}

/** Options shared by the bootstrap functions. */
export interface BootstrapOptions {
  /** Number of replicates. Default 1000 (pROC's default is 2000). */
  replicates?: number;
  /** Seed of the {@link Rng} that draws the resamples. Default 0. */
  seed?: number;
  /**
   * Resample positives and negatives separately, keeping their counts (pROC's default,
   * `boot.stratified = TRUE`). Default true. The MST authors' figures resample all cases together
   * (false); a replicate that then lacks a class yields NaN and is left out, as in pROC.
   */
  stratified?: boolean;
  /** Level of the percentile interval, in (0, 1). Default 0.95. */
  confLevel?: number;
}

/** Bootstrap distribution of a statistic and its summaries. */
export interface BootstrapResult {
  /** The statistic on the original data. */
  estimate: number;
  /** Mean over the valid replicates. */
  mean: number;
  /** Standard deviation over the valid replicates (ddof 1): the "± std" of the paper's tables. */
  std: number;
  /** [lower, upper] percentile interval (type-7 quantiles, as pROC's `ci.auc(method = "bootstrap")`). */
  ci: [number, number];
  /** The level of `ci`. */
  confLevel: number;
  /** [R] the valid replicate values, in draw order. */
  replicates: Float64Array;
  /** Replicates left out because they were NaN (a resample without one class). */
  nInvalid: number;
}

interface ResolvedOptions {
  replicates: number;
  seed: number;
  stratified: boolean;
  confLevel: number;
}

function resolve(options: BootstrapOptions, what: string): ResolvedOptions {
  const replicates = options.replicates ?? 1000;
  const seed = options.seed ?? 0;
  const confLevel = options.confLevel ?? 0.95;
  if (!(Number.isInteger(replicates) && replicates >= 2)) {
    throw new Error(`${what}: replicates must be an integer >= 2, got ${replicates}`);
  }
  if (!Number.isFinite(seed)) throw new Error(`${what}: seed must be a finite number, got ${seed}`);
  if (!(confLevel > 0 && confLevel < 1)) throw new Error(`${what}: confLevel must be in (0, 1), got ${confLevel}`);
  return { replicates, seed, stratified: options.stratified ?? true, confLevel };
}

function summarise(estimate: number, values: Float64Array, confLevel: number): BootstrapResult {
  let valid = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) values[valid++] = values[i];
  const replicates = values.slice(0, valid);
  const sorted = replicates.slice().sort();
  const alpha = (1 - confLevel) / 2;
  return {
    estimate,
    mean: mean(replicates),
    std: standardDeviation(replicates),
    ci: [quantileSorted(sorted, alpha), quantileSorted(sorted, 1 - alpha)],
    confLevel,
    replicates,
    nInvalid: values.length - valid,
  };
}

/**
 * Data reduced to tie groups: group[i] is the rank of sample i's score among the distinct scores,
 * so a resample's AUC needs only counts per group (no sorting per replicate).
 */
interface Grouped {
  data: BinaryData;
  group: Uint32Array;
  nGroups: number;
  /** [m] group of each positive. */
  posGroup: Uint32Array;
  /** [n] group of each negative. */
  negGroup: Uint32Array;
}

function groupData(data: BinaryData): Grouped {
  const { labels, scores, nPositive, nNegative } = data;
  const { order, sorted } = sortFloat64(scores);
  const n = order.length;
  const group = new Uint32Array(n);
  let g = -1;
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const v = sorted[i];
    if (v !== prev) {
      g++;
      prev = v;
    }
    group[order[i]] = g;
  }
  const posGroup = new Uint32Array(nPositive);
  const negGroup = new Uint32Array(nNegative);
  let p = 0;
  let q = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) posGroup[p++] = group[i];
    else negGroup[q++] = group[i];
  }
  return { data, group, nGroups: g + 1, posGroup, negGroup };
}

/**
 * Draws one resample as counts per tie group into posCount / negCount (zeroed here). Stratified
 * draws m positives and n negatives; otherwise N samples from all. Returns [m*, n*].
 */
function drawCounts(gd: Grouped, rng: Rng, stratified: boolean, posCount: Int32Array, negCount: Int32Array): [number, number] {
  posCount.fill(0);
  negCount.fill(0);
  const { posGroup, negGroup } = gd;
  const m = posGroup.length;
  const n = negGroup.length;
  if (stratified) {
    for (let i = 0; i < m; i++) posCount[posGroup[draw(rng, m)]]++;
    for (let i = 0; i < n; i++) negCount[negGroup[draw(rng, n)]]++;
    return [m, n];
  }
  const { labels } = gd.data;
  const group = gd.group;
  const total = m + n;
  let mStar = 0;
  for (let i = 0; i < total; i++) {
    const k = draw(rng, total);
    if (labels[k] === 1) {
      posCount[group[k]]++;
      mStar++;
    } else negCount[group[k]]++;
  }
  return [mStar, total - mStar];
}

/** AUC from counts per ascending tie group; NaN when a class is empty. */
function aucFromCounts(posCount: Int32Array, negCount: Int32Array, nGroups: number, m: number, n: number): number {
  if (m === 0 || n === 0) return NaN;
  let sum = 0;
  let negBelow = 0;
  for (let g = 0; g < nGroups; g++) {
    const nc = negCount[g];
    sum += posCount[g] * (negBelow + nc / 2);
    negBelow += nc;
  }
  return sum / m / n;
}

/** Index list of one resample (stratified or not), as an array of input indices. */
function drawIndices(data: BinaryData, rng: Rng, stratified: boolean, pos: Uint32Array, neg: Uint32Array, out: Uint32Array): void {
  if (stratified) {
    let k = 0;
    for (let i = 0; i < pos.length; i++) out[k++] = pos[draw(rng, pos.length)];
    for (let i = 0; i < neg.length; i++) out[k++] = neg[draw(rng, neg.length)];
  } else {
    const total = data.labels.length;
    for (let i = 0; i < total; i++) out[i] = draw(rng, total);
  }
}

/**
 * Bootstrap of the AUC: mean ± std over replicates (the paper's "AUC ± std") and the percentile
 * interval (pROC's `ci.auc(method = "bootstrap")`). Each replicate costs O(N) through tie-group
 * counts, so 1000 replicates of n = 1000 take a few milliseconds.
 *
 * Throws on the input errors of {@link auc}; with stratified = false, replicates without both
 * classes are left out and counted in `nInvalid`.
 *
 * @example
 * const b = bootstrapAuc(labels, scores, { replicates: 1000, seed: 42 });
 * console.log(`AUC = ${b.estimate.toFixed(2)} ± ${b.std.toFixed(2)}, 95% CI [${b.ci.join(', ')}]`);
 */
export function bootstrapAuc(labels: BinaryLabels, scores: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapResult {
  const opt = resolve(options, 'bootstrapAuc');
  const gd = groupData(toBinaryData(labels, scores, 'bootstrapAuc'));
  const { nPositive: m, nNegative: n } = gd.data;
  const posCount = new Int32Array(gd.nGroups);
  const negCount = new Int32Array(gd.nGroups);
  const full = new Int32Array(gd.nGroups);
  const fullNeg = new Int32Array(gd.nGroups);
  for (const g of gd.posGroup) full[g]++;
  for (const g of gd.negGroup) fullNeg[g]++;
  const estimate = aucFromCounts(full, fullNeg, gd.nGroups, m, n);
  const rng = new Rng(opt.seed);
  const values = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    const [mStar, nStar] = drawCounts(gd, rng, opt.stratified, posCount, negCount);
    values[r] = aucFromCounts(posCount, negCount, gd.nGroups, mStar, nStar);
  }
  return summarise(estimate, values, opt.confLevel);
}

/** A statistic of resampled labels [N] and scores [N]; NaN marks a replicate to leave out. */
export type BinaryMetric = (labels: Uint8Array, scores: Float64Array) => number;

/**
 * Bootstrap of any statistic of (labels, scores): the metric is called on each resample (fresh
 * arrays of length N). Same sampling and summaries as {@link bootstrapAuc}; a metric that throws
 * aborts the bootstrap, one that returns NaN only drops that replicate.
 *
 * @example
 * const acc = (y: Uint8Array, s: Float64Array) => y.reduce((a, v, i) => a + Number((s[i] >= 0.5) === (v === 1)), 0) / y.length;
 * bootstrapMetric(labels, scores, acc, { seed: 1 }).ci; // 95% percentile interval of the accuracy
 */
export function bootstrapMetric(
  labels: BinaryLabels,
  scores: ArrayLike<number>,
  metric: BinaryMetric,
  options: BootstrapOptions = {},
): BootstrapResult {
  const opt = resolve(options, 'bootstrapMetric');
  const data = toBinaryData(labels, scores, 'bootstrapMetric', opt.stratified);
  const total = data.labels.length;
  const pos = new Uint32Array(data.nPositive);
  const neg = new Uint32Array(data.nNegative);
  for (let i = 0, p = 0, q = 0; i < total; i++) {
    if (data.labels[i] === 1) pos[p++] = i;
    else neg[q++] = i;
  }
  const estimate = metric(data.labels.slice(), data.scores.slice());
  const rng = new Rng(opt.seed);
  const idx = new Uint32Array(total);
  const values = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    drawIndices(data, rng, opt.stratified, pos, neg, idx);
    const y = new Uint8Array(total);
    const s = new Float64Array(total);
    for (let i = 0; i < total; i++) {
      y[i] = data.labels[idx[i]];
      s[i] = data.scores[idx[i]];
    }
    values[r] = metric(y, s);
  }
  return summarise(estimate, values, opt.confLevel);
}

/** Bootstrap test of two AUCs. */
export interface BootstrapTestResult {
  /** AUC of the first scores on the original data. */
  auc1: number;
  /** AUC of the second scores on the original data. */
  auc2: number;
  /** Standard deviation (ddof 1) of auc1* - auc2* over the valid replicates. */
  std: number;
  /** D = (auc1 - auc2) / std; 0 when the AUCs and every replicate difference are equal (pROC). */
  d: number;
  /** Two-sided p-value 2 Q(|D|), in linear scale. */
  p: number;
  /** Number of valid replicates used. */
  replicates: number;
  /** Replicates left out (a resample without one class). */
  nInvalid: number;
}

function testResult(auc1: number, auc2: number, diffs: Float64Array): BootstrapTestResult {
  let valid = 0;
  let allZero = true;
  for (let i = 0; i < diffs.length; i++) {
    if (Number.isNaN(diffs[i])) continue;
    if (diffs[i] !== 0) allZero = false;
    diffs[valid++] = diffs[i];
  }
  const kept = diffs.subarray(0, valid);
  const std = standardDeviation(kept);
  let d = (auc1 - auc2) / std;
  if (Number.isNaN(d) && allZero && auc1 === auc2) d = 0;
  return { auc1, auc2, std, d, p: normalTwoSidedP(d), replicates: valid, nInvalid: diffs.length - valid };
}

/**
 * pROC's `roc.test(roc1, roc2, method = "bootstrap", paired = TRUE)`: both curves are recomputed on
 * the same resamples, D = (auc1 - auc2) / sd(auc1* - auc2*), p = 2 Q(|D|).
 *
 * @example
 * bootstrapTest(labels, modelA, modelB, { replicates: 2000, seed: 7 }).p;
 */
export function bootstrapTest(
  labels: BinaryLabels,
  scores1: ArrayLike<number>,
  scores2: ArrayLike<number>,
  options: BootstrapOptions = {},
): BootstrapTestResult {
  const opt = resolve(options, 'bootstrapTest');
  const g1 = groupData(toBinaryData(labels, scores1, 'bootstrapTest (scores1)'));
  const g2 = groupData(toBinaryData(labels, scores2, 'bootstrapTest (scores2)'));
  const { nPositive: m, nNegative: n } = g1.data;
  const total = m + n;
  const labelsU8 = g1.data.labels;
  const pc1 = new Int32Array(g1.nGroups);
  const nc1 = new Int32Array(g1.nGroups);
  const pc2 = new Int32Array(g2.nGroups);
  const nc2 = new Int32Array(g2.nGroups);
  for (let i = 0; i < total; i++) {
    if (labelsU8[i] === 1) {
      pc1[g1.group[i]]++;
      pc2[g2.group[i]]++;
    } else {
      nc1[g1.group[i]]++;
      nc2[g2.group[i]]++;
    }
  }
  const auc1 = aucFromCounts(pc1, nc1, g1.nGroups, m, n);
  const auc2 = aucFromCounts(pc2, nc2, g2.nGroups, m, n);
  const pos = new Uint32Array(m);
  const neg = new Uint32Array(n);
  for (let i = 0, p = 0, q = 0; i < total; i++) {
    if (labelsU8[i] === 1) pos[p++] = i;
    else neg[q++] = i;
  }
  const rng = new Rng(opt.seed);
  const idx = new Uint32Array(total);
  const diffs = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    drawIndices(g1.data, rng, opt.stratified, pos, neg, idx);
    pc1.fill(0);
    nc1.fill(0);
    pc2.fill(0);
    nc2.fill(0);
    let mStar = 0;
    for (let i = 0; i < total; i++) {
      const k = idx[i];
      if (labelsU8[k] === 1) {
        pc1[g1.group[k]]++;
        pc2[g2.group[k]]++;
        mStar++;
      } else {
        nc1[g1.group[k]]++;
        nc2[g2.group[k]]++;
      }
    }
    diffs[r] =
      aucFromCounts(pc1, nc1, g1.nGroups, mStar, total - mStar) - aucFromCounts(pc2, nc2, g2.nGroups, mStar, total - mStar);
  }
  return testResult(auc1, auc2, diffs);
}

/**
 * pROC's `roc.test(roc1, roc2, method = "bootstrap", paired = FALSE)`: each sample is resampled
 * on its own; D and p as in {@link bootstrapTest}.
 *
 * @example
 * bootstrapTestUnpaired(labelsA, scoresA, labelsB, scoresB, { seed: 7 }).p;
 */
export function bootstrapTestUnpaired(
  labels1: BinaryLabels,
  scores1: ArrayLike<number>,
  labels2: BinaryLabels,
  scores2: ArrayLike<number>,
  options: BootstrapOptions = {},
): BootstrapTestResult {
  const opt = resolve(options, 'bootstrapTestUnpaired');
  const g1 = groupData(toBinaryData(labels1, scores1, 'bootstrapTestUnpaired (sample 1)'));
  const g2 = groupData(toBinaryData(labels2, scores2, 'bootstrapTestUnpaired (sample 2)'));
  const full = (gd: Grouped): number => {
    const pc = new Int32Array(gd.nGroups);
    const nc = new Int32Array(gd.nGroups);
    for (const g of gd.posGroup) pc[g]++;
    for (const g of gd.negGroup) nc[g]++;
    return aucFromCounts(pc, nc, gd.nGroups, gd.posGroup.length, gd.negGroup.length);
  };
  const rng = new Rng(opt.seed);
  const pc1 = new Int32Array(g1.nGroups);
  const nc1 = new Int32Array(g1.nGroups);
  const pc2 = new Int32Array(g2.nGroups);
  const nc2 = new Int32Array(g2.nGroups);
  const diffs = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    const [m1, n1] = drawCounts(g1, rng, opt.stratified, pc1, nc1);
    const [m2, n2] = drawCounts(g2, rng, opt.stratified, pc2, nc2);
    diffs[r] = aucFromCounts(pc1, nc1, g1.nGroups, m1, n1) - aucFromCounts(pc2, nc2, g2.nGroups, m2, n2);
  }
  return testResult(full(g1), full(g2), diffs);
}

/** Options of {@link bootstrapRocBand}. */
export interface RocBandOptions extends Omit<BootstrapOptions, 'confLevel'> {
  /** Number of equally spaced fpr points in [0, 1]. Default 100 (the authors' `np.linspace(0, 1, 100)`). */
  points?: number;
}

/** Mean ± 1 std band of bootstrap ROC curves on a fixed fpr grid. */
export interface RocBand {
  /** [P] fpr grid. */
  fpr: Float64Array;
  /** [P] mean interpolated tpr (last point set to 1, as the authors do). */
  meanTpr: Float64Array;
  /** [P] standard deviation (ddof 1) of the interpolated tpr. */
  stdTpr: Float64Array;
  /** [P] min(mean + std, 1). */
  upper: Float64Array;
  /** [P] max(mean - std, 0). */
  lower: Float64Array;
  /** [R] bootstrap AUC of each valid replicate (same resamples). */
  aucs: Float64Array;
}

/**
 * The grey "± 1 std. dev." band of the paper's ROC figure: each replicate's full ROC curve (no
 * points dropped) is linearly interpolated on the fpr grid as numpy's `interp` does (at a vertical
 * step the upper tpr), then mean and std per grid point. Replicates without both classes are skipped.
 *
 * @example
 * const band = bootstrapRocBand(labels, scores, { seed: 0, stratified: false });
 */
export function bootstrapRocBand(labels: BinaryLabels, scores: ArrayLike<number>, options: RocBandOptions = {}): RocBand {
  const opt = resolve(options, 'bootstrapRocBand');
  const points = options.points ?? 100;
  if (!(Number.isInteger(points) && points >= 2)) throw new Error(`bootstrapRocBand: points must be an integer >= 2, got ${points}`);
  const gd = groupData(toBinaryData(labels, scores, 'bootstrapRocBand'));
  const G = gd.nGroups;
  const grid = new Float64Array(points);
  for (let i = 0; i < points; i++) grid[i] = i / (points - 1);
  const sum = new Float64Array(points);
  const sumSq = new Float64Array(points);
  const tprRow = new Float64Array(points);
  const curveF = new Float64Array(G + 1);
  const curveT = new Float64Array(G + 1);
  const posCount = new Int32Array(G);
  const negCount = new Int32Array(G);
  const rng = new Rng(opt.seed);
  const aucs: number[] = [];
  const rows: Float64Array[] = [];
  for (let r = 0; r < opt.replicates; r++) {
    const [m, n] = drawCounts(gd, rng, opt.stratified, posCount, negCount);
    if (m === 0 || n === 0) continue;
    aucs.push(aucFromCounts(posCount, negCount, G, m, n));
    // The replicate's curve from the highest score down, one point per score present.
    let k = 0;
    let tp = 0;
    let fp = 0;
    curveF[0] = 0;
    curveT[0] = 0;
    for (let g = G - 1; g >= 0; g--) {
      if (posCount[g] === 0 && negCount[g] === 0) continue;
      tp += posCount[g];
      fp += negCount[g];
      k++;
      curveF[k] = fp / n;
      curveT[k] = tp / m;
    }
    let j = 0;
    for (let i = 0; i < points; i++) {
      const x = grid[i];
      while (j < k && curveF[j + 1] <= x) j++;
      tprRow[i] =
        j === k || curveF[j] === x
          ? curveT[j]
          : curveT[j] + ((curveT[j + 1] - curveT[j]) * (x - curveF[j])) / (curveF[j + 1] - curveF[j]);
    }
    rows.push(tprRow.slice());
  }
  const count = rows.length;
  if (count < 2) throw new Error(`bootstrapRocBand: fewer than 2 valid replicates (${count} of ${opt.replicates})`);
  for (const row of rows) for (let i = 0; i < points; i++) sum[i] += row[i];
  const meanTpr = sum.map((s) => s / count);
  for (const row of rows) for (let i = 0; i < points; i++) sumSq[i] += (row[i] - meanTpr[i]) ** 2;
  const stdTpr = sumSq.map((s) => Math.sqrt(s / (count - 1)));
  meanTpr[points - 1] = 1;
  const upper = meanTpr.map((v, i) => Math.min(v + stdTpr[i], 1));
  const lower = meanTpr.map((v, i) => Math.max(v - stdTpr[i], 0));
  return { fpr: grid, meanTpr, stdTpr, upper, lower, aucs: Float64Array.from(aucs) };
}
