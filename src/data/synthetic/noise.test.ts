import { Rng } from '../../utils/rng';
import { powerLawNoise } from './noise';

function neighbourCorrelation(x: Float32Array, W: number): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    if ((i + 1) % W === 0) continue;
    s += x[i] * x[i + 1];
    n++;
  }
  return s / n;
}

describe('powerLawNoise', () => {
  it('has zero mean and unit std, and is reproducible', () => {
    const a = powerLawNoise([8, 32, 32], 2, new Rng(1));
    const b = powerLawNoise([8, 32, 32], 2, new Rng(1));
    expect(a).toEqual(b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(std).toBeCloseTo(1, 5);
  });

  it('is white for beta 0 and smoother as beta grows', () => {
    const corr = [0, 1, 2, 3, 4].map((beta) => neighbourCorrelation(powerLawNoise([8, 32, 32], beta, new Rng(2)), 32));
    expect(Math.abs(corr[0])).toBeLessThan(0.05);
    for (let i = 1; i < corr.length; i++) expect(corr[i]).toBeGreaterThan(corr[i - 1] + 0.05);
    expect(corr[4]).toBeGreaterThan(0.85);
  });

  it('crops non-power-of-two shapes', () => {
    expect(powerLawNoise([3, 20, 17], 2, new Rng(0)).length).toBe(3 * 20 * 17);
  });
});
