import { epochOrderHook, scheduledLr } from './lr_schedule';
import { Rng } from '../utils/rng';

describe('scheduledLr', () => {
  it('warms up linearly, then holds or follows a cosine to the floor at the last epoch', () => {
    const cosine = Array.from({ length: 6 }, (_, i) => scheduledLr(1, { warmupEpochs: 2, decay: 'cosine', minFactor: 0.1 }, i + 1, 6));
    expect(cosine[0]).toBeCloseTo(0.5, 12);
    expect(cosine[1]).toBeCloseTo(1, 12);
    // Epochs 3..6: cosine from 1 (epoch 3) to 0.1 (epoch 6) through 0.1 + 0.9 * (1 + cos(pi t)) / 2.
    expect(cosine[2]).toBeCloseTo(1, 12);
    expect(cosine[3]).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI / 3)), 12);
    expect(cosine[4]).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos((2 * Math.PI) / 3)), 12);
    expect(cosine[5]).toBeCloseTo(0.1, 12);
    expect([1, 5, 9].map((e) => scheduledLr(2e-3, { warmupEpochs: 1 }, e, 9))).toEqual([2e-3, 2e-3, 2e-3]);
    expect(scheduledLr(1, { decay: 'cosine' }, 1, 1)).toBeCloseTo(0.01, 12);
  });

  it('names bad arguments', () => {
    expect(() => scheduledLr(1, { warmupEpochs: 1.5 }, 1, 3)).toThrow('warmupEpochs must be a non-negative integer, got 1.5');
    expect(() => scheduledLr(1, {}, 0, 3)).toThrow('epoch must be an integer >= 1, got 0');
  });
});

describe('epochOrderHook', () => {
  it('is absent without a schedule or sampler, else sets the epoch rate and orders every case once', () => {
    expect(epochOrderHook({ lr: 1e-3, epochs: 4, trainSize: 5, setLr: () => undefined })).toBeUndefined();
    let lr = 0;
    const hook = epochOrderHook({ lr: 1e-3, schedule: { warmupEpochs: 2, decay: 'cosine' }, epochs: 4, trainSize: 5, setLr: (r) => (lr = r) });
    const order = hook!(1, new Rng(0));
    expect(lr).toBeCloseTo(5e-4, 12);
    expect([...order].sort()).toEqual([0, 1, 2, 3, 4]);
    const weighted = epochOrderHook({ lr: 1e-3, epochs: 4, trainSize: 5, sampler: { epoch: (e) => [e, e] }, setLr: (r) => (lr = r) });
    expect(weighted!(3, new Rng(0))).toEqual([3, 3]);
    expect(lr).toBeCloseTo(5e-4, 12);
  });
});
