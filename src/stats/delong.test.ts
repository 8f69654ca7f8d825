import { delongAuc, delongPlacements, delongTest, delongTestUnpaired } from './delong';
import { Rng } from '../utils/rng';

/** DeLong's components by the O(m n) definition: psi(x, y) = 1, 1/2, 0 for x > y, =, <. */
function bruteForce(labels: number[], scores: number[]): { cases: number[]; controls: number[]; auc: number } {
  const pos = scores.filter((_, i) => labels[i] === 1);
  const neg = scores.filter((_, i) => labels[i] === 0);
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const cases = pos.map((x) => neg.reduce((a, y) => a + psi(x, y), 0) / neg.length);
  const controls = neg.map((y) => pos.reduce((a, x) => a + psi(x, y), 0) / pos.length);
  return { cases, controls, auc: cases.reduce((a, b) => a + b, 0) / pos.length };
}

function sampleVar(v: number[]): number {
  const mu = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1);
}

function data(n: number, seed: number, levels: number): { y: number[]; s1: number[]; s2: number[] } {
  const rng = new Rng(seed);
  const y: number[] = [];
  const s1: number[] = [];
  const s2: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = rng.bernoulli(0.35) ? 1 : 0;
    const common = rng.normal();
    y.push(l);
    s1.push(Math.round((common + rng.normal() + l) * levels) / levels);
    s2.push(Math.round((common + rng.normal() + 0.5 * l) * levels) / levels);
  }
  return { y, s1, s2 };
}

describe('DeLong', () => {
  test('placements equal the O(m n) definition, with ties', () => {
    const { y, s1 } = data(120, 1, 2);
    const fast = delongPlacements(y, s1);
    const slow = bruteForce(y, s1);
    expect(Array.from(fast.cases)).toEqual(slow.cases.map((v) => expect.closeTo(v, 14)));
    expect(Array.from(fast.controls)).toEqual(slow.controls.map((v) => expect.closeTo(v, 14)));
    expect(fast.auc).toBeCloseTo(slow.auc, 14);
  });

  test('variance is S10/m + S01/n and the CI is θ ± 1.96 σ clipped to [0, 1]', () => {
    const { y, s1 } = data(200, 2, 10);
    const slow = bruteForce(y, s1);
    const r = delongAuc(y, s1);
    const expected = sampleVar(slow.cases) / slow.cases.length + sampleVar(slow.controls) / slow.controls.length;
    expect(r.variance).toBeCloseTo(expected, 15);
    expect(r.ci[0]).toBeCloseTo(r.auc - 1.959963984540054 * Math.sqrt(expected), 14);
    expect(r.ci[1]).toBeCloseTo(r.auc + 1.959963984540054 * Math.sqrt(expected), 14);
    const r90 = delongAuc(y, s1, { confLevel: 0.9 });
    expect(r90.ci[1] - r90.ci[0]).toBeLessThan(r.ci[1] - r.ci[0]);
  });

  test('paired test: covariance from placements, z and p', () => {
    const { y, s1, s2 } = data(300, 3, 100);
    const t = delongTest(y, s1, s2);
    const a = bruteForce(y, s1);
    const b = bruteForce(y, s2);
    const cov = (u: number[], mu: number, v: number[], mv: number): number =>
      u.reduce((acc, x, i) => acc + (x - mu) * (v[i] - mv), 0) / (u.length - 1);
    const c12 = cov(a.cases, a.auc, b.cases, b.auc) / a.cases.length + cov(a.controls, a.auc, b.controls, b.auc) / a.controls.length;
    expect(t.covariance[1]).toBeCloseTo(c12, 15);
    expect(t.z).toBeCloseTo((a.auc - b.auc) / Math.sqrt(t.covariance[0] + t.covariance[3] - 2 * c12), 12);
    expect(t.p).toBeGreaterThan(0);
    expect(t.p).toBeLessThan(1);
    expect(t.ci[0]).toBeLessThan(t.auc1 - t.auc2);
  });

  test('identical scores give z = 0 and p = 1 (pROC special case)', () => {
    const { y, s1 } = data(50, 4, 10);
    const t = delongTest(y, s1, s1);
    expect(t.z).toBe(0);
    expect(t.p).toBe(1);
  });

  test('perfect separation: variance 0, CI [1, 1]', () => {
    const r = delongAuc([0, 0, 0, 1, 1], [1, 2, 3, 4, 5]);
    expect(r.auc).toBe(1);
    expect(r.variance).toBe(0);
    expect(r.ci).toEqual([1, 1]);
  });

  test('fewer than 2 cases of a class: NaN variance, CI and test, as pROC returns NA', () => {
    const y = [1, 0, 0, 0, 0];
    const s = [0.9, 0.1, 0.5, 0.3, 0.95];
    const r = delongAuc(y, s);
    expect(r.auc).toBe(0.75);
    expect(r.variance).toBeNaN();
    expect(r.ci.every(Number.isNaN)).toBe(true);
    expect(delongTest(y, s, s.map((v) => -v)).p).toBeNaN();
  });

  test('unpaired test uses Welch-Satterthwaite df and Student t', () => {
    const a = data(150, 5, 10);
    const b = data(90, 6, 10);
    const t = delongTestUnpaired(a.y, a.s1, b.y, b.s2);
    const va = delongAuc(a.y, a.s1).variance;
    const vb = delongAuc(b.y, b.s2).variance;
    expect(t.t).toBeCloseTo((t.auc1 - t.auc2) / Math.sqrt(va + vb), 13);
    expect(t.df).toBeCloseTo((va + vb) ** 2 / (va ** 2 / 149 + vb ** 2 / 89), 9);
    expect(t.p).toBeGreaterThan(0);
  });

  test('invalid input and confLevel throw', () => {
    expect(() => delongAuc([0, 1], [0.1, 0.2], { confLevel: 1 })).toThrow('confLevel must be in (0, 1), got 1');
    expect(() => delongTest([0, 1, 0], [0.1, 0.2, 0.3], [0.1, 0.2])).toThrow('delongTest (scores2): labels and scores must have equal length');
    expect(() => delongAuc([1, 1], [0.1, 0.2])).toThrow('both classes are needed');
  });
});
