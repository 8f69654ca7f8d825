import { Rng } from '../../utils/rng';
import type { VolumeSample } from '../sample';
import { ClampRescale, percentile, ZNormalize } from './intensity';

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

  it('maps a constant volume to zeros thanks to eps', () => {
    expect(Array.from(new ZNormalize().apply(sample([7, 7, 7]), new Rng(0)).data)).toEqual([0, 0, 0]);
  });
});
