import { bootstrapAuc, bootstrapMetric } from './bootstrap';
import { bootstrapInterval, normInter } from './bootstrap_ci';
import { auc } from './auc';
import { Rng } from '../utils/rng';

describe('normInter (boot\'s order-statistic quantile)', () => {
  test('equals boot:::norm.inter (R 4.2.2, boot 1.3-28.1)', () => {
    const t = Float64Array.from({ length: 99 }, (_, i) => (i + 1) ** 1.5 / 10);
    // norm.inter(t, c(0.025, 0.975, 0.5, 0.004))
    const want = [0.41123249809554563, 96.211908540508617, 35.355339059327378, 0.10000000000000001];
    [0.025, 0.975, 0.5, 0.004].forEach((a, i) => expect(Math.abs(normInter(t, a) - want[i])).toBeLessThan(1e-13 * want[i]));
  });
});

describe('bootstrapInterval', () => {
  const rng = new Rng(3);
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < 150; i++) {
    const l = rng.bernoulli(0.4) ? 1 : 0;
    labels.push(l);
    scores.push(rng.normal() + l);
  }

  test('basic reflects the quantiles around the estimate; all types bracket it here', () => {
    const b = bootstrapAuc(labels, scores, { replicates: 999, seed: 1 });
    const sorted = b.replicates.slice().sort();
    const basic = bootstrapInterval(b.estimate, b.replicates, { type: 'basic' });
    expect(basic[0]).toBeCloseTo(2 * b.estimate - normInter(sorted, 0.975), 15);
    for (const type of ['percentile', 'basic', 'bca'] as const) {
      const ci = bootstrapAuc(labels, scores, { replicates: 999, seed: 1, ciType: type }).ci;
      expect(ci[0]).toBeLessThan(b.estimate);
      expect(ci[1]).toBeGreaterThan(b.estimate);
    }
  });

  test('bca of a metric uses its jackknife; for the AUC it equals the O(N) placement jackknife', () => {
    const viaAuc = bootstrapAuc(labels, scores, { replicates: 500, seed: 4, ciType: 'bca' });
    const viaMetric = bootstrapMetric(labels, scores, (y, s) => auc(y, s), { replicates: 500, seed: 4, ciType: 'bca' });
    expect(viaMetric.replicates).toEqual(viaAuc.replicates);
    expect(viaMetric.ci[0]).toBeCloseTo(viaAuc.ci[0], 12);
    expect(viaMetric.ci[1]).toBeCloseTo(viaAuc.ci[1], 12);
  });

  test('bca without influence values, or with every replicate on one side, says so', () => {
    expect(() => bootstrapInterval(0.5, [0.4, 0.6], { type: 'bca' })).toThrow("type 'bca' needs options.influence");
    expect(bootstrapInterval(0.1, [0.4, 0.6, 0.5], { type: 'bca', influence: [1, -1, 0.5] })).toEqual([NaN, NaN]);
    expect(() => bootstrapInterval(0.5, [0.4, 0.6], { type: 'norm' as never })).toThrow("type must be 'percentile', 'basic' or 'bca'");
    expect(() => bootstrapAuc(labels, scores, { ciType: 'student' as never })).toThrow("ciType must be 'percentile', 'basic' or 'bca'");
  });
});
