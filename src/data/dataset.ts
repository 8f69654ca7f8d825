import { Rng } from '../utils/rng';
import type { Transform } from './transform';
import { channelCount, channelsLast, checkSample, type Shape3, type VolumeSample } from './sample';

/**
 * A labelled collection of volumes. Labels and ids are known without loading any voxels, so splits
 * and samplers work on them directly; `get` loads (or generates) one case.
 *
 * @example
 * const ds = syntheticDataset('chest', { n: 64, seed: 1, size: [16, 64, 64] });
 * const sample = await ds.get(0, new Rng(7)); // rng drives any augmentation
 */
export interface VolumeDataset {
  /** Number of cases. */
  readonly length: number;
  /** The label of every case, `labels[i]` for case `i`. */
  readonly labels: readonly number[];
  /** The id of every case. */
  readonly ids: readonly string[];
  /** Case `index`; `rng` feeds random transforms (a fixed per-index stream is used when omitted). */
  get(index: number, rng?: Rng): Promise<VolumeSample>;
}

/** Throws unless `index` is an integer in `[0, length)`. */
export function checkIndex(what: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new Error(`${what}: index must be an integer in [0, ${length}), got ${index}`);
  }
}

/**
 * The cases of `dataset` at `indices`, in that order (a split's view; nothing is copied).
 *
 * @example
 * const { train, test } = stratifiedSplit(ds.labels, { testFraction: 0.2, seed: 0 });
 * const trainSet = subset(ds, train);
 */
export function subset(dataset: VolumeDataset, indices: readonly number[]): VolumeDataset {
  for (const i of indices) checkIndex('subset', i, dataset.length);
  const idx = indices.slice();
  return {
    length: idx.length,
    labels: idx.map((i) => dataset.labels[i]),
    ids: idx.map((i) => dataset.ids[i]),
    get: (index, rng) => {
      checkIndex('subset.get', index, idx.length);
      return dataset.get(idx[index], rng);
    },
  };
}

/**
 * `dataset` with `transform` applied to every case it yields. Without an explicit generator, case
 * `i` uses `new Rng(seed + i)`, so evaluation-time pipelines are reproducible.
 *
 * @example
 * const train = withTransform(ds, new Compose([new RandomFlip([0.5, 0.5, 0.5])]));
 * await train.get(3, epochRng); // a different flip every epoch when epochRng advances
 */
export function withTransform(dataset: VolumeDataset, transform: Transform, seed = 0): VolumeDataset {
  return {
    length: dataset.length,
    labels: dataset.labels,
    ids: dataset.ids,
    get: async (index, rng) => {
      const r = rng ?? new Rng(seed + index);
      const sample = await dataset.get(index, r);
      const out = transform.apply(sample, r);
      checkSample(out, `${transform.name} output`);
      return out;
    },
  };
}

/** A batch ready for `tf.tensor5d(x, shape)`: channels-last `[B, D, H, W, C]` (C = 1 for gray volumes). */
export interface VolumeBatch {
  /** Voxels `[B, D, H, W, C]`, row-major. */
  x: Float32Array;
  /** `[B, D, H, W, C]`. */
  shape: [number, number, number, number, number];
  /** Labels `[B]`. */
  labels: Int32Array;
  /** Ids `[B]`. */
  ids: string[];
}

/**
 * Stacks samples of one shape and channel count into a channels-last batch (a multi-channel
 * sample's `[C, D, H, W]` becomes `[D, H, W, C]`).
 *
 * @example
 * const batch = collate([await ds.get(0), await ds.get(1)]);
 * const x = tf.tensor5d(batch.x, batch.shape); // [2, D, H, W, 1]
 */
export function collate(samples: readonly VolumeSample[]): VolumeBatch {
  if (samples.length === 0) throw new Error('collate: expected at least one sample, got none');
  const shape: Shape3 = samples[0].shape;
  const c = channelCount(samples[0]);
  const n = shape[0] * shape[1] * shape[2] * c;
  const x = new Float32Array(samples.length * n);
  samples.forEach((s, b) => {
    if (s.shape[0] !== shape[0] || s.shape[1] !== shape[1] || s.shape[2] !== shape[2]) {
      throw new Error(
        `collate: sample '${s.id}' has shape [${s.shape.join(', ')}], expected [${shape.join(', ')}] like '${samples[0].id}' (crop or pad first)`,
      );
    }
    if (channelCount(s) !== c) throw new Error(`collate: sample '${s.id}' has ${channelCount(s)} channels, '${samples[0].id}' ${c}`);
    checkSample(s, 'collate');
    x.set(channelsLast(s.data, c), b * n);
  });
  return {
    x,
    shape: [samples.length, shape[0], shape[1], shape[2], c],
    labels: Int32Array.from(samples, (s) => s.label),
    ids: samples.map((s) => s.id),
  };
}
