import { auc } from './auc';
import { bootstrapAuc, bootstrapMetric, bootstrapRocBand, bootstrapTest, bootstrapTestUnpaired } from './bootstrap';
import { quantileSorted, standardDeviation } from './summary';
import { Rng } from '../utils/rng';

function data(n: number, seed: number): { y: number[]; s1: number[]; s2: number[] } {
  const rng = new Rng(seed);
  const y: number[] = [];
  const s1: number[] = [];
  const s2: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = rng.bernoulli(0.4) ? 1 : 0;
    y.push(l);
    s1.push(Math.round((rng.normal() + l) * 5) / 5);
    s2.push(rng.normal() + 0.3 * l);
  }
  return { y, s1, s2 };
}

describe('bootstrap', () => {
  const { y, s1, s2 } = data(150, 1);

  test('each stratified replicate is the AUC of a resample drawn with the seeded Rng', () => {
    const b = bootstrapAuc(y, s1, { replicates: 20, seed: 3 });
    const rng = new Rng(3);
    const pos = s1.filter((_, i) => y[i] === 1);
    const neg = s1.filter((_, i) => y[i] === 0);
    for (let r = 0; r < 20; r++) {
      const p = pos.map(() => pos[rng.int(pos.length)]);
      const q = neg.map(() => neg[rng.int(neg.length)]);
      expect(b.replicates[r]).toBe(auc([...p.map(() => 1), ...q.map(() => 0)], [...p, ...q]));
    }
    expect(b.estimate).toBe(auc(y, s1));
    expect(b.std).toBe(standardDeviation(b.replicates));
    const sorted = b.replicates.slice().sort();
    const alpha = (1 - 0.95) / 2; // as pROC: c(0 + (1 - conf.level) / 2, 1 - (1 - conf.level) / 2)
    expect(b.ci).toEqual([quantileSorted(sorted, alpha), quantileSorted(sorted, 1 - alpha)]);
  });

  test('is reproducible by seed and 1000 replicates by default', () => {
    const a = bootstrapAuc(y, s1, { seed: 9 });
    const b = bootstrapAuc(y, s1, { seed: 9 });
    const c = bootstrapAuc(y, s1, { seed: 10 });
    expect(a.replicates.length).toBe(1000);
    expect(a.replicates).toEqual(b.replicates);
    expect(a.std).not.toBe(c.std);
  });

  test('bootstrapMetric with the AUC as metric draws the same resamples', () => {
    for (const stratified of [true, false]) {
      const a = bootstrapAuc(y, s1, { replicates: 50, seed: 4, stratified });
      const m = bootstrapMetric(y, s1, (yy, ss) => (yy.includes(0) && yy.includes(1) ? auc(yy, ss) : NaN), { replicates: 50, seed: 4, stratified });
      expect(m.replicates).toEqual(a.replicates);
    }
  });

  test('non-stratified replicates without both classes are dropped and counted', () => {
    const b = bootstrapAuc([1, 0, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.4, 0.5], { replicates: 200, seed: 1, stratified: false });
    expect(b.nInvalid).toBeGreaterThan(0);
    expect(b.replicates.length + b.nInvalid).toBe(200);
    expect(b.replicates.every((v) => v === 1)).toBe(true);
    expect(b.std).toBe(0);
  });

  test('paired test: identical scores give D = 0, p = 1; different ones a finite D', () => {
    const same = bootstrapTest(y, s1, s1, { replicates: 100, seed: 2 });
    expect(same.d).toBe(0);
    expect(same.p).toBe(1);
    const t = bootstrapTest(y, s1, s2, { replicates: 500, seed: 2 });
    expect(t.auc1).toBe(auc(y, s1));
    expect(t.auc2).toBe(auc(y, s2));
    expect(t.d).toBeCloseTo((t.auc1 - t.auc2) / t.std, 14);
    expect(t.p).toBeGreaterThan(0);
    expect(t.p).toBeLessThan(1);
  });

  test('unpaired test resamples each sample on its own', () => {
    const other = data(90, 2);
    const t = bootstrapTestUnpaired(y, s1, other.y, other.s2, { replicates: 300, seed: 5 });
    expect(t.auc2).toBe(auc(other.y, other.s2));
    expect(Number.isFinite(t.d)).toBe(true);
  });

  test('ROC band: mean within [lower, upper], all in [0, 1], last mean point 1', () => {
    const band = bootstrapRocBand(y, s1, { replicates: 200, seed: 0, stratified: false });
    expect(band.fpr.length).toBe(100);
    for (let i = 0; i < 100; i++) {
      expect(band.lower[i]).toBeLessThanOrEqual(band.meanTpr[i]);
      expect(band.upper[i]).toBeGreaterThanOrEqual(band.meanTpr[i]);
      expect(band.lower[i]).toBeGreaterThanOrEqual(0);
      expect(band.upper[i]).toBeLessThanOrEqual(1);
    }
    expect(band.meanTpr[99]).toBe(1);
    expect(band.aucs.length).toBe(200);
  });

  test('bad options throw clear errors', () => {
    expect(() => bootstrapAuc(y, s1, { replicates: 1 })).toThrow('replicates must be an integer >= 2, got 1');
    expect(() => bootstrapAuc(y, s1, { seed: NaN })).toThrow('seed must be a finite number');
    expect(() => bootstrapAuc(y, s1, { confLevel: 95 })).toThrow('confLevel must be in (0, 1), got 95');
  });
});
