import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { sortFloat64 } from './rank';

/**
 * An ROC curve as pROC's `roc(..., direction = "<")` stores it: one point per threshold between
 * consecutive distinct scores (plus -Infinity and +Infinity), ordered by increasing specificity.
 * Point k calls a case positive when its score >= thresholds[k].
 */
export interface ProcRocCurve {
  /** [U + 1] thresholds: -Infinity, the midpoints between the U distinct scores, +Infinity. */
  thresholds: Float64Array;
  /** [U + 1] sensitivity, from 1 down to 0. */
  sensitivities: Float64Array;
  /** [U + 1] specificity, from 0 up to 1. */
  specificities: Float64Array;
}

/**
 * The midpoint thresholds of pROC's `roc.utils.thresholds` for direction "<": (a + b) / 2, or
 * a / 2 + b / 2 beyond 1e100; when a and b are 1 ulp apart the midpoint rounds onto one of them,
 * and pROC then uses the upper value, so the lower one stays below the threshold (the two scores
 * remain distinct points of the curve).
 */
function procThresholds(unique: Float64Array, u: number): Float64Array {
  const t = new Float64Array(u + 1);
  t[0] = -Infinity;
  t[u] = Infinity;
  for (let k = 1; k < u; k++) {
    const a = unique[k - 1];
    const b = unique[k];
    let mid = (a + b) / 2;
    if (Math.abs(mid) > 1e100) mid = a / 2 + b / 2;
    if (mid === a) mid = b;
    t[k] = mid;
  }
  return t;
}

/**
 * Fills `se` and `sp` with the curve of per-group counts (groups in ascending score order; empty
 * groups are skipped) and returns the number of points, U + 1 for U non-empty groups. The
 * divisions are pROC's (`tp / ncases`, `(ncontrols - fp) / ncontrols`), so the values are its bits.
 */
export function curveFromCounts(
  posCount: ArrayLike<number>,
  negCount: ArrayLike<number>,
  nGroups: number,
  m: number,
  n: number,
  se: Float64Array,
  sp: Float64Array,
): number {
  // Walk from the top score down, as pROC's fast algorithm, then store in increasing specificity.
  let u = 0;
  for (let g = 0; g < nGroups; g++) if (posCount[g] + negCount[g] > 0) u++;
  let k = u;
  let tp = 0;
  let fp = 0;
  se[k] = 0;
  sp[k] = 1;
  for (let g = nGroups - 1; g >= 0; g--) {
    const pc = posCount[g];
    const nc = negCount[g];
    if (pc + nc === 0) continue;
    tp += pc;
    fp += nc;
    k--;
    se[k] = tp / m;
    sp[k] = (n - fp) / n;
  }
  return u + 1;
}

/** The curve of validated data (no copy of the inputs). */
export function procRocOf(data: BinaryData): ProcRocCurve {
  const { labels, nPositive: m, nNegative: n } = data;
  const { order, sorted } = sortFloat64(data.scores);
  const total = order.length;
  const unique = new Float64Array(total);
  const pos = new Int32Array(total);
  const neg = new Int32Array(total);
  let u = -1;
  for (let i = 0; i < total; i++) {
    if (u < 0 || sorted[i] !== unique[u]) unique[++u] = sorted[i];
    if (labels[order[i]] === 1) pos[u]++;
    else neg[u]++;
  }
  u++;
  const sensitivities = new Float64Array(u + 1);
  const specificities = new Float64Array(u + 1);
  curveFromCounts(pos, neg, u, m, n, sensitivities, specificities);
  return { thresholds: procThresholds(unique, u), sensitivities, specificities };
}

/**
 * The empirical ROC curve as pROC's `roc(labels, scores, levels = c(0, 1), direction = "<")`:
 * its `thresholds`, `sensitivities` and `specificities` bit for bit (near ties included).
 *
 * @example
 * const c = procRoc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * // c.sensitivities [1, 1, 0.5, 0.5, 0], c.specificities [0, 0.5, 0.5, 1, 1]; thresholds -Inf, 0.225, 0.375, 0.6, Inf (midpoints)
 */
export function procRoc(labels: BinaryLabels, scores: ArrayLike<number>): ProcRocCurve {
  return procRocOf(toBinaryData(labels, scores, 'procRoc'));
}

/** Which coordinate is given: a specificity (returns a sensitivity) or a sensitivity. */
export type CoordInput = 'specificity' | 'sensitivity';

/**
 * pROC's `coords(roc, x, input = "specificity", ret = "sensitivity")` (or the reverse) on a curve
 * in increasing specificity: an exact match takes the best other coordinate among tied points
 * (the highest sensitivity at that specificity, and vice versa); otherwise the two neighbouring
 * points are interpolated linearly. `se`/`sp` hold `count` points.
 */
export function coordAt(se: Float64Array, sp: Float64Array, count: number, value: number, input: CoordInput): number {
  if (input === 'specificity') {
    // Specificity increases along the curve: the first exact match has the highest sensitivity.
    let next = -1;
    for (let i = 0; i < count; i++) {
      if (sp[i] === value) return se[i];
      if (sp[i] > value) {
        next = i;
        break;
      }
    }
    if (next <= 0) return NaN;
    const proportion = (value - sp[next]) / (sp[next - 1] - sp[next]);
    return se[next] + proportion * (se[next - 1] - se[next]);
  }
  // Sensitivity decreases along the curve: the last exact match has the highest specificity.
  let last = -1;
  let next = -1;
  for (let i = 0; i < count; i++) {
    if (se[i] === value) last = i;
    else if (se[i] < value) {
      next = i;
      break;
    }
  }
  if (last >= 0) return sp[last];
  if (next <= 0) return NaN;
  const proportion = (value - se[next]) / (se[next - 1] - se[next]);
  return sp[next] + proportion * (sp[next - 1] - sp[next]);
}

function checkUnit(value: number, what: string, name: string): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`${what}: ${name} must be in [0, 1], got ${value}`);
}

/**
 * Sensitivity of the empirical ROC curve at a given specificity, as pROC's
 * `coords(roc, specificity, input = "specificity", ret = "sensitivity")`: the highest sensitivity
 * among points with exactly that specificity, else linear interpolation between neighbours.
 *
 * @example
 * sensitivityAtSpecificity(labels, scores, 0.9); // sensitivity with 90% specificity
 */
export function sensitivityAtSpecificity(labels: BinaryLabels, scores: ArrayLike<number>, specificity: number): number {
  checkUnit(specificity, 'sensitivityAtSpecificity', 'specificity');
  const c = procRocOf(toBinaryData(labels, scores, 'sensitivityAtSpecificity'));
  return coordAt(c.sensitivities, c.specificities, c.sensitivities.length, specificity, 'specificity');
}

/**
 * Specificity of the empirical ROC curve at a given sensitivity, as pROC's
 * `coords(roc, sensitivity, input = "sensitivity", ret = "specificity")`.
 *
 * @example
 * specificityAtSensitivity(labels, scores, 0.95); // specificity with 95% sensitivity
 */
export function specificityAtSensitivity(labels: BinaryLabels, scores: ArrayLike<number>, sensitivity: number): number {
  checkUnit(sensitivity, 'specificityAtSensitivity', 'sensitivity');
  const c = procRocOf(toBinaryData(labels, scores, 'specificityAtSensitivity'));
  return coordAt(c.sensitivities, c.specificities, c.sensitivities.length, sensitivity, 'sensitivity');
}
