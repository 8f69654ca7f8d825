import { scheduledLr } from './lr_schedule';

describe('scheduledLr', () => {
  it('warms up linearly below the peak, then holds or follows a cosine to the floor at the last epoch', () => {
    const cosine = Array.from({ length: 6 }, (_, i) => scheduledLr(1, { warmupEpochs: 2, decay: 'cosine', minFactor: 0.1 }, i + 1, 6));
    // Warm-up epochs 1 and 2 at 1/3 and 2/3 of the peak; the peak from epoch 3.
    expect(cosine[0]).toBeCloseTo(1 / 3, 12);
    expect(cosine[1]).toBeCloseTo(2 / 3, 12);
    // Epochs 3..6: cosine from 1 (epoch 3) to 0.1 (epoch 6) through 0.1 + 0.9 * (1 + cos(pi t)) / 2.
    expect(cosine[2]).toBeCloseTo(1, 12);
    expect(cosine[3]).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI / 3)), 12);
    expect(cosine[4]).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos((2 * Math.PI) / 3)), 12);
    expect(cosine[5]).toBeCloseTo(0.1, 12);
    expect([1, 2, 5, 9].map((e) => scheduledLr(2e-3, { warmupEpochs: 1 }, e, 9))).toEqual([1e-3, 2e-3, 2e-3, 2e-3]);
    expect(scheduledLr(1, { decay: 'cosine' }, 1, 1)).toBeCloseTo(0.01, 12);
  });

  it('runs the first epoch of a one-epoch warm-up below the peak (the demo schedule)', () => {
    const peak = 1e-3;
    const first = scheduledLr(peak, { warmupEpochs: 1, decay: 'cosine' }, 1, 20);
    expect(first).toBeLessThan(peak);
    expect(scheduledLr(peak, { warmupEpochs: 1, decay: 'cosine' }, 2, 20)).toBe(peak);
  });

  it('names bad arguments', () => {
    expect(() => scheduledLr(1, { warmupEpochs: 1.5 }, 1, 3)).toThrow('warmupEpochs must be a non-negative integer, got 1.5');
    expect(() => scheduledLr(1, {}, 0, 3)).toThrow('epoch must be an integer >= 1, got 0');
  });
});
