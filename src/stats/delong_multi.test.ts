import { delongMulti } from './delong_multi';
import { delongAuc, delongTest } from './delong';
import { symmetricEigen } from './symmetric_eigen';
import { Rng } from '../utils/rng';

function data(n: number, seed: number): { labels: number[]; s: number[][] } {
  const rng = new Rng(seed);
  const labels: number[] = [];
  const s: number[][] = [[], [], [], []];
  for (let i = 0; i < n; i++) {
    const l = rng.bernoulli(0.4) ? 1 : 0;
    const common = rng.normal();
    labels.push(l);
    s[0].push(common + rng.normal() + 1.2 * l);
    s[1].push(common + rng.normal() + 0.8 * l);
    s[2].push(Math.round(common + rng.normal() + 0.5 * l));
    s[3].push(rng.normal() + 0.9 * l);
  }
  return { labels, s };
}

describe('delongMulti', () => {
  const { labels, s } = data(300, 5);

  test('each pair equals delongTest and each model delongAuc', () => {
    const r = delongMulti(labels, s);
    expect(r.pairwise.map((t) => [t.i, t.j])).toEqual([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
    for (const t of r.pairwise) {
      const ref = delongTest(labels, s[t.i], s[t.j]);
      expect([t.auc1, t.auc2, t.z, t.p, ...t.ci]).toEqual([ref.auc1, ref.auc2, ref.z, ref.p, ...ref.ci]);
      expect(t.pHolm).toBeGreaterThanOrEqual(t.p);
      expect(t.pBH).toBeGreaterThanOrEqual(t.p);
      expect(t.pBH).toBeLessThanOrEqual(t.pHolm);
    }
    r.models.forEach((mo, i) => {
      const ref = delongAuc(labels, s[i]);
      expect(mo.auc).toBe(ref.auc);
      expect(mo.variance).toBeCloseTo(ref.variance, 17);
      expect(mo.ci[0]).toBeCloseTo(ref.ci[0], 14);
    });
    expect(r.global.df).toBe(3);
    expect(r.global.chi2).toBeGreaterThan(0);
  });

  test('two models: chi2 = z^2 on 1 df and the same p', () => {
    const r = delongMulti(labels, [s[0], s[1]]);
    const t = delongTest(labels, s[0], s[1]);
    expect(r.global.df).toBe(1);
    expect(r.global.chi2).toBeCloseTo(t.z * t.z, 10);
    expect(Math.abs(r.global.p - t.p)).toBeLessThan(1e-12);
  });

  test('a duplicated model lowers df instead of dividing by zero', () => {
    // Two distinct models: one independent contrast.
    const r = delongMulti(labels, [s[0], s[1], s[0]]);
    expect(r.global.df).toBe(1);
    const two = delongMulti(labels, [s[0], s[1]]);
    expect(r.global.chi2).toBeCloseTo(two.global.chi2, 8);
    expect(r.pairwise[1]).toMatchObject({ z: 0, p: 1 });
  });

  test('bad input says what is wrong', () => {
    expect(() => delongMulti(labels, [s[0]])).toThrow('expected at least 2 score arrays, got 1');
    expect(() => delongMulti(labels, [s[0], s[1].slice(1)])).toThrow('delongMulti (scores 1): labels and scores must have equal length');
    expect(() => delongMulti(labels, s, { confLevel: 2 })).toThrow('confLevel must be in (0, 1)');
  });
});

describe('symmetricEigen', () => {
  test('reconstructs the matrix from its eigenpairs', () => {
    const a = [
      [4, 1, -2],
      [1, 3, 0.5],
      [-2, 0.5, 5],
    ];
    const { values, vectors } = symmetricEigen(a);
    expect(values[0]).toBeLessThanOrEqual(values[1]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        for (let e = 0; e < 3; e++) sum += values[e] * vectors[e][i] * vectors[e][j];
        expect(sum).toBeCloseTo(a[i][j], 13);
      }
    }
    expect(symmetricEigen([[2, 1], [1, 2]]).values.map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, 3]);
  });
});
