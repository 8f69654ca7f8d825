import type { VolumeDataset } from '../data/dataset';
import type { Rng } from '../utils/rng';
import type { Slice2D } from './multi_crop';

/** Unlabelled 2D slices drawn across volumes: what self-supervised pretraining reads. */
export interface SlicePool {
  /** Volumes held. */
  readonly volumes: number;
  /** Slices held, over all volumes. */
  readonly slices: number;
  /** A slice: a uniformly random volume, then a uniformly random slice of it. */
  sample(rng: Rng): Slice2D;
}

/** Options of {@link slicePool}. */
export interface SlicePoolOptions {
  /** Called after each loaded volume with the count so far and the total (progress). */
  onVolume?: (done: number, total: number) => void;
}

/**
 * Loads every volume of the datasets (a manifest's scans, synthetic generators) once and holds its
 * slices `[D][H, W]` for sampling. Labels and masks are never read: the pool is for
 * self-supervised training. Volumes of different in-plane sizes may be mixed (the crops resize
 * them). Sampling picks a volume first, so a dataset of thick stacks does not outweigh one of thin
 * stacks with the same number of patients.
 *
 * @example
 * const pool = await slicePool([syntheticDataset('chest', { n: 100, seed: 0 })]);
 * const s = pool.sample(new Rng(0)); // { data, h: 64, w: 64 }
 */
export async function slicePool(datasets: readonly VolumeDataset[], options: SlicePoolOptions = {}): Promise<SlicePool> {
  const vols: { data: Float32Array; d: number; h: number; w: number }[] = [];
  const total = datasets.reduce((a, ds) => a + ds.length, 0);
  if (total === 0) throw new Error('slicePool: the datasets hold no volumes');
  for (const ds of datasets) {
    for (let i = 0; i < ds.length; i++) {
      const s = await ds.get(i);
      const [d, h, w] = s.shape;
      if (s.data.length !== d * h * w) throw new Error(`slicePool: volume '${s.id}' has ${s.data.length} values for shape [${s.shape.join(', ')}]`);
      let bad = 0;
      for (let k = 0; k < s.data.length; k++) if (!Number.isFinite(s.data[k])) bad++;
      if (bad > 0) throw new Error(`slicePool: volume '${s.id}' has ${bad} non-finite voxels`);
      vols.push({ data: s.data, d, h, w });
      options.onVolume?.(vols.length, total);
    }
  }
  const slices = vols.reduce((a, v) => a + v.d, 0);
  return {
    volumes: vols.length,
    slices,
    sample(rng: Rng): Slice2D {
      const v = vols[rng.int(vols.length)];
      const z = rng.int(v.d);
      return { data: v.data.subarray(z * v.h * v.w, (z + 1) * v.h * v.w), h: v.h, w: v.w };
    },
  };
}
