import { Rng } from '../../utils/rng';
import type { VolumeSample } from '../sample';
import { ClampRescale, percentile, RandomInvert, RandomNoise, subtraction, ZNormalize } from './intensity';

const sample = (values: number[]): VolumeSample => ({
  id: 't',
  data: Float32Array.from(values),
  shape: [1, 1, values.length],
  spacing: [1, 1, 1],
  label: 0,
});

describe('percentile', () => {
  it('interpolates like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 0, 5], 25)).toBe(2.5);
    expect(percentile([3, 1, 2], 100)).toBe(3);
    expect(percentile(Float32Array.from([0, 10, 20, 30, 40]), 90)).toBeCloseTo(36, 12);
  });
});

describe('ClampRescale', () => {
  it('maps -1000..1000 HU onto -1..1 with clamping', () => {
    const out = new ClampRescale(-1000, 1000).apply(sample([-1200, -1000, 0, 500, 3000]), new Rng(0));
    expect(Array.from(out.data)).toEqual([-1, -1, 0, 0.5, 1]);
  });

  it('supports another output range and rejects an empty one', () => {
    expect(Array.from(new ClampRescale(0, 4, 0, 1).apply(sample([1, 2]), new Rng(0)).data)).toEqual([0.25, 0.5]);
    expect(() => new ClampRescale(5, 5)).toThrow('expected high > low, got low 5, high 5');
  });
});

describe('ZNormalize', () => {
  it('clips at the percentiles, then standardises', () => {
    // Percentiles 25/75 of [0, 1, 2, 3, 100] are 1 and 3: clipped [1, 1, 2, 3, 3], mean 2, std sqrt(0.8).
    const out = new ZNormalize({ percentiles: [25, 75], eps: 0 }).apply(sample([0, 1, 2, 3, 100]), new Rng(0));
    const s = Math.sqrt(0.8);
    const expected = [-1 / s, -1 / s, 0, 1 / s, 1 / s];
    Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it('can take its statistics from voxels strictly inside the value range', () => {
    // Inner voxels [2, 4] (1 and 9 are the extremes): mean 3, std 1; percentiles 0/100 clip to [2, 4].
    const out = new ZNormalize({ percentiles: [0, 100], eps: 0, maskExtremes: true }).apply(sample([1, 2, 4, 9]), new Rng(0));
    expect(Array.from(out.data)).toEqual([-1, -1, 1, 1]);
  });

  it('maps a constant volume to zeros thanks to eps', () => {
    expect(Array.from(new ZNormalize().apply(sample([7, 7, 7]), new Rng(0)).data)).toEqual([0, 0, 0]);
  });
});

describe('RandomNoise', () => {
  it('adds noise with std below maxStd, reproducibly', () => {
    const s = sample(Array(4000).fill(1));
    const out = new RandomNoise(0.1).apply(s, new Rng(5));
    const mean = out.data.reduce((a, v) => a + v, 0) / out.data.length;
    const std = Math.sqrt(out.data.reduce((a, v) => a + (v - mean) ** 2, 0) / out.data.length);
    expect(std).toBeGreaterThan(0);
    expect(std).toBeLessThan(0.11);
    expect(Math.abs(mean - 1)).toBeLessThan(0.01);
    expect(new RandomNoise(0.1).apply(s, new Rng(5)).data).toEqual(out.data);
    expect(Array.from(new RandomNoise(0).apply(sample([2, 3]), new Rng(0)).data)).toEqual([2, 3]);
  });
});

describe('RandomInvert', () => {
  it('negates when drawn', () => {
    expect(Array.from(new RandomInvert(1).apply(sample([-1, 0, 0.5, 1]), new Rng(0)).data)).toEqual([1, 0, -0.5, -1]);
    expect(Array.from(new RandomInvert(1).apply(sample([0, 1, 3]), new Rng(0)).data)).toEqual([0, -1, -3]);
    const s = sample([1, 2]);
    expect(new RandomInvert(0).apply(s, new Rng(0))).toBe(s);
  });
});

describe('subtraction', () => {
  it('subtracts pre from post and checks shapes', () => {
    expect(Array.from(subtraction(sample([5, 7]), sample([1, 2])).data)).toEqual([4, 5]);
    expect(() => subtraction(sample([1, 2]), sample([1]))).toThrow("'t' has shape [1, 1, 2] but 't' has [1, 1, 1]");
  });
});
