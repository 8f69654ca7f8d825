import { toBinaryData, type BinaryLabels } from './binary_data';
import {
  bootstrapCounts,
  bootstrapTestResult,
  groupData,
  pairedCountDiffs,
  type BootstrapOptions,
  type BootstrapResult,
  type BootstrapTestResult,
  type CountsStatistic,
  type Grouped,
} from './bootstrap';
import { curveFromCounts, procRocOf } from './roc_coords';

/** Which axis the partial AUC range is on. */
export type PartialAucFocus = 'specificity' | 'sensitivity';

/** Options of {@link partialAuc}. */
export interface PartialAucOptions {
  /** The range [a, b] (either order) of specificity or sensitivity, within [0, 1], a != b. */
  range: readonly [number, number];
  /** The axis of `range`. Default 'specificity' (pROC's default `partial.auc.focus`). */
  focus?: PartialAucFocus;
  /**
   * McClish's standardisation (pROC's `partial.auc.correct`): (1 + (pAUC - min) / (max - min)) / 2,
   * where min is the area under the chance diagonal over the range and max the range's width, so
   * 0.5 is chance and 1 is perfect. Undefined (NaN) for a curve below the diagonal. Default false.
   */
  correct?: boolean;
}

interface Resolved {
  hi: number;
  lo: number;
  sensitivityFocus: boolean;
  correct: boolean;
}

function resolve(options: PartialAucOptions, what: string): Resolved {
  const range = options?.range;
  if (!range || range.length !== 2) throw new Error(`${what}: range must be [from, to], got ${JSON.stringify(range)}`);
  const [a, b] = range;
  if (!(a >= 0 && a <= 1 && b >= 0 && b <= 1)) throw new Error(`${what}: range must lie within [0, 1], got [${a}, ${b}]`);
  if (a === b) throw new Error(`${what}: range must have two different ends, got [${a}, ${b}]`);
  const focus = options.focus ?? 'specificity';
  if (focus !== 'specificity' && focus !== 'sensitivity') throw new Error(`${what}: focus must be 'specificity' or 'sensitivity', got '${String(focus)}'`);
  return { hi: Math.max(a, b), lo: Math.min(a, b), sensitivityFocus: focus === 'sensitivity', correct: options.correct ?? false };
}

/**
 * pROC's `auc.roc` partial area over x in [lo, hi] of the curve y(x), x ascending: trapezoids
 * between the points inside the range plus the interpolated pieces at the ends (the same
 * operations in the same order as pROC, so equal to ~1e-16).
 */
function partialArea(x: Float64Array, y: Float64Array, count: number, hi: number, lo: number): number {
  let first = -1;
  let last = -1;
  let area = 0;
  let hiInside = false;
  let loInside = false;
  for (let i = 0; i < count; i++) {
    const xi = x[i];
    if (xi <= hi && xi >= lo) {
      if (last >= 0) area += ((y[i] + y[last]) / 2) * (xi - x[last]);
      if (first < 0) first = i;
      last = i;
      if (xi === hi) hiInside = true;
      if (xi === lo) loInside = true;
    }
  }
  // First index with x >= hi, and first with x > lo.
  let idxHi = 0;
  while (idxHi < count && x[idxHi] < hi) idxHi++;
  if (first < 0) {
    const idxLo = idxHi - 1;
    const proportionHi = (x[idxHi] - hi) / (x[idxHi] - x[idxLo]);
    const proportionLo = (lo - x[idxLo]) / (x[idxHi] - x[idxLo]);
    const yHi = y[idxHi] + proportionHi * (y[idxLo] - y[idxHi]);
    const yLo = y[idxLo] - proportionLo * (y[idxLo] - y[idxHi]);
    return ((yHi + yLo) / 2) * (hi - lo);
  }
  if (!hiInside) {
    const out = idxHi;
    const inn = out - 1;
    const proportion = (hi - x[out]) / (x[inn] - x[out]);
    const yInterpolated = y[out] + proportion * (y[inn] - y[out]);
    area += ((hi - x[inn]) * (y[inn] + yInterpolated)) / 2;
  }
  if (!loInside) {
    let above = 0;
    while (above < count && !(x[above] > lo)) above++;
    const out = above - 1;
    const inn = above;
    const proportion = (x[inn] - lo) / (x[inn] - x[out]);
    const yInterpolated = y[inn] + proportion * (y[out] - y[inn]);
    area += ((x[inn] - lo) * (y[inn] + yInterpolated)) / 2;
  }
  return area;
}

/** Partial AUC of a curve (se, sp in increasing specificity), corrected if asked. */
function partialAucOfCurve(se: Float64Array, sp: Float64Array, count: number, r: Resolved, x: Float64Array, y: Float64Array, allowInvalid: boolean): number {
  if (r.sensitivityFocus) {
    for (let i = 0; i < count; i++) {
      x[i] = se[count - 1 - i];
      y[i] = sp[count - 1 - i];
    }
  } else {
    for (let i = 0; i < count; i++) {
      x[i] = sp[i];
      y[i] = se[i];
    }
  }
  const area = partialArea(x, y, count, r.hi, r.lo);
  if (!r.correct) return area;
  const min = (((1 - r.hi) + (1 - r.lo)) * Math.abs(r.lo - r.hi)) / 2;
  const max = Math.abs(r.lo - r.hi);
  if (!allowInvalid && area < min) return NaN;
  return (1 + (area - min) / (max - min)) / 2;
}

/**
 * Partial area under the ROC curve over a specificity (or sensitivity) range, optionally with
 * McClish's correction, equal to pROC's
 * `auc(roc, partial.auc = range, partial.auc.focus = focus, partial.auc.correct = correct)`.
 * The corrected value is NaN for a curve below the diagonal over the range, where pROC returns NA.
 *
 * @example
 * partialAuc(labels, scores, { range: [0.8, 1] }); // area over specificity 0.8-1 (at most 0.2)
 * partialAuc(labels, scores, { range: [0.8, 1], correct: true }); // McClish: 0.5 chance, 1 perfect
 */
export function partialAuc(labels: BinaryLabels, scores: ArrayLike<number>, options: PartialAucOptions): number {
  const r = resolve(options, 'partialAuc');
  const c = procRocOf(toBinaryData(labels, scores, 'partialAuc'));
  const count = c.sensitivities.length;
  return partialAucOfCurve(c.sensitivities, c.specificities, count, r, new Float64Array(count), new Float64Array(count), false);
}

/**
 * Bootstrap of the partial AUC (pROC's `ci.auc` and `var` of a partial AUC, which use the
 * bootstrap only: DeLong's variance covers the full AUC). Replicates below the diagonal keep their
 * corrected value (pROC's `allow.invalid.partial.auc.correct = TRUE` inside the bootstrap).
 * Same sampling, seeds and interval types as {@link bootstrapAuc}; `ciType: 'bca'` is not
 * available here (it needs a jackknife of the partial AUC).
 *
 * @example
 * const b = bootstrapPartialAuc(labels, scores, { range: [0.9, 1], correct: true }, { seed: 1 });
 * b.ci; // 95% percentile interval, as pROC's ci.auc(roc, partial.auc = c(1, 0.9), ...)
 */
export function bootstrapPartialAuc(
  labels: BinaryLabels,
  scores: ArrayLike<number>,
  partial: PartialAucOptions,
  options: BootstrapOptions = {},
): BootstrapResult {
  const r = resolve(partial, 'bootstrapPartialAuc');
  if (options.ciType === 'bca') throw new Error("bootstrapPartialAuc: ciType 'bca' is not available for the partial AUC; use 'percentile' or 'basic'");
  const gd = groupData(toBinaryData(labels, scores, 'bootstrapPartialAuc'));
  return bootstrapCounts(gd, observedPartial(gd, r), partialStatistic(gd.nGroups, r), options, 'bootstrapPartialAuc');
}

function observedPartial(gd: Grouped, r: Resolved): number {
  const c = procRocOf(gd.data);
  const count = c.sensitivities.length;
  return partialAucOfCurve(c.sensitivities, c.specificities, count, r, new Float64Array(count), new Float64Array(count), false);
}

/** The partial AUC of a resample's counts, with scratch buffers sized for `nGroups`. */
function partialStatistic(nGroups: number, r: Resolved): CountsStatistic {
  const se = new Float64Array(nGroups + 1);
  const sp = new Float64Array(nGroups + 1);
  const x = new Float64Array(nGroups + 1);
  const y = new Float64Array(nGroups + 1);
  return (pos, neg, g, m, n) => {
    if (m === 0 || n === 0) return NaN;
    const count = curveFromCounts(pos, neg, g, m, n, se, sp);
    return partialAucOfCurve(se, sp, count, r, x, y, true);
  };
}

/**
 * pROC's `roc.test(roc1, roc2, paired = TRUE)` for partial AUCs (which pROC tests by bootstrap
 * only): D = (pAUC1 - pAUC2) / sd(pAUC1* - pAUC2*) over paired resamples, p = 2 Q(|D|).
 *
 * @example
 * bootstrapPartialAucTest(labels, mst, resnet, { range: [0.9, 1] }, { replicates: 2000, seed: 4 }).p;
 */
export function bootstrapPartialAucTest(
  labels: BinaryLabels,
  scores1: ArrayLike<number>,
  scores2: ArrayLike<number>,
  partial: PartialAucOptions,
  options: BootstrapOptions = {},
): BootstrapTestResult {
  const r = resolve(partial, 'bootstrapPartialAucTest');
  const g1 = groupData(toBinaryData(labels, scores1, 'bootstrapPartialAucTest (scores1)'));
  const g2 = groupData(toBinaryData(labels, scores2, 'bootstrapPartialAucTest (scores2)'));
  const diffs = pairedCountDiffs(g1, g2, options, 'bootstrapPartialAucTest', partialStatistic(g1.nGroups, r), partialStatistic(g2.nGroups, r));
  return bootstrapTestResult(observedPartial(g1, r), observedPartial(g2, r), diffs);
}
