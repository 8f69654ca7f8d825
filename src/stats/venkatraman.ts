import { toBinaryData, type BinaryData, type BinaryLabels } from './binary_data';
import { sortFloat64 } from './rank';
import { Rng } from '../utils/rng';

// Module-level copies: the permutation loops would otherwise look up the global `Math` per
// element, which costs ~100x more inside jest's vm sandbox.
const { abs, floor } = Math;

/** Options of the Venkatraman tests. */
export interface VenkatramanOptions {
  /** Number of permutations. Default 2000 (pROC's `boot.n`). */
  permutations?: number;
  /** Seed of the permutations. Default 0. */
  seed?: number;
}

/** Venkatraman's permutation test that two ROC curves are equal at every operating point. */
export interface VenkatramanResult {
  /** The statistic E on the observed data (pROC's `statistic`). */
  statistic: number;
  /** Share of permutations whose E is >= the observed one (pROC's `p.value`). */
  p: number;
  /** Number of permutations. */
  permutations: number;
}

function resolve(options: VenkatramanOptions, what: string): { permutations: number; seed: number } {
  const permutations = options.permutations ?? 2000;
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(permutations) && permutations >= 1)) throw new Error(`${what}: permutations must be an integer >= 1, got ${permutations}`);
  if (!Number.isFinite(seed)) throw new Error(`${what}: seed must be a finite number, got ${seed}`);
  return { permutations, seed };
}

/** Ranks 1..N with ties broken by input order (R's `rank(ties.method = "first")`). */
function firstRanks(scores: Float64Array): Float64Array {
  const { order } = sortFloat64(scores);
  const r = new Float64Array(order.length);
  for (let i = 0; i < order.length; i++) r[order[i]] = i + 1;
  return r;
}

/**
 * Ranks of values that lie within 0.5 of integers 1..K with at most two values per integer (the
 * jittered ranks of the permutations): a bucket pass instead of a sort, so a permutation costs O(N).
 */
function bucketRanks(values: Float64Array, k: number, out: Float64Array, first: Int32Array, second: Int32Array): void {
  first.fill(-1);
  second.fill(-1);
  for (let i = 0; i < values.length; i++) {
    const b = floor(values[i] + 0.5);
    if (first[b] < 0) first[b] = i;
    else second[b] = i;
  }
  let rank = 0;
  for (let b = 0; b <= k; b++) {
    const i = first[b];
    if (i < 0) continue;
    const j = second[b];
    if (j < 0) out[i] = ++rank;
    else if (values[i] < values[j] || (values[i] === values[j] && i < j)) {
      out[i] = ++rank;
      out[j] = ++rank;
    } else {
      out[j] = ++rank;
      out[i] = ++rank;
    }
  }
}

/** Paired E = Σ_x |(fn_S(x) + fp_S(x)) - (fn_R(x) + fp_R(x))| over rank cut-offs x = 1..N. */
function pairedStatistic(r: Float64Array, s: Float64Array, labels: Uint8Array, nNegative: number, caseR: Uint8Array, caseS: Uint8Array): number {
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    caseR[r[i]] = labels[i];
    caseS[s[i]] = labels[i];
  }
  // fn(x) = cases ranked <= x, fp(x) = controls ranked > x: fn + fp = cases<=x + nNegative - controls<=x.
  let fnR = 0;
  let fpR = nNegative;
  let fnS = 0;
  let fpS = nNegative;
  let e = 0;
  for (let x = 1; x <= n; x++) {
    if (caseR[x] === 1) fnR++;
    else fpR--;
    if (caseS[x] === 1) fnS++;
    else fpS--;
    e += abs(fnS + fpS - (fnR + fpR));
  }
  return e;
}

/**
 * Venkatraman & Begg (1996)'s paired permutation test of two ROC curves on the same cases, as
 * pROC's `roc.test(roc1, roc2, method = "venkatraman", paired = TRUE)`: E sums, over every rank
 * cut-off, the difference of the two curves' error counts (false negatives + false positives);
 * each permutation swaps the two ranks of a random half of the cases (the others get a uniform
 * jitter that breaks ties at random) and re-ranks. E equals pROC's exactly; p is a Monte-Carlo
 * estimate (seeded). Each permutation costs O(N) (a bucket pass, no sort).
 *
 * @example
 * venkatramanTest(labels, mst, resnet, { permutations: 2000, seed: 1 }).p;
 */
export function venkatramanTest(labels: BinaryLabels, scores1: ArrayLike<number>, scores2: ArrayLike<number>, options: VenkatramanOptions = {}): VenkatramanResult {
  const opt = resolve(options, 'venkatramanTest');
  const d1 = toBinaryData(labels, scores1, 'venkatramanTest (scores1)');
  const d2 = toBinaryData(labels, scores2, 'venkatramanTest (scores2)');
  const n = d1.labels.length;
  const r = firstRanks(d1.scores);
  const s = firstRanks(d2.scores);
  const caseR = new Uint8Array(n + 1);
  const caseS = new Uint8Array(n + 1);
  const e = pairedStatistic(r, s, d1.labels, d1.nNegative, caseR, caseS);
  const rng = new Rng(opt.seed);
  const r3 = new Float64Array(n);
  const s3 = new Float64Array(n);
  const rr = new Float64Array(n);
  const sr = new Float64Array(n);
  const first = new Int32Array(n + 2);
  const second = new Int32Array(n + 2);
  let atLeast = 0;
  for (let p = 0; p < opt.permutations; p++) {
    for (let i = 0; i < n; i++) {
      if (rng.uniform() < 0.5) {
        r3[i] = r[i] + rng.uniform() - 0.5;
        s3[i] = s[i] + rng.uniform() - 0.5;
      } else {
        r3[i] = s[i];
        s3[i] = r[i];
      }
    }
    bucketRanks(r3, n + 1, rr, first, second);
    bucketRanks(s3, n + 1, sr, first, second);
    if (pairedStatistic(rr, sr, d1.labels, d1.nNegative, caseR, caseS) >= e) atLeast++;
  }
  return { statistic: e, p: atLeast / opt.permutations, permutations: opt.permutations };
}

/** The unpaired curve of one sample on its rank scale: mixture position p(x) and expected correct rate. */
function unpairedCurve(ranks: Float64Array, labels: Uint8Array, nPositive: number, mp: number, p: Float64Array, expected: Float64Array, isCase: Uint8Array): void {
  const n = labels.length;
  const nNegative = n - nPositive;
  for (let i = 0; i < n; i++) isCase[ranks[i]] = labels[i];
  let cases = 0;
  let controls = 0;
  for (let x = 1; x <= n; x++) {
    if (isCase[x] === 1) cases++;
    else controls++;
    const fx = cases / nPositive;
    const gx = controls / nNegative;
    p[x - 1] = mp * fx + (1 - mp) * gx;
    expected[x - 1] = mp * fx + (1 - mp) * (1 - gx);
  }
}

/** R's `approxfun(x, y)` (linear, NA outside [x_0, x_(n-1)]) at v, with `i` the last x_i <= v. */
function interpolate(x: Float64Array, y: Float64Array, i: number, v: number): number {
  const n = x.length;
  if (v < x[0] || v > x[n - 1]) return NaN;
  if (i >= n - 1) return y[n - 1];
  const j = i + 1;
  if (v === x[j]) return y[j];
  if (v === x[i]) return y[i];
  return y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]));
}

/** The unpaired E: ∫ |R(x) - S(x)| dx by trapezoids over the merged mixture positions. */
function unpairedStatistic(pR: Float64Array, eR: Float64Array, pS: Float64Array, eS: Float64Array): number {
  const nR = pR.length;
  const nS = pS.length;
  let iR = 0;
  let iS = 0;
  let lastR = -1;
  let lastS = -1;
  let prevX = NaN;
  let prevY = NaN;
  let integral = 0;
  while (iR < nR || iS < nS) {
    const takeR = iS >= nS || (iR < nR && pR[iR] <= pS[iS]);
    const x = takeR ? pR[iR++] : pS[iS++];
    while (lastR + 1 < nR && pR[lastR + 1] <= x) lastR++;
    while (lastS + 1 < nS && pS[lastS + 1] <= x) lastS++;
    const y = abs(interpolate(pR, eR, lastR, x) - interpolate(pS, eS, lastS, x));
    const term = ((y + prevY) * (x - prevX)) / 2;
    if (!Number.isNaN(term)) integral += term;
    prevX = x;
    prevY = y;
  }
  return integral;
}

function shuffle(a: Float64Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = floor(rng.uniform() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Venkatraman (2000)'s unpaired permutation test of two ROC curves from different cases, as
 * pROC's `roc.test(roc1, roc2, method = "venkatraman", paired = FALSE)`: E integrates the absolute
 * difference of the two curves drawn on the rank scale of the mixture (prevalence mp); each
 * permutation pools the jittered control ranks of both samples (and the case ranks), deals them
 * back at random, and re-ranks. mp is the pooled prevalence (cases1 + cases2) / (N1 + N2); pROC
 * 1.18 divides by 2 N1 instead, which differs when N1 != N2. O(N1 + N2) per permutation.
 *
 * @example
 * venkatramanTestUnpaired(labelsA, scoresA, labelsB, scoresB, { seed: 2 }).p;
 */
export function venkatramanTestUnpaired(
  labels1: BinaryLabels,
  scores1: ArrayLike<number>,
  labels2: BinaryLabels,
  scores2: ArrayLike<number>,
  options: VenkatramanOptions = {},
): VenkatramanResult {
  const opt = resolve(options, 'venkatramanTestUnpaired');
  const d1 = toBinaryData(labels1, scores1, 'venkatramanTestUnpaired (sample 1)');
  const d2 = toBinaryData(labels2, scores2, 'venkatramanTestUnpaired (sample 2)');
  const n1 = d1.labels.length;
  const n2 = d2.labels.length;
  const mp = (d1.nPositive + d2.nPositive) / (n1 + n2);
  const r = firstRanks(d1.scores);
  const s = firstRanks(d2.scores);
  const buffers = {
    pR: new Float64Array(n1),
    eR: new Float64Array(n1),
    pS: new Float64Array(n2),
    eS: new Float64Array(n2),
    caseR: new Uint8Array(n1 + 1),
    caseS: new Uint8Array(n2 + 1),
  };
  const statistic = (rr: Float64Array, sr: Float64Array): number => {
    unpairedCurve(rr, d1.labels, d1.nPositive, mp, buffers.pR, buffers.eR, buffers.caseR);
    unpairedCurve(sr, d2.labels, d2.nPositive, mp, buffers.pS, buffers.eS, buffers.caseS);
    return unpairedStatistic(buffers.pR, buffers.eR, buffers.pS, buffers.eS);
  };
  const e = statistic(r, s);
  const controls = new Float64Array(d1.nNegative + d2.nNegative);
  const cases = new Float64Array(d1.nPositive + d2.nPositive);
  const jR = new Float64Array(n1);
  const jS = new Float64Array(n2);
  const rr = new Float64Array(n1);
  const sr = new Float64Array(n2);
  const k = Math.max(n1, n2) + 1;
  const first = new Int32Array(k + 1);
  const second = new Int32Array(k + 1);
  const rng = new Rng(opt.seed);
  let atLeast = 0;
  for (let p = 0; p < opt.permutations; p++) {
    for (let i = 0; i < n1; i++) jR[i] = r[i] + rng.uniform() - 0.5;
    for (let i = 0; i < n2; i++) jS[i] = s[i] + rng.uniform() - 0.5;
    deal(jR, d1, jS, d2, controls, cases, rng);
    bucketRanks(jR, k, rr, first, second);
    bucketRanks(jS, k, sr, first, second);
    if (statistic(rr, sr) >= e) atLeast++;
  }
  return { statistic: e, p: atLeast / opt.permutations, permutations: opt.permutations };
}

/** Pools each class's jittered ranks from both samples, shuffles, and deals them back in place. */
function deal(jR: Float64Array, d1: BinaryData, jS: Float64Array, d2: BinaryData, controls: Float64Array, cases: Float64Array, rng: Rng): void {
  let c = 0;
  let a = 0;
  for (let i = 0; i < jR.length; i++) {
    if (d1.labels[i] === 1) cases[a++] = jR[i];
    else controls[c++] = jR[i];
  }
  for (let i = 0; i < jS.length; i++) {
    if (d2.labels[i] === 1) cases[a++] = jS[i];
    else controls[c++] = jS[i];
  }
  shuffle(controls, rng);
  shuffle(cases, rng);
  c = 0;
  a = 0;
  for (let i = 0; i < jR.length; i++) jR[i] = d1.labels[i] === 1 ? cases[a++] : controls[c++];
  for (let i = 0; i < jS.length; i++) jS[i] = d2.labels[i] === 1 ? cases[a++] : controls[c++];
}
