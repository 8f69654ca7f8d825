/** A learning-rate schedule over epochs: linear warm-up, then constant or cosine decay. */
export interface LrSchedule {
  /**
   * Epochs of linear warm-up below the peak (default 0): warm-up epoch `e` runs at
   * `lr * e / (warmupEpochs + 1)`, so the peak is first reached in the epoch after them.
   */
  warmupEpochs?: number;
  /** After warm-up: 'constant' (default) or 'cosine' decay to `minFactor * lr` at the last epoch. */
  decay?: 'constant' | 'cosine';
  /** Floor of the cosine decay as a fraction of `lr` (default 0.01). */
  minFactor?: number;
}

/**
 * The learning rate of epoch `epoch` (1-based) of `epochs` under `schedule` with peak `lr`.
 * Warm-up steadies a from-scratch Transformer's first updates; cosine decay lets the last
 * epochs settle instead of jumping around a minimum at full step size.
 *
 * @example
 * scheduledLr(1e-3, { warmupEpochs: 1, decay: 'cosine' }, 1, 20); // 5e-4 (below the peak)
 * scheduledLr(1e-3, { warmupEpochs: 1, decay: 'cosine' }, 2, 20); // 1e-3
 */
export function scheduledLr(lr: number, schedule: LrSchedule, epoch: number, epochs: number): number {
  const warmup = schedule.warmupEpochs ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`scheduledLr: warmupEpochs must be a non-negative integer, got ${warmup}`);
  if (!(Number.isInteger(epoch) && epoch >= 1)) throw new Error(`scheduledLr: epoch must be an integer >= 1, got ${epoch}`);
  if (epoch <= warmup) return (lr * epoch) / (warmup + 1);
  if ((schedule.decay ?? 'constant') === 'constant') return lr;
  const min = (schedule.minFactor ?? 0.01) * lr;
  const span = epochs - warmup;
  // Progress 0 at the first epoch after warm-up, 1 at the last.
  const t = span <= 1 ? 1 : Math.min(1, (epoch - warmup - 1) / (span - 1));
  return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}
