import { toBinaryData, type BinaryLabels } from './binary_data';
import {
  bootstrapTestResult,
  drawCounts,
  groupData,
  groupedAuc,
  pairedCountDiffs,
  resolve,
  unpairedCountDiffs,
  type BootstrapOptions,
  type CountsStatistic,
  type Grouped,
} from './bootstrap';
import { bootstrapInterval } from './bootstrap_ci';
import { coordAt, curveFromCounts, procRocOf, type CoordInput } from './roc_coords';
import { quantileSorted } from './summary';
import { Rng } from '../utils/rng';

/** Bootstrap intervals of one ROC coordinate at several values of the other. */
export interface CoordsCiResult {
  /** The given specificities (for sensitivity intervals) or sensitivities. */
  at: number[];
  /** The observed coordinate at each value (pROC's `coords`). */
  estimate: number[];
  /** [lower, upper] interval at each value. */
  ci: [number, number][];
  /** Median of the replicates at each value (pROC reports it between the bounds). */
  median: number[];
  /** The level of `ci`. */
  confLevel: number;
  /** Replicates used (a replicate with any NaN coordinate is left out, as pROC). */
  replicates: number;
  /** Replicates left out (a resample without one class). */
  nInvalid: number;
}

function checkAt(at: readonly number[], what: string, name: string): void {
  if (at.length === 0) throw new Error(`${what}: expected at least one ${name}, got none`);
  for (const v of at) if (!(v >= 0 && v <= 1)) throw new Error(`${what}: each ${name} must be in [0, 1], got ${v}`);
}

/** The coordinate (a sensitivity for `input` 'specificity', else a specificity) as a counts statistic. */
function coordStatistic(nGroups: number, value: number, input: CoordInput): CountsStatistic {
  const se = new Float64Array(nGroups + 1);
  const sp = new Float64Array(nGroups + 1);
  return (pc, nc, g, m, n) => {
    if (m === 0 || n === 0) return NaN;
    const count = curveFromCounts(pc, nc, g, m, n, se, sp);
    return coordAt(se, sp, count, value, input);
  };
}

function coordsCi(labels: BinaryLabels, scores: ArrayLike<number>, at: readonly number[], input: CoordInput, options: BootstrapOptions, what: string): CoordsCiResult {
  checkAt(at, what, input);
  if (options.ciType === 'bca') throw new Error(`${what}: ciType 'bca' is not available for ROC coordinates; use 'percentile' or 'basic'`);
  const { replicates, confLevel, seed, stratified, ciType } = resolve(options, what);
  const data = toBinaryData(labels, scores, what);
  const gd: Grouped = groupData(data);
  const curve = procRocOf(data);
  const count = curve.sensitivities.length;
  const estimate = at.map((v) => coordAt(curve.sensitivities, curve.specificities, count, v, input));
  const se = new Float64Array(gd.nGroups + 1);
  const sp = new Float64Array(gd.nGroups + 1);
  const pc = new Int32Array(gd.nGroups);
  const nc = new Int32Array(gd.nGroups);
  const rng = new Rng(seed);
  const columns = at.map(() => new Float64Array(replicates));
  let valid = 0;
  for (let r = 0; r < replicates; r++) {
    const [m, n] = drawCounts(gd, rng, stratified, pc, nc);
    if (m === 0 || n === 0) continue;
    const k = curveFromCounts(pc, nc, gd.nGroups, m, n, se, sp);
    for (let j = 0; j < at.length; j++) columns[j][valid] = coordAt(se, sp, k, at[j], input);
    valid++;
  }
  const ci: [number, number][] = [];
  const median: number[] = [];
  for (let j = 0; j < at.length; j++) {
    const col = columns[j].subarray(0, valid);
    ci.push(bootstrapInterval(estimate[j], col, { type: ciType, confLevel }));
    median.push(quantileSorted(col.slice().sort(), 0.5));
  }
  return { at: [...at], estimate, ci, median, confLevel, replicates: valid, nInvalid: replicates - valid };
}

/**
 * Bootstrap intervals of the sensitivity at given specificities, as pROC's
 * `ci.se(roc, specificities)`: each replicate's curve is read at each specificity as `coords`
 * does (the highest sensitivity at an exact match, else linear interpolation), and the type-7
 * quantiles (or the basic interval) are taken per specificity. Stratified by default, seeded.
 *
 * @example
 * ciSensitivity(labels, scores, [0.9, 0.95], { seed: 1 }).ci; // sensitivity intervals at 90%, 95% specificity
 */
export function ciSensitivity(labels: BinaryLabels, scores: ArrayLike<number>, specificities: readonly number[], options: BootstrapOptions = {}): CoordsCiResult {
  return coordsCi(labels, scores, specificities, 'specificity', options, 'ciSensitivity');
}

/**
 * Bootstrap intervals of the specificity at given sensitivities, as pROC's
 * `ci.sp(roc, sensitivities)`.
 *
 * @example
 * ciSpecificity(labels, scores, [0.9], { seed: 1 }).ci[0]; // specificity interval at 90% sensitivity
 */
export function ciSpecificity(labels: BinaryLabels, scores: ArrayLike<number>, sensitivities: readonly number[], options: BootstrapOptions = {}): CoordsCiResult {
  return coordsCi(labels, scores, sensitivities, 'sensitivity', options, 'ciSpecificity');
}

/** Where two curves are compared: the sensitivity at a specificity, or the specificity at a sensitivity. */
export type CoordsTestAt = { specificity: number } | { sensitivity: number };

/** Bootstrap test of two curves at one operating point. */
export interface CoordsTestResult {
  /** The compared coordinate of the first curve (a sensitivity when `at` is a specificity). */
  value1: number;
  /** The compared coordinate of the second curve. */
  value2: number;
  /** Standard deviation (ddof 1) of value1* - value2* over the valid replicates. */
  std: number;
  /** D = (value1 - value2) / std. */
  d: number;
  /** Two-sided p-value 2 Q(|D|). */
  p: number;
  /** Valid replicates used. */
  replicates: number;
  /** Replicates left out. */
  nInvalid: number;
}

function resolveAt(at: CoordsTestAt, what: string): { value: number; input: CoordInput } {
  const spec = (at as { specificity?: number }).specificity;
  const sens = (at as { sensitivity?: number }).sensitivity;
  if ((spec === undefined) === (sens === undefined)) throw new Error(`${what}: give exactly one of { specificity } or { sensitivity }, got ${JSON.stringify(at)}`);
  const value = (spec ?? sens) as number;
  const input: CoordInput = spec !== undefined ? 'specificity' : 'sensitivity';
  if (!(value >= 0 && value <= 1)) throw new Error(`${what}: ${input} must be in [0, 1], got ${value}`);
  return { value, input };
}

function observed(gd: Grouped, value: number, input: CoordInput): number {
  const c = procRocOf(gd.data);
  return coordAt(c.sensitivities, c.specificities, c.sensitivities.length, value, input);
}

/**
 * pROC's `roc.test(roc1, roc2, method = "specificity", specificity = x, paired = TRUE)` (or
 * `method = "sensitivity"`): D = (se1(x) - se2(x)) / sd over paired bootstrap resamples of
 * se1*(x) - se2*(x), p = 2 Q(|D|).
 *
 * @example
 * coordsTest(labels, mst, resnet, { specificity: 0.9 }, { replicates: 2000, seed: 3 }).p;
 */
export function coordsTest(
  labels: BinaryLabels,
  scores1: ArrayLike<number>,
  scores2: ArrayLike<number>,
  at: CoordsTestAt,
  options: BootstrapOptions = {},
): CoordsTestResult {
  const { value, input } = resolveAt(at, 'coordsTest');
  const g1 = groupData(toBinaryData(labels, scores1, 'coordsTest (scores1)'));
  const g2 = groupData(toBinaryData(labels, scores2, 'coordsTest (scores2)'));
  const diffs = pairedCountDiffs(g1, g2, options, 'coordsTest', coordStatistic(g1.nGroups, value, input), coordStatistic(g2.nGroups, value, input));
  return toCoordsResult(g1, g2, value, input, diffs);
}

/**
 * The unpaired version of {@link coordsTest} (pROC's `paired = FALSE`): each sample resampled on
 * its own.
 *
 * @example
 * coordsTestUnpaired(labelsA, scoresA, labelsB, scoresB, { sensitivity: 0.95 }, { seed: 3 }).p;
 */
export function coordsTestUnpaired(
  labels1: BinaryLabels,
  scores1: ArrayLike<number>,
  labels2: BinaryLabels,
  scores2: ArrayLike<number>,
  at: CoordsTestAt,
  options: BootstrapOptions = {},
): CoordsTestResult {
  const { value, input } = resolveAt(at, 'coordsTestUnpaired');
  const g1 = groupData(toBinaryData(labels1, scores1, 'coordsTestUnpaired (sample 1)'));
  const g2 = groupData(toBinaryData(labels2, scores2, 'coordsTestUnpaired (sample 2)'));
  const diffs = unpairedCountDiffs(g1, g2, options, 'coordsTestUnpaired', coordStatistic(g1.nGroups, value, input), coordStatistic(g2.nGroups, value, input));
  return toCoordsResult(g1, g2, value, input, diffs);
}

function toCoordsResult(g1: Grouped, g2: Grouped, value: number, input: CoordInput, diffs: Float64Array): CoordsTestResult {
  const t = bootstrapTestResult(observed(g1, value, input), observed(g2, value, input), diffs, groupedAuc(g1), groupedAuc(g2));
  return { value1: t.auc1, value2: t.auc2, std: t.std, d: t.d, p: t.p, replicates: t.replicates, nInvalid: t.nInvalid };
}
