import type { Rng } from '../utils/rng';
import type { VolumeSample } from './sample';

/**
 * A preprocessing or augmentation step: maps a sample to a new sample (never mutating its input's
 * arrays) and draws any randomness it needs from the given generator, so a pipeline replays exactly
 * for a given seed.
 *
 * @example
 * const t: Transform = { name: 'identity', apply: (s) => s };
 */
export interface Transform {
  /** Short name for logs, e.g. `'randomFlip'`. */
  readonly name: string;
  /** The transformed sample; `rng` is the only source of randomness. */
  apply(sample: VolumeSample, rng: Rng): VolumeSample;
}

/**
 * Runs transforms in order, passing each the same generator (so the draws of one step shift those
 * of the next, as in a single seeded stream).
 *
 * @example
 * const pipeline = new Compose([new ClampRescale(-1000, 1000), new RandomFlip([0.5, 0.5, 0.5])]);
 * const out = pipeline.apply(sample, new Rng(0));
 */
export class Compose implements Transform {
  readonly name = 'compose';
  /** @param transforms applied first to last. */
  constructor(readonly transforms: readonly Transform[]) {}

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    let s = sample;
    for (const t of this.transforms) s = t.apply(s, rng);
    return s;
  }
}
