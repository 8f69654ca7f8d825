import { venkatramanTest, venkatramanTestUnpaired } from './venkatraman';
import { Rng } from '../utils/rng';

describe('Venkatraman\'s tests', () => {
  const rng = new Rng(12);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < 200; i++) {
    const l = rng.bernoulli(0.5) ? 1 : 0;
    const common = rng.normal();
    labels.push(l);
    a.push(common + rng.normal() + 1.5 * l);
    b.push(common + rng.normal() + 0.2 * l);
    c.push(Math.round(common + rng.normal() + 1.5 * l));
  }

  test('paired: a clearly better score is detected; the seed fixes p', () => {
    const t = venkatramanTest(labels, a, b, { permutations: 300, seed: 1 });
    expect(t.statistic).toBeGreaterThan(0);
    expect(Number.isInteger(t.statistic)).toBe(true);
    expect(t.p).toBeLessThan(0.02);
    expect(venkatramanTest(labels, a, b, { permutations: 300, seed: 1 })).toEqual(t);
    expect(t.permutations).toBe(300);
  });

  test('paired: a score against itself has E = 0 and p = 1', () => {
    expect(venkatramanTest(labels, a, a, { permutations: 50 })).toEqual({ statistic: 0, p: 1, permutations: 50 });
  });

  test('paired: ties (a rounded score) are broken by order as R\'s rank(ties.method = "first")', () => {
    const t = venkatramanTest(labels, c, a, { permutations: 100, seed: 3 });
    expect(t.p).toBeGreaterThan(0.01);
  });

  test('unpaired: two samples of one model do not differ, a weak model does', () => {
    const same = venkatramanTestUnpaired(labels.slice(0, 100), a.slice(0, 100), labels.slice(100), a.slice(100), { permutations: 200, seed: 2 });
    expect(same.p).toBeGreaterThan(0.05);
    const diff = venkatramanTestUnpaired(labels.slice(0, 100), a.slice(0, 100), labels.slice(100), b.slice(100), { permutations: 200, seed: 2 });
    expect(diff.p).toBeLessThan(0.05);
    expect(diff.statistic).toBeGreaterThan(same.statistic);
  });

  test('bad options say what is wrong', () => {
    expect(() => venkatramanTest(labels, a, b, { permutations: 0 })).toThrow('permutations must be an integer >= 1, got 0');
    expect(() => venkatramanTest(labels, a, b.slice(1))).toThrow('venkatramanTest (scores2): labels and scores must have equal length');
  });
});
