import { Rng } from '../../utils/rng';
import { checkIndex, type VolumeDataset } from '../dataset';
import type { Shape3, VolumeSample } from '../sample';
import type { Transform } from '../transform';
import { checkSequenceInputs, combineChannels, type ChannelSource } from '../sequences';
import { makeSyntheticCase, SYNTHETIC_TASKS, type SyntheticTaskName } from './task';

/** Options of {@link syntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** Number of cases (labels alternate 0, 1, 0, ... so the set is balanced). */
  n: number;
  /** Dataset seed; use different seeds (or index offsets) for train and test sets. */
  seed: number;
  /** `[D, H, W]`; default `[32, 64, 64]`. */
  size?: Shape3;
  /** In [0, 1]; default 0.5. See {@link makeSyntheticCase}. */
  difficulty?: number;
  /** First case index, so disjoint sets can share a seed; default 0. */
  offset?: number;
  /**
   * Deterministic preprocessing of every case, kept in the cache: `true` (default) is the task's
   * standard intensity preprocessing (e.g. CT -1000..1000 HU to -1..1), `false` none, or a
   * transform of your own (a model bundle's whole preprocessing, say).
   */
  preprocess?: boolean | Transform;
  /**
   * Keep each generated, preprocessed case in memory after its first use (about 4 bytes per voxel
   * plus 1 for the mask), so epochs after the first skip generation; default true.
   */
  cache?: boolean;
  /** Further transforms (augmentation) after preprocessing, fed by the `rng` given to `get`. */
  transform?: Transform;
  /**
   * A multi-sequence task's network channels, made of its sequences before preprocessing
   * (default the task's own: the subtraction post - pre for `breast-dce`).
   */
  channels?: readonly ChannelSource[];
}

/**
 * A dataset of `n` synthetic cases generated on demand (nothing is stored). Case `i` is
 * `makeSyntheticCase(task, { seed, index: offset + i, size, difficulty })`, preprocessed as the
 * task's real counterpart, with its lesion mask.
 *
 * @example
 * const train = syntheticDataset('chest', { n: 200, seed: 1, size: [16, 64, 64] });
 * const test = syntheticDataset('chest', { n: 100, seed: 2, size: [16, 64, 64] });
 * const s = await train.get(0); // s.data in [-1, 1], s.shape [16, 64, 64], s.label 0
 */
export function syntheticDataset(task: SyntheticTaskName, options: SyntheticDatasetOptions): VolumeDataset {
  const { n, seed } = options;
  if (!Number.isInteger(n) || n < 1) throw new Error(`syntheticDataset: n must be a positive integer, got ${n}`);
  const offset = options.offset ?? 0;
  const info = SYNTHETIC_TASKS[task];
  if (!info) throw new Error(`syntheticDataset: unknown task '${task}', expected one of ${Object.keys(SYNTHETIC_TASKS).join(', ')}`);
  const pre = options.preprocess === false ? null : options.preprocess === true || options.preprocess === undefined ? info.preprocess() : options.preprocess;
  const labels = Array.from({ length: n }, (_, i) => (offset + i) % 2);
  const ids = Array.from({ length: n }, (_, i) => `${task}-${seed}-${offset + i}`);
  const cache = options.cache === false ? null : new Map<number, VolumeSample>();
  if (options.channels && !info.sequences) throw new Error(`syntheticDataset: the task '${task}' has one sequence; channels apply to a multi-sequence task (${Object.values(SYNTHETIC_TASKS).filter((t) => t.sequences).map((t) => t.name).join(', ')})`);
  const channels = options.channels ?? info.channels;
  if (channels && info.sequences) checkSequenceInputs({ names: [...info.sequences], channels: [...channels] }, `syntheticDataset('${task}').channels`);
  const base = (index: number): VolumeSample => {
    const hit = cache?.get(index);
    if (hit) return hit;
    const c = makeSyntheticCase(task, { seed, index: offset + index, size: options.size, difficulty: options.difficulty });
    let sample: VolumeSample = { id: c.id, data: c.volume, shape: c.shape, spacing: c.spacing, label: c.label, mask: c.mask };
    if (c.sequences && channels) {
      sample.data = combineChannels(c.sequences, channels);
      if (channels.length > 1) sample.channels = channels.length;
    }
    // The task's preprocessing draws no randomness; a fixed generator keeps the Transform contract.
    if (pre) sample = pre.apply(sample, new Rng(0));
    cache?.set(index, sample);
    return sample;
  };
  return {
    length: n,
    labels,
    ids,
    get: async (index: number, rng?: Rng): Promise<VolumeSample> => {
      checkIndex('syntheticDataset.get', index, n);
      const sample = base(index);
      if (!options.transform) return sample;
      return options.transform.apply(sample, rng ?? new Rng(seed * 1000003 + offset + index));
    },
  };
}
