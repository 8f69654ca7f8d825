import type { VolumeDataset } from '../data/dataset';
import type { Rng } from '../utils/rng';
import type { Slice2D } from './multi_crop';

/** Unlabelled 2D slices drawn across volumes: what self-supervised pretraining reads. */
export interface SlicePool {
  /** Volumes held. */
  readonly volumes: number;
  /** Slices held, over all volumes. */
  readonly slices: number;
  /** The in-plane sizes `[h, w]` held, largest first. */
  readonly sizes: [number, number][];
  /** A slice: a uniformly random volume, then a uniformly random slice of it. */
  sample(rng: Rng): Slice2D;
  /**
   * `n` slices of one in-plane size (a batch): a size drawn in proportion to its volumes, then
   * `n` slices each from a uniformly random volume of that size.
   */
  sampleBatch(rng: Rng, n: number): Slice2D[];
}

/** Options of {@link slicePool}. */
export interface SlicePoolOptions {
  /** Called after each loaded volume with the count so far and the total (progress). */
  onVolume?: (done: number, total: number) => void;
}

/**
 * Loads every volume of the datasets (a manifest's scans, synthetic generators) once and holds its
 * slices `[D][H, W]` for sampling. Labels and masks are never read: the pool is for
 * self-supervised training. Volumes of different in-plane sizes may be mixed: a batch takes
 * slices of one size. Sampling picks a volume first, so a dataset of thick stacks does not
 * outweigh one of thin stacks with the same number of patients.
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
  const bySize = new Map<string, typeof vols>();
  for (const v of vols) {
    const key = `${v.h}x${v.w}`;
    bySize.set(key, [...(bySize.get(key) ?? []), v]);
  }
  const groups = [...bySize.values()];
  const pick = (group: typeof vols, rng: Rng): Slice2D => {
    const v = group[rng.int(group.length)];
    const z = rng.int(v.d);
    return { data: v.data.subarray(z * v.h * v.w, (z + 1) * v.h * v.w), h: v.h, w: v.w };
  };
  return {
    volumes: vols.length,
    slices,
    sizes: groups.map((g): [number, number] => [g[0].h, g[0].w]).sort((a, b) => b[0] * b[1] - a[0] * a[1]),
    sample(rng: Rng): Slice2D {
      return pick(vols, rng);
    },
    sampleBatch(rng: Rng, n: number): Slice2D[] {
      let k = rng.int(vols.length);
      const group = groups.find((g) => (k -= g.length) < 0) as typeof vols;
      return Array.from({ length: n }, () => pick(group, rng));
    },
  };
}
