import * as fs from 'node:fs';
import { FULL, fixturePath } from '../helpers';
import {
  auc,
  bootstrapAuc,
  bootstrapTest,
  bootstrapTestUnpaired,
  confusionAtThreshold,
  delongAuc,
  delongTest,
  delongTestUnpaired,
  multiclassAuc,
  rocCurve,
  youdenThreshold,
} from '../../src/stats';

/**
 * Parity with scikit-learn 1.2.1 and pROC 1.18.0 (Debian 12), on the cases written by
 * tools/reference/stats_reference.py. The case data are regenerated here bit for bit from their
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
 *   1 / sqrt(2 (B - 1)) ≈ 0.7% each: tolerance 4% relative.
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
  };
}

interface Expected {
  sklearn_version: string;
  proc_version: string;
  cases: CaseJson[];
  unpaired: { a: string; b: string; t: Num; df: Num; p: Num; boot_d?: number; boot_p?: number }[];
  multiclass: { spec: { n: number; k: number; seed: number }; macro: number; weighted: number; per_class: number[] };
}

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
      expectNear(tb.d, e.boot_d, 0.04 * Math.abs(e.boot_d), 'bootstrap D (unpaired)');
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
      expectNear(t.d, p.boot_test.d, 0.04 * Math.abs(p.boot_test.d), 'bootstrap test D');
    }
  });
});
