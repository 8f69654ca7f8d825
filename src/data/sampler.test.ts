import { classBalancedWeights, WeightedSampler } from './sampler';

describe('classBalancedWeights', () => {
  it('gives each class half the mass', () => {
    expect(classBalancedWeights([0, 0, 0, 1])).toEqual([0.5 / 3, 0.5 / 3, 0.5 / 3, 0.5]);
  });
});

describe('WeightedSampler', () => {
  it('draws a fixed number per epoch, classes about equally often despite imbalance', () => {
    const labels = [...Array(90).fill(0), ...Array(10).fill(1)];
    const sampler = new WeightedSampler(labels, { samplesPerEpoch: 4000, seed: 0 });
    const order = sampler.epoch(0);
    expect(order).toHaveLength(4000);
    const positives = order.filter((i) => labels[i] === 1).length / order.length;
    expect(Math.abs(positives - 0.5)).toBeLessThan(0.03);
  });

  it('replays an epoch for the same seed and varies across epochs', () => {
    const labels = [0, 1, 0, 1, 1];
    const a = new WeightedSampler(labels, { seed: 7 });
    const b = new WeightedSampler(labels, { seed: 7 });
    expect(a.epoch(3)).toEqual(b.epoch(3));
    expect(a.epoch(3)).toHaveLength(5);
    expect(a.epoch(3)).not.toEqual(a.epoch(4));
  });

  it('follows explicit weights and never draws a zero-weight index', () => {
    const s = new WeightedSampler([0, 0, 0], { seed: 1, samplesPerEpoch: 200, weights: [0, 1, 3] });
    const order = s.epoch(0);
    expect(order.includes(0)).toBe(false);
    const twos = order.filter((i) => i === 2).length;
    expect(twos).toBeGreaterThan(130);
    expect(twos).toBeLessThan(170);
  });

  it('rejects bad arguments', () => {
    expect(() => new WeightedSampler([], { seed: 0 })).toThrow('at least one label');
    expect(() => new WeightedSampler([0, 1], { seed: 0, weights: [1] })).toThrow('expected 2 weights (one per label), got 1');
    expect(() => new WeightedSampler([0], { seed: 0 }).epoch(-1)).toThrow('non-negative integer, got -1');
  });
});
