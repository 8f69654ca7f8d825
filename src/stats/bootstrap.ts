import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { bootstrapInterval, type BootstrapCiType } from './bootstrap_ci';
import { placementsOf } from './delong';
import { normalTwoSidedP } from './normal';
import { sortFloat64 } from './rank';
import { mean, standardDeviation } from './summary';
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
   * `boot.stratified = TRUE`). Default true, everywhere in mst-ts (the CLI and the figures too):
   * the class counts of a test set are fixed by its design, and no replicate can lack a class.
   * The MST authors' figures resample all cases together (false); a replicate that then lacks a
   * class yields NaN and is left out, as in pROC.
   */
  stratified?: boolean;
  /** Level of the interval, in (0, 1). Default 0.95. */
  confLevel?: number;
  /**
   * Interval type of `ci` ({@link BootstrapCiType}): 'percentile' (pROC's, the default), 'basic'
   * or 'bca' (R `boot::boot.ci`'s, for the same replicates).
   */
  ciType?: BootstrapCiType;
}

/** Bootstrap distribution of a statistic and its summaries. */
export interface BootstrapResult {
  /** The statistic on the original data. */
  estimate: number;
  /** Mean over the valid replicates. */
  mean: number;
  /** Standard deviation over the valid replicates (ddof 1): the "± std" of the paper's tables. */
  std: number;
  /**
   * [lower, upper] interval of type `ciType`: by default the percentile interval (type-7
   * quantiles, as pROC's `ci.auc(method = "bootstrap")`).
   */
  ci: [number, number];
  /** The level of `ci`. */
  confLevel: number;
  /** The type of `ci`. */
  ciType: BootstrapCiType;
  /** [R] the valid replicate values, in draw order. */
  replicates: Float64Array;
  /** Replicates left out because they were NaN (a resample without one class). */
  nInvalid: number;
}

/** Bootstrap options with their defaults filled in and checked. */
export interface ResolvedOptions {
  replicates: number;
  seed: number;
  stratified: boolean;
  confLevel: number;
  ciType: BootstrapCiType;
}

/** Fills in the defaults of {@link BootstrapOptions} and checks them (errors name `what`). */
export function resolve(options: BootstrapOptions, what: string): ResolvedOptions {
  const ciType = options.ciType ?? 'percentile';
  if (ciType !== 'percentile' && ciType !== 'basic' && ciType !== 'bca') {
    throw new Error(`${what}: ciType must be 'percentile', 'basic' or 'bca', got '${String(ciType)}'`);
  }
  const replicates = options.replicates ?? 1000;
  const seed = options.seed ?? 0;
  const confLevel = options.confLevel ?? 0.95;
  if (!(Number.isInteger(replicates) && replicates >= 2)) {
    throw new Error(`${what}: replicates must be an integer >= 2, got ${replicates}`);
  }
  if (!Number.isFinite(seed)) throw new Error(`${what}: seed must be a finite number, got ${seed}`);
  if (!(confLevel > 0 && confLevel < 1)) throw new Error(`${what}: confLevel must be in (0, 1), got ${confLevel}`);
  return { replicates, seed, stratified: options.stratified ?? true, confLevel, ciType };
}

function summarise(estimate: number, values: Float64Array, opt: ResolvedOptions, influence?: () => Float64Array): BootstrapResult {
  let valid = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) values[valid++] = values[i];
  const replicates = values.slice(0, valid);
  const ci = bootstrapInterval(estimate, replicates, {
    type: opt.ciType,
    confLevel: opt.confLevel,
    influence: opt.ciType === 'bca' && influence ? influence() : undefined,
  });
  return {
    estimate,
    mean: mean(replicates),
    std: standardDeviation(replicates),
    ci,
    confLevel: opt.confLevel,
    ciType: opt.ciType,
    replicates,
    nInvalid: values.length - valid,
  };
}

/**
 * Data reduced to tie groups: group[i] is the rank of sample i's score among the distinct scores,
 * so a resample's AUC needs only counts per group (no sorting per replicate).
 */
export interface Grouped {
  data: BinaryData;
  group: Uint32Array;
  nGroups: number;
  /** [m] group of each positive. */
  posGroup: Uint32Array;
  /** [n] group of each negative. */
  negGroup: Uint32Array;
}

/** Groups validated data by distinct score (one radix sort). */
export function groupData(data: BinaryData): Grouped {
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
export function drawCounts(gd: Grouped, rng: Rng, stratified: boolean, posCount: Int32Array, negCount: Int32Array): [number, number] {
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
export function drawIndices(data: BinaryData, rng: Rng, stratified: boolean, pos: Uint32Array, neg: Uint32Array, out: Uint32Array): void {
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
  return summarise(estimate, values, opt, () => aucInfluence(gd.data, opt.stratified));
}

/**
 * Jackknife influence values of the AUC (the input of a BCa interval's acceleration), one per case
 * in input order, in O(N). `stratified` matches the bootstrap (each class its own stratum).
 *
 * @example
 * const L = aucJackknifeInfluence(labels, scores);
 * bootstrapInterval(b.estimate, b.replicates, { type: 'bca', influence: L });
 */
export function aucJackknifeInfluence(labels: BinaryLabels, scores: ArrayLike<number>, options: { stratified?: boolean } = {}): Float64Array {
  return aucInfluence(toBinaryData(labels, scores, 'aucJackknifeInfluence'), options.stratified ?? true);
}

/**
 * Jackknife influence values of the AUC in O(N) from the DeLong placements, as boot's
 * `empinf(type = "jack")`: leaving out positive i gives θ_(-i) = (m θ - V10_i) / (m - 1), so
 * L_i = (g - 1)(θ - θ_(-i)) = (g - 1)(V10_i - θ) / (m - 1) with g = m in a stratified bootstrap
 * (each class a stratum) and g = N otherwise; the same for negatives with V01 and n.
 */
export function aucInfluence(data: BinaryData, stratified: boolean): Float64Array {
  const v = placementsOf(data);
  const { labels, nPositive: m, nNegative: n } = data;
  const total = m + n;
  const scaleCase = stratified ? 1 : (total - 1) / (m - 1);
  const scaleControl = stratified ? 1 : (total - 1) / (n - 1);
  const out = new Float64Array(total);
  for (let i = 0, p = 0, q = 0; i < total; i++) {
    out[i] = labels[i] === 1 ? (v.cases[p++] - v.auc) * scaleCase : (v.controls[q++] - v.auc) * scaleControl;
  }
  return out;
}

/**
 * Bootstrap of a statistic of the per-tie-group counts (the ROC curve of a resample), with the
 * sampling of {@link bootstrapAuc}: the engine behind the partial AUC and the coordinate
 * intervals. `statistic(posCount, negCount, nGroups, m*, n*)` returns NaN to drop a replicate.
 */
export function bootstrapCounts(
  gd: Grouped,
  estimate: number,
  statistic: (posCount: Int32Array, negCount: Int32Array, nGroups: number, m: number, n: number) => number,
  options: BootstrapOptions,
  what: string,
): BootstrapResult {
  const opt = resolve(options, what);
  const posCount = new Int32Array(gd.nGroups);
  const negCount = new Int32Array(gd.nGroups);
  const rng = new Rng(opt.seed);
  const values = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    const [mStar, nStar] = drawCounts(gd, rng, opt.stratified, posCount, negCount);
    values[r] = statistic(posCount, negCount, gd.nGroups, mStar, nStar);
  }
  return summarise(estimate, values, opt);
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
  return summarise(estimate, values, opt, () => metricInfluence(data, metric, estimate, opt.stratified));
}

/** boot's `usual.jack` for any metric: N leave-one-out calls, so O(N²) (fine for a few thousand cases). */
function metricInfluence(data: BinaryData, metric: BinaryMetric, estimate: number, stratified: boolean): Float64Array {
  const total = data.labels.length;
  const out = new Float64Array(total);
  const y = new Uint8Array(total - 1);
  const s = new Float64Array(total - 1);
  for (let i = 0; i < total; i++) {
    for (let j = 0, k = 0; j < total; j++) {
      if (j === i) continue;
      y[k] = data.labels[j];
      s[k++] = data.scores[j];
    }
    const group = stratified ? (data.labels[i] === 1 ? data.nPositive : data.nNegative) : total;
    out[i] = (group - 1) * (estimate - metric(y.slice(), s.slice()));
  }
  return out;
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


/** A statistic of one resample's per-tie-group counts; NaN drops the replicate. */
export type CountsStatistic = (posCount: Int32Array, negCount: Int32Array, nGroups: number, m: number, n: number) => number;

/**
 * Paired resampling of two score sets on the same cases (the same indices for both, as pROC's
 * paired bootstrap): returns stat1 - stat2 per replicate (NaN where either is NaN).
 */
export function pairedCountDiffs(g1: Grouped, g2: Grouped, options: BootstrapOptions, what: string, stat1: CountsStatistic, stat2: CountsStatistic): Float64Array {
  const opt = resolve(options, what);
  const { nPositive: m, nNegative: n } = g1.data;
  const total = m + n;
  const labelsU8 = g1.data.labels;
  const pc1 = new Int32Array(g1.nGroups);
  const nc1 = new Int32Array(g1.nGroups);
  const pc2 = new Int32Array(g2.nGroups);
  const nc2 = new Int32Array(g2.nGroups);
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
    diffs[r] = stat1(pc1, nc1, g1.nGroups, mStar, total - mStar) - stat2(pc2, nc2, g2.nGroups, mStar, total - mStar);
  }
  return diffs;
}

/** Independent resampling of two samples (pROC's unpaired bootstrap): stat1 - stat2 per replicate. */
export function unpairedCountDiffs(g1: Grouped, g2: Grouped, options: BootstrapOptions, what: string, stat1: CountsStatistic, stat2: CountsStatistic): Float64Array {
  const opt = resolve(options, what);
  const rng = new Rng(opt.seed);
  const pc1 = new Int32Array(g1.nGroups);
  const nc1 = new Int32Array(g1.nGroups);
  const pc2 = new Int32Array(g2.nGroups);
  const nc2 = new Int32Array(g2.nGroups);
  const diffs = new Float64Array(opt.replicates);
  for (let r = 0; r < opt.replicates; r++) {
    const [m1, n1] = drawCounts(g1, rng, opt.stratified, pc1, nc1);
    const [m2, n2] = drawCounts(g2, rng, opt.stratified, pc2, nc2);
    diffs[r] = stat1(pc1, nc1, g1.nGroups, m1, n1) - stat2(pc2, nc2, g2.nGroups, m2, n2);
  }
  return diffs;
}

/** The AUC of a grouped sample. */
export function groupedAuc(gd: Grouped): number {
  const pc = new Int32Array(gd.nGroups);
  const nc = new Int32Array(gd.nGroups);
  for (const g of gd.posGroup) pc[g]++;
  for (const g of gd.negGroup) nc[g]++;
  return aucFromCounts(pc, nc, gd.nGroups, gd.posGroup.length, gd.negGroup.length);
}

/**
 * pROC's bootstrap test statistic from the replicate differences: D = (θ1 - θ2) / sd(Δ*), with
 * D = 0 when the AUCs and every difference are equal (pROC's `all(diffs == 0) && auc1 == auc2`).
 * `statistic1/2` are the observed values compared (the AUCs, or coordinates); `auc1/2` decide the
 * zero case, as pROC.
 */
export function bootstrapTestResult(statistic1: number, statistic2: number, diffs: Float64Array, auc1 = statistic1, auc2 = statistic2): BootstrapTestResult {
  let valid = 0;
  let allZero = true;
  for (let i = 0; i < diffs.length; i++) {
    if (Number.isNaN(diffs[i])) continue;
    if (diffs[i] !== 0) allZero = false;
    diffs[valid++] = diffs[i];
  }
  const kept = diffs.subarray(0, valid);
  const std = standardDeviation(kept);
  let d = (statistic1 - statistic2) / std;
  if (Number.isNaN(d) && allZero && auc1 === auc2) d = 0;
  return { auc1: statistic1, auc2: statistic2, std, d, p: normalTwoSidedP(d), replicates: valid, nInvalid: diffs.length - valid };
}

const aucStatistic: CountsStatistic = (pc, nc, g, m, n) => aucFromCounts(pc, nc, g, m, n);

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
  resolve(options, 'bootstrapTest');
  const g1 = groupData(toBinaryData(labels, scores1, 'bootstrapTest (scores1)'));
  const g2 = groupData(toBinaryData(labels, scores2, 'bootstrapTest (scores2)'));
  const diffs = pairedCountDiffs(g1, g2, options, 'bootstrapTest', aucStatistic, aucStatistic);
  return bootstrapTestResult(groupedAuc(g1), groupedAuc(g2), diffs);
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
  resolve(options, 'bootstrapTestUnpaired');
  const g1 = groupData(toBinaryData(labels1, scores1, 'bootstrapTestUnpaired (sample 1)'));
  const g2 = groupData(toBinaryData(labels2, scores2, 'bootstrapTestUnpaired (sample 2)'));
  const diffs = unpairedCountDiffs(g1, g2, options, 'bootstrapTestUnpaired', aucStatistic, aucStatistic);
  return bootstrapTestResult(groupedAuc(g1), groupedAuc(g2), diffs);
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
