import type { Rng } from '../utils/rng';

/** A learning-rate schedule over epochs: linear warm-up, then constant or cosine decay. */
export interface LrSchedule {
  /** Epochs of linear warm-up from `lr / warmupEpochs` to `lr` (default 0). */
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
 * scheduledLr(1e-3, { warmupEpochs: 2, decay: 'cosine' }, 1, 20); // 5e-4
 */
export function scheduledLr(lr: number, schedule: LrSchedule, epoch: number, epochs: number): number {
  const warmup = schedule.warmupEpochs ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`scheduledLr: warmupEpochs must be a non-negative integer, got ${warmup}`);
  if (!(Number.isInteger(epoch) && epoch >= 1)) throw new Error(`scheduledLr: epoch must be an integer >= 1, got ${epoch}`);
  if (epoch <= warmup) return (lr * epoch) / warmup;
  if ((schedule.decay ?? 'constant') === 'constant') return lr;
  const min = (schedule.minFactor ?? 0.01) * lr;
  const span = epochs - warmup;
  // Progress 0 at the first epoch after warm-up, 1 at the last.
  const t = span <= 1 ? 1 : Math.min(1, (epoch - warmup - 1) / (span - 1));
  return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** What {@link epochOrderHook} combines. */
export interface EpochOrderOptions {
  /** Peak learning rate and the schedule over `epochs` (none: the optimizer's rate stays). */
  lr: number;
  schedule?: LrSchedule | null;
  epochs: number;
  /** A weighted sampler's order per epoch (none: every case once, shuffled by the Trainer's rng). */
  sampler?: { epoch(epoch: number): number[] } | null;
  trainSize: number;
  /** Sets the optimizer's learning rate (the Trainer is built after the hook). */
  setLr: (lr: number) => void;
}

/**
 * The Trainer's `sampler` hook for a learning-rate schedule and/or a weighted sampler, or
 * undefined when neither is asked for. The Trainer asks for each epoch's order at the epoch's
 * start, the one place that knows the epoch (also on resume), so the schedule sets the rate there.
 */
export function epochOrderHook(o: EpochOrderOptions): ((epoch: number, rng: Rng) => number[]) | undefined {
  const { schedule, sampler } = o;
  if (!schedule && !sampler) return undefined;
  return (epoch, rng) => {
    if (schedule) o.setLr(scheduledLr(o.lr, schedule, epoch, o.epochs));
    return sampler ? sampler.epoch(epoch) : rng.shuffle([...Array(o.trainSize).keys()]);
  };
}
