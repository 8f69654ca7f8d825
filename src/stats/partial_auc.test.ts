import { auc } from './auc';
import { bootstrapPartialAuc, bootstrapPartialAucTest, partialAuc } from './partial_auc';
import { Rng } from '../utils/rng';

describe('partialAuc', () => {
  const rng = new Rng(4);
  const labels: number[] = [];
  const scores: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < 200; i++) {
    const l = rng.bernoulli(0.4) ? 1 : 0;
    labels.push(l);
    scores.push(Math.round((rng.normal() + 1.2 * l) * 10) / 10);
    other.push(rng.normal() + 0.6 * l);
  }

  test('a perfect classifier fills the range; McClish maps it to 1', () => {
    const y = [0, 0, 0, 1, 1, 1];
    const s = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
    expect(partialAuc(y, s, { range: [0.8, 1] })).toBeCloseTo(0.2, 15);
    expect(partialAuc(y, s, { range: [0.8, 1], correct: true })).toBeCloseTo(1, 15);
    expect(partialAuc(y, s, { range: [1, 0.9], focus: 'sensitivity', correct: true })).toBeCloseTo(1, 15);
  });

  test('an uninformative score lies on the diagonal: McClish gives 0.5', () => {
    const y = [0, 1, 0, 1];
    const s = [0.5, 0.5, 0.5, 0.5];
    expect(partialAuc(y, s, { range: [0.8, 1] })).toBeCloseTo(0.02, 15);
    expect(partialAuc(y, s, { range: [0.8, 1], correct: true })).toBeCloseTo(0.5, 15);
  });

  test('the full range is the AUC on either axis', () => {
    expect(partialAuc(labels, scores, { range: [0, 1] })).toBeCloseTo(auc(labels, scores), 14);
    expect(partialAuc(labels, scores, { range: [1, 0], focus: 'sensitivity' })).toBeCloseTo(auc(labels, scores), 14);
  });

  test('the corrected value is NaN below the diagonal, as pROC\'s NA', () => {
    const y = [1, 1, 1, 0, 0, 0];
    const s = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
    expect(partialAuc(y, s, { range: [0.8, 1], correct: true })).toBeNaN();
    expect(partialAuc(y, s, { range: [0.8, 1] })).toBe(0);
  });

  test('bootstrap: seeded, stratified, brackets the estimate; the test of a curve with itself is D = 0', () => {
    const a = bootstrapPartialAuc(labels, scores, { range: [0.9, 1], correct: true }, { replicates: 300, seed: 2 });
    const b = bootstrapPartialAuc(labels, scores, { range: [0.9, 1], correct: true }, { replicates: 300, seed: 2 });
    expect(a.ci).toEqual(b.ci);
    expect(a.estimate).toBe(partialAuc(labels, scores, { range: [0.9, 1], correct: true }));
    expect(a.ci[0]).toBeLessThan(a.estimate);
    expect(a.ci[1]).toBeGreaterThan(a.estimate);
    const basic = bootstrapPartialAuc(labels, scores, { range: [0.9, 1] }, { replicates: 300, seed: 2, ciType: 'basic' });
    expect(basic.ciType).toBe('basic');
    expect(bootstrapPartialAucTest(labels, scores, scores, { range: [0.8, 1] }, { replicates: 50 })).toMatchObject({ d: 0, p: 1 });
    const t = bootstrapPartialAucTest(labels, scores, other, { range: [0.8, 1] }, { replicates: 300, seed: 1 });
    expect(t.p).toBeGreaterThan(0);
    expect(t.p).toBeLessThan(1);
  });

  test('bad options say what is wrong', () => {
    expect(() => partialAuc(labels, scores, { range: [0.8, 1.2] })).toThrow('range must lie within [0, 1], got [0.8, 1.2]');
    expect(() => partialAuc(labels, scores, { range: [0.8, 0.8] })).toThrow('two different ends');
    expect(() => partialAuc(labels, scores, { range: [0.8, 1], focus: 'fpr' as never })).toThrow("focus must be 'specificity' or 'sensitivity'");
    expect(() => partialAuc(labels, scores, {} as never)).toThrow('range must be [from, to]');
    expect(() => bootstrapPartialAuc(labels, scores, { range: [0.8, 1] }, { ciType: 'bca' })).toThrow("ciType 'bca' is not available");
  });
});
