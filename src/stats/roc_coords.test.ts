import { ciSensitivity, ciSpecificity, coordsTest, coordsTestUnpaired } from './coords_bootstrap';
import { procRoc, sensitivityAtSpecificity, specificityAtSensitivity } from './roc_coords';
import { Rng } from '../utils/rng';

describe('procRoc and coordinates', () => {
  test('the curve pROC stores (R 4.2.2, pROC 1.18.0)', () => {
    const c = procRoc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(Array.from(c.thresholds)).toEqual([-Infinity, 0.22499999999999998, 0.375, 0.6000000000000001, Infinity]);
    expect(Array.from(c.sensitivities)).toEqual([1, 1, 0.5, 0.5, 0]);
    expect(Array.from(c.specificities)).toEqual([0, 0.5, 0.5, 1, 1]);
  });

  test('an exact match takes the best point, otherwise neighbours are interpolated', () => {
    const y = [0, 0, 1, 1];
    const s = [0.1, 0.4, 0.35, 0.8];
    // specificity 0.5 is reached at sensitivity 1 and 0.5: the higher wins.
    expect(sensitivityAtSpecificity(y, s, 0.5)).toBe(1);
    expect(sensitivityAtSpecificity(y, s, 0.75)).toBe(0.5);
    expect(sensitivityAtSpecificity(y, s, 0.25)).toBe(1);
    expect(specificityAtSensitivity(y, s, 0.5)).toBe(1);
    expect(specificityAtSensitivity(y, s, 0.75)).toBe(0.5);
    expect(() => sensitivityAtSpecificity(y, s, 1.5)).toThrow('specificity must be in [0, 1], got 1.5');
  });
});

describe('coordinate intervals and tests', () => {
  const rng = new Rng(9);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 300; i++) {
    const l = rng.bernoulli(0.5) ? 1 : 0;
    labels.push(l);
    a.push(rng.normal() + 1.5 * l);
    b.push(rng.normal() + 0.3 * l);
  }

  test('ci.se / ci.sp bracket the observed coordinate, seeded', () => {
    const r = ciSensitivity(labels, a, [0.8, 0.9], { replicates: 400, seed: 1 });
    expect(r.estimate).toEqual([sensitivityAtSpecificity(labels, a, 0.8), sensitivityAtSpecificity(labels, a, 0.9)]);
    r.ci.forEach(([lo, hi], j) => {
      expect(lo).toBeLessThanOrEqual(r.estimate[j]);
      expect(hi).toBeGreaterThanOrEqual(r.estimate[j]);
      expect(r.median[j]).toBeGreaterThanOrEqual(lo);
    });
    expect(ciSensitivity(labels, a, [0.8, 0.9], { replicates: 400, seed: 1 })).toEqual(r);
    const sp = ciSpecificity(labels, a, [0.9], { replicates: 400, seed: 1, stratified: false });
    expect(sp.replicates + sp.nInvalid).toBe(400);
    expect(() => ciSensitivity(labels, a, [], {})).toThrow('expected at least one specificity');
  });

  test('the specificity test separates a strong from a weak score, and not a score from itself', () => {
    const t = coordsTest(labels, a, b, { specificity: 0.9 }, { replicates: 500, seed: 2 });
    expect(t.value1).toBeGreaterThan(t.value2);
    expect(t.p).toBeLessThan(0.01);
    expect(coordsTest(labels, a, a, { sensitivity: 0.9 }, { replicates: 100 })).toMatchObject({ d: 0, p: 1 });
    const u = coordsTestUnpaired(labels.slice(0, 150), a.slice(0, 150), labels.slice(150), b.slice(150), { sensitivity: 0.8 }, { replicates: 300 });
    expect(u.value1).toBeGreaterThan(u.value2);
    expect(() => coordsTest(labels, a, b, { specificity: 0.9, sensitivity: 0.9 } as never)).toThrow('give exactly one of');
  });
});
