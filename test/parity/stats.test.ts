import * as fs from 'node:fs';
import { FULL, fixturePath } from '../helpers';
import {
  auc,
  binormalFit,
  bootstrapAuc,
  bootstrapInterval,
  bootstrapPartialAuc,
  bootstrapPartialAucTest,
  bootstrapTest,
  bootstrapTestUnpaired,
  calibration,
  ciSensitivity,
  ciSpecificity,
  confusionAtThreshold,
  coordsTest,
  decisionCurve,
  delongAuc,
  delongMulti,
  delongTest,
  delongTestUnpaired,
  multiclassAuc,
  normalPdf,
  partialAuc,
  powerRocTest,
  powerRocTest2,
  powerRocTestPaired,
  procRoc,
  rocCurve,
  sensitivityAtSpecificity,
  specificityAtSensitivity,
  venkatramanTest,
  venkatramanTestUnpaired,
  youdenThreshold,
  type PartialAucOptions,
} from '../../src/stats';
import { aucInfluence } from '../../src/stats/bootstrap';
import { toBinaryData } from '../../src/stats/binary_data';

/**
 * Parity with scikit-learn 1.2.1, pROC 1.18.0, boot 1.3-28.1 and R 4.2.2 (Debian 12), on the cases
 * written by tools/reference/stats_reference.py. The case data are regenerated here bit for bit from their
 * specs (`makeCase`, the twin of tools/reference/stats_data.py), so only specs and results are
 * committed.
 *
 * Deterministic quantities are held to 1e-10 (AUC, DeLong variance, ci.auc, roc.test) or to exact
 * equality (roc_curve). Bootstrap numbers come from different random streams (R's and ours), so they
 * agree within Monte-Carlo error only; both sides use 10,000 replicates, and the tolerances are
 * about 4 standard deviations of the difference of two independent estimates:
 * - percentile CI bounds: the MC sd of a 2.5% / 97.5% quantile of B draws is
 *   sqrt(p (1 - p) / B) / φ(1.96) σ ≈ 0.027 σ (σ = bootstrap sd of the AUC), so the difference of
 *   two has sd ≈ 0.038 σ: tolerance 0.15 σ, plus one step 1/(m n) of the AUC lattice because the
 *   resampled AUC is discrete (it matters for tiny n);
 * - bootstrap variance: relative MC sd sqrt(2 / (B - 1)) ≈ 1.4% each, 2% for the difference:
 *   tolerance 8% relative;
 * - bootstrap test statistic D = Δ / sd(Δ*): Δ is exact, sd(Δ*) has relative MC sd
 *   1 / sqrt(2 (B - 1)) ≈ 0.7% each: tolerance 4% relative; its p = 2 Q(|D|) then moves by at most
 *   2 φ(D) ΔD (the derivative), which is the p tolerance;
 * - a permutation p-value (Venkatraman's test) over B permutations is a binomial share with sd
 *   sqrt(p (1 - p) / B): the difference of two has sd sqrt(2 p (1 - p) / B); tolerance 4 of those
 *   plus 2 / B;
 * - coordinate intervals (ci.se, ci.sp): as the AUC's percentile bounds, with σ estimated from the
 *   interval itself (width / 3.92) and the lattice step 1 / m (or 1 / n) of a resampled
 *   sensitivity (specificity).
 * boot.ci is compared on the very same replicates (rebuilt in Python from mst-ts's generator), so
 * its basic and BCa bounds are held to 1e-12.
 */

interface CaseSpec {
  name: string;
  n: number;
  seed: number;
  prevalence?: number;
  positives?: number;
  shift1: number;
  shift2: number;
  levels?: number;
  perfect?: boolean;
  same?: boolean;
  boot?: boolean;
}

type Num = number | string | null;
type ErrorOr<T> = T | { error: string };

interface RocJson {
  fpr: Num[];
  tpr: Num[];
  thresholds: Num[];
}

interface CaseJson {
  spec: CaseSpec;
  sklearn: {
    roc_drop: RocJson;
    roc_full: RocJson;
    roc_auc_score: number;
    youden: { index: number; threshold: number; confusion: [[number, number], [number, number]] };
  };
  proc: {
    auc1: number;
    auc2: number;
    var_delong: ErrorOr<Num>;
    ci_delong: ErrorOr<Num[]>;
    ci_delong_90: ErrorOr<Num[]>;
    test_delong: ErrorOr<{ z: Num; p: Num; conf_int: Num[] }>;
    boot_ci_stratified?: number[];
    boot_var_stratified?: number;
    boot_ci_nonstratified?: ErrorOr<number[]>;
    boot_test?: ErrorOr<{ d: number; p: number }>;
  } & ExtendedProc;
}

interface MultiSpec {
  name: string;
  n: number;
  seed: number;
  prevalence: number;
  shifts: number[];
  levels?: number;
  same?: [number, number][];
}

interface TestJson {
  d: number;
  p: number;
}

interface ExtendedProc {
  partial: Num[];
  coords: { se_at_sp: Num[]; sp_at_se: Num[] };
  curve?: { thresholds: Num[]; sensitivities: Num[]; specificities: Num[] };
  partial_boot_ci?: ErrorOr<number[]>;
  partial_boot_var?: ErrorOr<number>;
  partial_boot_test?: ErrorOr<TestJson>;
  ci_se?: ErrorOr<number[]>;
  ci_sp?: ErrorOr<number[]>;
  test_specificity?: ErrorOr<TestJson>;
  test_sensitivity?: ErrorOr<TestJson>;
  venkatraman?: ErrorOr<{ e: number; p: number }>;
}

interface PowerJson {
  ncases: Num;
  ncontrols: Num;
  auc: Num;
  sig: Num;
  power: Num;
}

interface Expected {
  sklearn_version: string;
  proc_version: string;
  boot_version: string;
  r_version: string;
  near_ties: { labels: number[]; scores: number[]; proc: { auc: number; curve: { thresholds: Num[]; sensitivities: Num[]; specificities: Num[] }; partial: Num[]; coords: { se_at_sp: Num[]; sp_at_se: Num[] } } };
  multi: {
    spec: MultiSpec;
    r: { auc: number[]; cov: number[]; z: Num[]; p: Num[]; p_holm: Num[]; p_bh: Num[]; chi2: number; df: number; p_global: number };
  }[];
  bootci: {
    case: string;
    stratified: boolean;
    replicates: number;
    seed: number;
    first: Num[];
    n_invalid: number;
    r: {
      t0: number;
      n_reps: number;
      sum_reps: number;
      influence_head: number[];
      influence_sumsq: number;
      influence_sumcube: number;
      c95: { basic: number[] | null; bca: number[] | null; perc_boot: number[] | null; percentile: number[] };
      c90: { basic: number[] | null; bca: number[] | null; perc_boot: number[] | null; percentile: number[] };
    };
  }[];
  venkatraman_unpaired: { name: string; cut: number; e_pooled: number; e?: number; p?: number }[];
  power: Record<string, PowerJson> & { one_auc_exact: number; binormal_s1: number[] };
  calibration: {
    spec: { n: number; seed: number; edge_every: number; power: number };
    brier: number;
    curves: {
      strategy: 'uniform' | 'quantile';
      bins: number;
      edges: number[];
      prob_true: number[];
      prob_pred: number[];
      counts: number[];
      ece: number;
      mce: number;
      reliability: number;
      resolution: number;
      within_variance: number;
      within_covariance: number;
    }[];
    decision: { thresholds: number[]; net_benefit: number[]; treat_all: number[] };
    r: { slope: number; intercept: number; recalibration_intercept: number };
  };
  float32: { spec: { n: number; seed: number }; n_positive: number; twice_u: string; exact_auc: number; sklearn_auc: number };
  cases: CaseJson[];
  unpaired: { a: string; b: string; t: Num; df: Num; p: Num; boot_d?: number; boot_p?: number }[];
  multiclass: { spec: { n: number; k: number; seed: number }; macro: number; weighted: number; per_class: number[] };
}

// A module-level copy: a global `Math` lookup per element costs ~100x more inside jest's vm.
const { imul } = Math;

const expected: Expected = JSON.parse(fs.readFileSync(fixturePath('stats', 'expected.json'), 'utf8'));

/** n numbers in [0, 1) with 24 random bits; equal to stats_data.py's `hash_uniform`. */
function hashUniform(seed: number, n: number): Float64Array {
  const base = Math.imul(seed >>> 0, 0x9e3779b9) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = (i + base) >>> 0;
    z ^= z >>> 16;
    z = Math.imul(z, 0x85ebca6b) >>> 0;
    z ^= z >>> 13;
    z = Math.imul(z, 0xc2b2ae35) >>> 0;
    z ^= z >>> 16;
    out[i] = (z >>> 8) / 16777216;
  }
  return out;
}

/** The twin of stats_data.py's `make_case`: the same float operations in the same order. */
function makeCase(spec: CaseSpec): { labels: Uint8Array; s1: Float64Array; s2: Float64Array } {
  const n = spec.n;
  const u = hashUniform(spec.seed, 5 * n);
  const labels = new Uint8Array(n);
  const s1 = new Float64Array(n);
  const s2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l = spec.positives !== undefined ? (i < spec.positives ? 1 : 0) : u[i] < (spec.prevalence as number) ? 1 : 0;
    labels[i] = l;
    let r1 = u[n + i] + u[2 * n + i] + u[3 * n + i] + spec.shift1 * l;
    let r2 = u[n + i] + u[2 * n + i] + u[4 * n + i] + spec.shift2 * l;
    if (spec.perfect) r1 = u[3 * n + i] + 2.0 * l;
    if (spec.levels) {
      r1 = Math.floor(r1 * spec.levels);
      r2 = Math.floor(r2 * spec.levels);
    }
    if (spec.same) r2 = r1;
    s1[i] = r1;
    s2[i] = r2;
  }
  return { labels, s1, s2 };
}

/** The twin of stats_data.py's `make_multi`. */
function makeMulti(spec: MultiSpec): { labels: Uint8Array; scores: Float64Array[] } {
  const { n, shifts } = spec;
  const k = shifts.length;
  const u = hashUniform(spec.seed, (k + 3) * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = u[i] < spec.prevalence ? 1 : 0;
  const scores = shifts.map((shift, j) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const raw = u[n + i] + u[2 * n + i] + u[(3 + j) * n + i] + shift * labels[i];
      out[i] = spec.levels ? Math.floor(raw * spec.levels) : raw;
    }
    return out;
  });
  for (const [i, j] of spec.same ?? []) scores[j] = scores[i].slice();
  return { labels, scores };
}

/** The twin of stats_data.py's `make_probabilities`. */
function makeProbabilities(spec: { n: number; seed: number; edge_every: number; power: number }): { labels: Uint8Array; p: Float64Array } {
  const { n } = spec;
  const u = hashUniform(spec.seed, 2 * n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = Math.floor(u[i] * 1024.0) / 1024.0;
  for (let i = 0, j = 0; i < n; i += spec.edge_every, j++) p[i] = (j % 11) * 0.1;
  p[1] = 0;
  p[2] = 1;
  const labels = new Uint8Array(n);
  if (spec.power !== 2) throw new Error('makeProbabilities: only power 2 has an exact twin');
  for (let i = 0; i < n; i++) labels[i] = u[n + i] < p[i] * p[i] ? 1 : 0;
  return { labels, p };
}

/** JSON value -> number: null (R's NA) -> NaN, 'inf' / 'Infinity' strings -> ±Infinity. */
function num(v: Num): number {
  if (v === null) return NaN;
  if (typeof v === 'number') return v;
  const s = v.toLowerCase();
  if (s === 'inf' || s === 'infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  return NaN;
}

function isError<T>(v: ErrorOr<T>): v is { error: string } {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/** |a - b| <= tol (NaN equals NaN). */
function expectNear(actual: number, wanted: number, tol: number, what: string): void {
  if (Number.isNaN(wanted)) {
    expect({ what, actual }).toEqual({ what, actual: NaN });
    return;
  }
  const ok = actual === wanted || Math.abs(actual - wanted) <= tol;
  if (!ok) throw new Error(`${what}: got ${actual}, pROC/sklearn ${wanted} (|diff| ${Math.abs(actual - wanted)} > ${tol})`);
}

const cases = expected.cases.map((c) => ({ ...c, data: makeCase(c.spec) }));

describe(`parity with scikit-learn ${expected.sklearn_version}`, () => {
  test.each(cases.map((c) => [c.spec.name, c] as const))('%s: roc_curve equals scikit-learn exactly', (_, c) => {
    const { labels, s1 } = c.data;
    for (const [key, drop] of [
      ['roc_drop', true],
      ['roc_full', false],
    ] as const) {
      const r = rocCurve(labels, s1, { dropIntermediate: drop });
      const e = c.sklearn[key];
      expect(Array.from(r.fpr)).toEqual(e.fpr.map(num));
      expect(Array.from(r.tpr)).toEqual(e.tpr.map(num));
      expect(Array.from(r.thresholds)).toEqual(e.thresholds.map(num));
    }
  });

  test.each(cases.map((c) => [c.spec.name, c] as const))('%s: AUC and the authors\' Youden operating point', (_, c) => {
    const { labels, s1 } = c.data;
    expectNear(auc(labels, s1), c.sklearn.roc_auc_score, 1e-12, 'roc_auc_score');
    const y = youdenThreshold(labels, s1);
    expect(y.index).toBe(c.sklearn.youden.index);
    expect(y.threshold).toBe(c.sklearn.youden.threshold);
    expect(confusionAtThreshold(labels, s1, y.threshold)).toEqual(c.sklearn.youden.confusion);
  });

  test('multi-class one-vs-rest AUC equals roc_auc_score(multi_class="ovr")', () => {
    const { n, k, seed } = expected.multiclass.spec;
    const u = hashUniform(seed, n * (k + 1));
    const labels: number[] = [];
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) {
      const l = Math.floor(u[i] * k);
      const raw = Array.from({ length: k }, (_, j) => u[(j + 1) * n + i] + 0.0 + (j === l ? 0.5 : 0));
      let total = raw[0];
      for (let j = 1; j < k; j++) total = total + raw[j];
      labels.push(l);
      rows.push(raw.map((v) => v / total));
    }
    const r = multiclassAuc(labels, rows);
    expectNear(r.macro, expected.multiclass.macro, 1e-12, 'macro');
    expectNear(r.weighted, expected.multiclass.weighted, 1e-12, 'weighted');
    r.perClass.forEach((v, j) => expectNear(v, expected.multiclass.per_class[j], 1e-12, `class ${j}`));
  });
});

describe(`parity with pROC ${expected.proc_version}`, () => {
  test.each(cases.map((c) => [c.spec.name, c] as const))('%s: auc, var and ci.auc (DeLong) to 1e-10', (_, c) => {
    const { labels, s1, s2 } = c.data;
    expectNear(auc(labels, s1), c.proc.auc1, 1e-10, 'auc1');
    expectNear(auc(labels, s2), c.proc.auc2, 1e-10, 'auc2');
    const r = delongAuc(labels, s1);
    if (!isError(c.proc.var_delong)) expectNear(r.variance, num(c.proc.var_delong), 1e-10 * Math.abs(num(c.proc.var_delong)) + 1e-18, 'var');
    for (const [level, ci] of [
      [0.95, c.proc.ci_delong],
      [0.9, c.proc.ci_delong_90],
    ] as const) {
      if (isError(ci)) continue;
      const ours = delongAuc(labels, s1, { confLevel: level });
      expectNear(ours.ci[0], num(ci[0]), 1e-10, `ci ${level} lower`);
      expectNear(ours.ci[1], num(ci[2]), 1e-10, `ci ${level} upper`);
    }
  });

  test.each(cases.map((c) => [c.spec.name, c] as const))('%s: roc.test(method = "delong", paired) to 1e-10', (_, c) => {
    const { labels, s1, s2 } = c.data;
    const t = delongTest(labels, s1, s2);
    const e = c.proc.test_delong;
    if (isError(e)) {
      // pROC refuses (e.g. fewer than 2 cases of a class); we return NaN there.
      expect({ error: e.error, z: t.z }).toEqual({ error: e.error, z: NaN });
      return;
    }
    const z = num(e.z);
    expectNear(t.z, z, 1e-10 * Math.max(1, Math.abs(z)), 'z');
    expectNear(t.p, num(e.p), 1e-10 * num(e.p) + 1e-300, 'p');
    if (e.conf_int !== null && e.conf_int.length === 2) {
      expectNear(t.ci[0], num(e.conf_int[0]), 1e-10, 'conf.int lower');
      expectNear(t.ci[1], num(e.conf_int[1]), 1e-10, 'conf.int upper');
    }
  });

  test.each(expected.unpaired.map((u) => [u.a, u.b, u] as const))('%s vs %s: roc.test(method = "delong", unpaired)', (a, b, e) => {
    const ca = cases.find((c) => c.spec.name === a)!.data;
    const cb = cases.find((c) => c.spec.name === b)!.data;
    const t = delongTestUnpaired(ca.labels, ca.s1, cb.labels, cb.s1);
    // Both AUCs 1 with zero variance gives 0/0: NaN here, NA in pROC.
    expectNear(t.t, num(e.t), 1e-10 * Math.max(1, Math.abs(num(e.t))), 't');
    expectNear(t.df, num(e.df), 1e-10 * num(e.df), 'df');
    expectNear(t.p, num(e.p), 1e-10 * num(e.p) + 1e-300, 'p');
    if (e.boot_d !== undefined) {
      const tb = bootstrapTestUnpaired(ca.labels, ca.s1, cb.labels, cb.s1, { replicates: 10000, seed: 5 });
      expectTestNear(tb, { d: e.boot_d, p: e.boot_p as number }, 'bootstrap test (unpaired)');
    }
  });

  // 10,000 replicates of n = 2000 take seconds under jest; the largest case runs with MST_FULL=1.
  const bootCases = cases.filter((c) => c.spec.boot && (FULL || c.spec.n <= 1000));
  test.each(bootCases.map((c) => [c.spec.name, c] as const))('%s: bootstrap CI, variance and test within Monte-Carlo error', (_, c) => {
    const { labels, s1, s2 } = c.data;
    const m = labels.reduce((a, v) => a + v, 0);
    const lattice = 1 / (m * (labels.length - m));
    const p = c.proc;
    const sigma = Math.sqrt(p.boot_var_stratified as number);
    const tolCi = 0.15 * sigma + lattice;
    const strat = bootstrapAuc(labels, s1, { replicates: 10000, seed: 1, stratified: true });
    const [lo, , hi] = p.boot_ci_stratified as number[];
    expectNear(strat.ci[0], lo, tolCi, 'stratified CI lower');
    expectNear(strat.ci[1], hi, tolCi, 'stratified CI upper');
    expectNear(strat.std ** 2, p.boot_var_stratified as number, 0.08 * (p.boot_var_stratified as number), 'bootstrap variance');
    if (p.boot_ci_nonstratified && !isError(p.boot_ci_nonstratified)) {
      const non = bootstrapAuc(labels, s1, { replicates: 10000, seed: 3, stratified: false });
      const [nlo, , nhi] = p.boot_ci_nonstratified;
      expectNear(non.ci[0], nlo, tolCi * 1.5, 'non-stratified CI lower');
      expectNear(non.ci[1], nhi, tolCi * 1.5, 'non-stratified CI upper');
    }
    if (p.boot_test && !isError(p.boot_test)) {
      const t = bootstrapTest(labels, s1, s2, { replicates: 10000, seed: 4 });
      expectTestNear(t, p.boot_test, 'bootstrap test');
    }
  });
});

/** D within 4% relative (see the header) and p within what that moves it: 2 φ(|D|) ΔD. */
function expectTestNear(t: { d: number; p: number }, e: { d: number; p: number }, what: string): void {
  const tolD = 0.04 * Math.abs(e.d) + 1e-12;
  expectNear(t.d, e.d, tolD, `${what} D`);
  expectNear(t.p, e.p, 2 * normalPdf(Math.max(0, Math.abs(e.d) - tolD)) * tolD + 1e-12, `${what} p`);
}

const PARTIALS: PartialAucOptions[] = [
  { range: [1, 0.8], focus: 'specificity', correct: false },
  { range: [1, 0.8], focus: 'specificity', correct: true },
  { range: [1, 0.9], focus: 'sensitivity', correct: false },
  { range: [1, 0.9], focus: 'sensitivity', correct: true },
  { range: [0.7, 0.5], focus: 'specificity', correct: true },
  { range: [0.96, 0.95], focus: 'specificity', correct: false },
  { range: [0.3, 0.1], focus: 'sensitivity', correct: false },
  { range: [1, 0], focus: 'specificity', correct: true },
];
const COORD_AT = [0, 0.25, 0.5, 0.8, 0.9, 0.95, 1];

function expectCurveAndCoords(labels: ArrayLike<number>, scores: ArrayLike<number>, e: ExtendedProc, what: string): void {
  if (e.curve) {
    const c = procRoc(labels, scores);
    expect(Array.from(c.thresholds)).toEqual(e.curve.thresholds.map(num));
    expect(Array.from(c.sensitivities)).toEqual(e.curve.sensitivities.map(num));
    expect(Array.from(c.specificities)).toEqual(e.curve.specificities.map(num));
  }
  PARTIALS.forEach((opt, i) => expectNear(partialAuc(labels, scores, opt), num(e.partial[i]), 1e-10, `${what} partial AUC ${JSON.stringify(opt)}`));
  COORD_AT.forEach((v, i) => {
    expectNear(sensitivityAtSpecificity(labels, scores, v), num(e.coords.se_at_sp[i]), 1e-12, `${what} se at sp ${v}`);
    expectNear(specificityAtSensitivity(labels, scores, v), num(e.coords.sp_at_se[i]), 1e-12, `${what} sp at se ${v}`);
  });
}

describe(`partial AUC, coordinates and near ties as pROC ${expected.proc_version}`, () => {
  test.each(cases.map((c) => [c.spec.name, c] as const))('%s: roc curve, partial AUCs (McClish too) and coords', (name, c) => {
    expectCurveAndCoords(c.data.labels, c.data.s1, c.proc, name);
  });

  test('scores 1 ulp apart stay distinct points, with pROC\'s thresholds', () => {
    const { labels, scores, proc } = expected.near_ties;
    for (let i = 0; i < scores.length; i += 4) expect(scores[i + 1]).not.toBe(scores[i]);
    expectNear(auc(labels, scores), proc.auc, 1e-15, 'auc');
    expectCurveAndCoords(labels, scores, { ...proc, curve: proc.curve } as ExtendedProc, 'near ties');
  });

  // Curves re-drawn per replicate cost more than the AUC's counts: n = 1000 runs with MST_FULL=1.
  const bootCases = cases.filter((c) => c.spec.boot && (FULL || c.spec.n <= 200));
  test.each(bootCases.map((c) => [c.spec.name, c] as const))('%s: partial AUC bootstrap CI, variance and test within Monte-Carlo error', (_, c) => {
    const { labels, s1, s2 } = c.data;
    const p = c.proc;
    const m = labels.reduce((a, v) => a + v, 0);
    const range: [number, number] = [1, 0.8];
    if (p.partial_boot_var !== undefined && !isError(p.partial_boot_var) && p.partial_boot_ci && !isError(p.partial_boot_ci)) {
      const b = bootstrapPartialAuc(labels, s1, { range, correct: true }, { replicates: 10000, seed: 6 });
      const sigma = Math.sqrt(p.partial_boot_var);
      // The corrected pAUC moves in steps of (1 / m) (0.2 / 2) / (max - min) at most.
      const lattice = 0.5 / m / (0.2 - 0.02);
      expectNear(b.ci[0], p.partial_boot_ci[0], 0.15 * sigma + lattice, 'partial CI lower');
      expectNear(b.ci[1], p.partial_boot_ci[2], 0.15 * sigma + lattice, 'partial CI upper');
      expectNear(b.std ** 2, p.partial_boot_var, 0.08 * p.partial_boot_var, 'partial bootstrap variance');
    }
    if (p.partial_boot_test && !isError(p.partial_boot_test)) {
      expectTestNear(bootstrapPartialAucTest(labels, s1, s2, { range }, { replicates: 10000, seed: 8 }), p.partial_boot_test, 'partial AUC test');
    }
  });

  test.each(bootCases.map((c) => [c.spec.name, c] as const))('%s: ci.se, ci.sp and the specificity / sensitivity tests within Monte-Carlo error', (_, c) => {
    const { labels, s1, s2 } = c.data;
    const p = c.proc;
    const m = labels.reduce((a, v) => a + v, 0);
    const n = labels.length - m;
    const at = [0.8, 0.9, 0.95];
    for (const [ours, e, step] of [
      [ciSensitivity(labels, s1, at, { replicates: 10000, seed: 9 }), p.ci_se, 1 / m],
      [ciSpecificity(labels, s1, at, { replicates: 10000, seed: 10 }), p.ci_sp, 1 / n],
    ] as const) {
      if (!e || isError(e)) continue;
      at.forEach((_v, j) => {
        const [lo, , hi] = e.slice(3 * j, 3 * j + 3);
        const tol = (0.15 * (hi - lo)) / 3.92 + step;
        expectNear(ours.ci[j][0], lo, tol, `coords CI ${j} lower`);
        expectNear(ours.ci[j][1], hi, tol, `coords CI ${j} upper`);
      });
    }
    if (p.test_specificity && !isError(p.test_specificity)) {
      expectTestNear(coordsTest(labels, s1, s2, { specificity: 0.9 }, { replicates: 10000, seed: 11 }), p.test_specificity, 'specificity test');
    }
    if (p.test_sensitivity && !isError(p.test_sensitivity)) {
      expectTestNear(coordsTest(labels, s1, s2, { sensitivity: 0.9 }, { replicates: 10000, seed: 12 }), p.test_sensitivity, 'sensitivity test');
    }
  });
});

/** Tolerance of a permutation p-value over B permutations on each side (see the header). */
function permutationTol(p: number, b: number): number {
  return 4 * Math.sqrt((2 * p * (1 - p)) / b) + 2 / b;
}

describe(`Venkatraman's test as pROC ${expected.proc_version}`, () => {
  const bootCases = cases.filter((c) => c.spec.boot && c.proc.venkatraman && !isError(c.proc.venkatraman) && (FULL || c.spec.n <= 1000));
  test.each(bootCases.map((c) => [c.spec.name, c] as const))('%s: paired E exactly, p within Monte-Carlo error', (_, c) => {
    const e = c.proc.venkatraman as { e: number; p: number };
    const t = venkatramanTest(c.data.labels, c.data.s1, c.data.s2, { permutations: 2000, seed: 13 });
    expect(t.statistic).toBe(e.e);
    expectNear(t.p, e.p, permutationTol(e.p, 2000), 'permutation p');
  });

  test.each(expected.venkatraman_unpaired.map((v) => [v.name, v.cut, v] as const))('%s split at %d: unpaired E (pooled prevalence) and p', (name, cut, v) => {
    const d = cases.find((c) => c.spec.name === name)!.data;
    const t = venkatramanTestUnpaired(d.labels.subarray(0, cut), d.s1.subarray(0, cut), d.labels.subarray(cut), d.s2.subarray(cut), { permutations: 2000, seed: 14 });
    expectNear(t.statistic, v.e_pooled, 1e-12, 'E');
    if (v.e !== undefined && v.p !== undefined) {
      expectNear(t.statistic, v.e, 1e-12, 'E (pROC, equal halves)');
      expectNear(t.p, v.p, permutationTol(v.p, 2000), 'permutation p');
    }
  });
});

describe('several models: pairwise DeLong with Holm / BH and the chi-square test as pROC + R', () => {
  test.each(expected.multi.map((e) => [e.spec.name, e] as const))('%s to 1e-10', (_, e) => {
    const { labels, scores } = makeMulti(e.spec);
    const r = delongMulti(labels, scores);
    const k = scores.length;
    r.models.forEach((mo, j) => expectNear(mo.auc, e.r.auc[j], 1e-12, `auc ${j}`));
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const want = e.r.cov[b * k + a];
        expectNear(r.covariance[a][b], want, 1e-10 * Math.abs(want) + 1e-18, `cov ${a} ${b}`);
      }
    }
    r.pairwise.forEach((t, i) => {
      const z = num(e.r.z[i]);
      expectNear(t.z, z, 1e-10 * Math.max(1, Math.abs(z)), `z ${i}`);
      for (const [ours, want, key] of [
        [t.p, e.r.p[i], 'p'],
        [t.pHolm, e.r.p_holm[i], 'pHolm'],
        [t.pBH, e.r.p_bh[i], 'pBH'],
      ] as const) {
        expectNear(ours, num(want), 1e-10 * num(want) + 1e-300, `${key} ${i}`);
      }
    });
    expect(r.global.df).toBe(e.r.df);
    expectNear(r.global.chi2, e.r.chi2, 1e-10 * e.r.chi2, 'chi2');
    expectNear(r.global.p, e.r.p_global, 1e-10 * e.r.p_global + 1e-300, 'global p');
  });
});

describe(`bootstrap intervals equal R boot ${expected.boot_version}'s boot.ci on the same replicates`, () => {
  test.each(expected.bootci.map((b) => [b.case, b.stratified ? 'stratified' : 'pooled', b] as const))('%s, %s', (name, _, b) => {
    const { labels, s1 } = cases.find((c) => c.spec.name === name)!.data;
    const stratified = b.stratified;
    const base = bootstrapAuc(labels, s1, { replicates: b.replicates, seed: b.seed, stratified });
    // The replicates are the ones the Python twin of the generator handed to R.
    // (Python's midrank AUC may differ from ours in the last bit; the draws are the same.)
    const first = b.first.map(num).filter((v) => !Number.isNaN(v));
    base.replicates.subarray(0, 3).forEach((v, i) => expectNear(v, first[i], 1e-15, `replicate ${i}`));
    expect(base.nInvalid).toBe(b.n_invalid);
    expect(base.replicates.length).toBe(b.r.n_reps);
    expectNear(base.replicates.reduce((a, v) => a + v, 0), b.r.sum_reps, 1e-9, 'sum of replicates');
    expectNear(base.estimate, b.r.t0, 1e-14, 't0');
    const L = aucInfluence(toBinaryData(labels, s1, 'test'), stratified);
    L.subarray(0, 5).forEach((v, i) => expectNear(v, b.r.influence_head[i], 1e-12, `influence ${i}`));
    expectNear(L.reduce((a, v) => a + v * v, 0), b.r.influence_sumsq, 1e-10 * b.r.influence_sumsq, 'Σ L²');
    expectNear(L.reduce((a, v) => a + v * v * v, 0), b.r.influence_sumcube, 1e-10 * Math.abs(b.r.influence_sumcube) + 1e-15, 'Σ L³');
    for (const [level, want] of [
      [0.95, b.r.c95],
      [0.9, b.r.c90],
    ] as const) {
      for (const type of ['percentile', 'basic', 'bca'] as const) {
        const r = bootstrapAuc(labels, s1, { replicates: b.replicates, seed: b.seed, stratified, confLevel: level, ciType: type });
        // null: boot.ci gives no interval (a constant bootstrap distribution).
        const e = want[type] ?? [NaN, NaN];
        expectNear(r.ci[0], e[0], 1e-12, `${type} ${level} lower`);
        expectNear(r.ci[1], e[1], 1e-12, `${type} ${level} upper`);
        const direct = bootstrapInterval(base.estimate, base.replicates, { type, confLevel: level, influence: L });
        expect(direct).toEqual(r.ci);
      }
    }
  });
});

describe(`power.roc.test as pROC ${expected.proc_version}`, () => {
  const P = expected.power;
  const near = (got: number, want: Num, what: string): void => expectNear(got, num(want), 1e-10 * Math.max(1, Math.abs(num(want))), what);
  function expectPower(r: { ncases: number; ncontrols: number; sigLevel: number; power: number; auc?: number }, e: PowerJson, what: string): void {
    near(r.ncases, e.ncases, `${what} ncases`);
    near(r.ncontrols, e.ncontrols, `${what} ncontrols`);
    near(r.sigLevel, e.sig, `${what} sig.level`);
    near(r.power, e.power, `${what} power`);
    if (e.auc !== null && r.auc !== undefined) near(r.auc, e.auc, `${what} auc`);
  }

  test('one AUC against 0.5: sample size, power, significance level', () => {
    expectPower(powerRocTest({ auc: 0.8, power: 0.9 }), P.one_n, 'n');
    expectPower(powerRocTest({ auc: 0.72, power: 0.8, kappa: 2.5, sigLevel: 0.01 }), P.one_n_kappa, 'n, kappa');
    expectPower(powerRocTest({ auc: 0.75, ncases: 40, ncontrols: 60 }), P.one_power, 'power');
    expectPower(powerRocTest({ auc: 0.75, ncases: 40, ncontrols: 60, alternative: 'one.sided' }), P.one_power_onesided, 'power, one-sided');
    expectPower(powerRocTest({ auc: 0.7, ncases: 50, ncontrols: 100, power: 0.8, sigLevel: null }), P.one_sig, 'sig.level');
  });

  test('the detectable AUC: the exact root, and pROC\'s uniroot answer within its 1e-4 tolerance', () => {
    const r = powerRocTest({ ncases: 40, ncontrols: 80, power: 0.8 });
    expectNear(r.auc as number, P.one_auc_exact, 1e-12, 'exact root');
    expectNear(r.auc as number, num(P.one_auc.auc), 2e-4, 'pROC (uniroot tol = 1.2e-4)');
  });

  test('two correlated binormal AUCs (Obuchowski-McClish parameters), full and partial', () => {
    const pars = { A1: 1.2, B1: 1, A2: 0.9, B2: 1.1, rn: 0.4, ra: 0.6, delta: 0.07 };
    expectPower(powerRocTest2(pars, { power: 0.8 }), P.two_n, 'n');
    expectPower(powerRocTest2(pars, { power: 0.9, kappa: 0.5, sigLevel: 0.01 }), P.two_n_kappa, 'n, kappa');
    expectPower(powerRocTest2(pars, { ncases: 120, ncontrols: 200 }), P.two_power, 'power');
    expectPower(powerRocTest2(pars, { ncases: 120, ncontrols: 200, power: 0.8, sigLevel: null }), P.two_sig, 'sig.level');
    expectPower(powerRocTest2({ ...pars, FPR11: 0, FPR12: 0.2, FPR21: 0, FPR22: 0.2 }, { ncases: 300, ncontrols: 300 }), P.two_partial_power, 'partial power');
  });

  test('from a pilot data set: one curve, and two curves by DeLong or Obuchowski', () => {
    const { labels, s1, s2 } = cases.find((c) => c.spec.name === 'n1000')!.data;
    const m = labels.reduce((a, v) => a + v, 0);
    const n = labels.length - m;
    expectPower(powerRocTest({ auc: auc(labels, s1), ncases: m, ncontrols: n }), P.roc1_power, 'one curve power');
    expectPower(powerRocTest({ auc: auc(labels, s1), power: 0.95, kappa: n / m }), P.roc1_n, 'one curve n');
    expectPower(powerRocTestPaired(labels, s1, s2), P.roc2_power, 'two curves power');
    expectPower(powerRocTestPaired(labels, s1, s2, { power: 0.9 }), P.roc2_n, 'two curves n');
    expectPower(powerRocTestPaired(labels, s1, s2, { power: 0.9, kappa: 1 }), P.roc2_n_kappa, 'two curves n, kappa');
    expectPower(powerRocTestPaired(labels, s1, s2, { power: 0.8, sigLevel: null }), P.roc2_sig, 'two curves sig.level');
    expectPower(powerRocTestPaired(labels, s1, s2, { method: 'obuchowski' }), P.roc2_obuchowski, 'two curves Obuchowski');
    const fit = binormalFit(labels, s1);
    near(fit.A, P.binormal_s1[0], 'binormal A (smooth(roc, "binormal"))');
    near(fit.B, P.binormal_s1[1], 'binormal B');
  });
});

describe(`calibration and decision curves as scikit-learn ${expected.sklearn_version} and R glm`, () => {
  const E = expected.calibration;
  const { labels, p } = makeProbabilities(E.spec);

  test.each(E.curves.map((c) => [c.strategy, c.bins, c] as const))('%s bins (%d): calibration_curve, ECE, MCE and the Brier decomposition', (strategy, bins, e) => {
    const r = calibration(labels, p, { strategy, bins });
    expect(r.bins.map((b) => b.count)).toEqual(e.counts);
    r.bins.forEach((b, i) => {
      expectNear(b.fractionPositive, e.prob_true[i], 1e-15, `prob_true ${i}`);
      expectNear(b.meanPredicted, e.prob_pred[i], 1e-14, `prob_pred ${i}`);
    });
    expectNear(r.ece, e.ece, 1e-14, 'ece');
    expectNear(r.mce, e.mce, 1e-14, 'mce');
    expectNear(r.brier, E.brier, 1e-14, 'brier');
    const d = r.brierDecomposition;
    expectNear(d.reliability, e.reliability, 1e-14, 'reliability');
    expectNear(d.resolution, e.resolution, 1e-14, 'resolution');
    expectNear(d.withinBinVariance, e.within_variance, 1e-14, 'within-bin variance');
    expectNear(d.withinBinCovariance, e.within_covariance, 1e-14, 'within-bin covariance');
    expectNear(d.reliability - d.resolution + d.uncertainty + d.withinBinVariance - d.withinBinCovariance, r.brier, 1e-14, 'the decomposition adds up');
  });

  test('calibration slope and intercept equal R glm (logistic recalibration)', () => {
    const r = calibration(labels, p);
    expectNear(r.slope, E.r.slope, 1e-10, 'slope');
    expectNear(r.intercept, E.r.intercept, 1e-10, 'intercept (slope fixed at 1)');
    expectNear(r.recalibrationIntercept, E.r.recalibration_intercept, 1e-10, 'joint intercept');
  });

  test('net benefit, treat all and treat none at 99 thresholds', () => {
    const dc = decisionCurve(labels, p);
    expect(Array.from(dc.thresholds)).toEqual(E.decision.thresholds);
    dc.netBenefit.forEach((v, i) => expectNear(v, E.decision.net_benefit[i], 1e-14, `net benefit ${i}`));
    dc.treatAll.forEach((v, i) => expectNear(v, E.decision.treat_all[i], 1e-14, `treat all ${i}`));
    expect(Array.from(dc.treatNone).every((v) => v === 0)).toBe(true);
  });
});

describe('exactness with more than 2^24 float32 scores', () => {
  test(`AUC of ${expected.float32.spec.n} float32 scores with heavy ties equals the exact Mann-Whitney value`, () => {
    const { n, seed } = expected.float32.spec;
    // hashUniform(seed, n) and hashUniform(seed + 1, n), one element at a time (two 150 MB arrays spared).
    const hash = (base: number, i: number): number => {
      let z = (i + base) >>> 0;
      z ^= z >>> 16;
      z = imul(z, 0x85ebca6b) >>> 0;
      z ^= z >>> 13;
      z = imul(z, 0xc2b2ae35) >>> 0;
      z ^= z >>> 16;
      return (z >>> 8) / 16777216;
    };
    const baseU = Math.imul(seed >>> 0, 0x9e3779b9) >>> 0;
    const baseV = Math.imul((seed + 1) >>> 0, 0x9e3779b9) >>> 0;
    const scores = new Float32Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const u = hash(baseU, i);
      scores[i] = u;
      labels[i] = hash(baseV, i) < 0.25 + 0.5 * u ? 1 : 0;
    }
    expect(hash(baseU, 7)).toBe(hashUniform(seed, 8)[7]);
    expect(labels.reduce((a, x) => a + x, 0)).toBe(expected.float32.n_positive);
    const got = auc(labels, scores);
    expectNear(got, expected.float32.exact_auc, 1e-15, 'exact AUC (integer counts)');
    // A float32 running count stops at 2^24 (16,777,216): the sums here pass it.
    expect(n).toBeGreaterThan(2 ** 24);
  });
});
