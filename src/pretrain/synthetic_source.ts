import type { VolumeDataset } from '../data/dataset';
import type { Shape3 } from '../data/sample';
import { syntheticDataset } from '../data/synthetic/dataset';
import type { SyntheticTaskName } from '../data/synthetic/task';
import { Compose, type Transform } from '../data/transform';
import { ZNormalize } from '../data/transforms/intensity';
import { CropOrPad } from '../data/transforms/spatial';
import { labelledSlices, type KnnProbeSet } from './knn_probe';
import { slicePool, type SlicePool } from './slice_pool';

/** How a synthetic task's volumes are generated and cropped, as the networks see them downstream. */
export interface SyntheticGeometry {
  task: SyntheticTaskName;
  /** Generated volume `[D, H, W]`. */
  size: Shape3;
  /** Centre crop after generation, or none. */
  crop?: Shape3;
}

/** Options of {@link syntheticPretrainData}. */
export interface SyntheticPretrainDataOptions {
  /** The tasks whose anatomy is pretrained on, each at its geometry. */
  geometries: SyntheticGeometry[];
  /** Dataset seed (the reproduction's seed: the case ranges below never meet its cases). */
  seed: number;
  /** Synthetic difficulty in [0, 1], per task or one for all. */
  difficulty: number | Partial<Record<SyntheticTaskName, number>>;
  /** Unlabelled volumes per task for pretraining. */
  volumes: number;
  /** Labelled volumes per task for each side of the k-NN probe (memory bank and queries); 0: no probes. */
  probeVolumes: number;
  /** z-normalise each volume after the task's preprocessing (default true, as the quick-scale reproduction). */
  zNormalize?: boolean;
  /** Progress of the generation (volumes done of the total). */
  onVolume?: (done: number, total: number) => void;
}

/**
 * First case index of each role: far above any train / validation / test range a reproduction or
 * `mst-ts train` uses (hundreds to a few thousand cases), so pretraining never sees those cases.
 */
export const PRETRAIN_CASE_OFFSET = 1_000_000;
export const PROBE_BANK_OFFSET = 2_000_000;
export const PROBE_QUERY_OFFSET = 3_000_000;

/**
 * The unlabelled slice pool and the labelled k-NN probes of the synthetic tasks: per task,
 * `volumes` cases generated from case index {@link PRETRAIN_CASE_OFFSET} on (their labels are
 * never read), and `probeVolumes` cases for the probe's memory bank and as many for its queries,
 * from two other disjoint ranges. Every volume is preprocessed as its task's real counterpart,
 * centre-cropped and z-normalised exactly as the reproduction feeds the networks.
 *
 * @example
 * const { pool, probes } = await syntheticPretrainData({
 *   geometries: [{ task: 'chest', size: [16, 64, 64], crop: [8, 16, 16] }], seed: 0, difficulty: 0.25, volumes: 300, probeVolumes: 100,
 * });
 */
export async function syntheticPretrainData(options: SyntheticPretrainDataOptions): Promise<{ pool: SlicePool; probes: KnnProbeSet[] }> {
  const { seed, volumes, probeVolumes } = options;
  if (!(Number.isInteger(volumes) && volumes >= 1)) throw new Error(`syntheticPretrainData: volumes must be a positive integer, got ${volumes}`);
  if (!(Number.isInteger(probeVolumes) && probeVolumes >= 0)) throw new Error(`syntheticPretrainData: probeVolumes must be a non-negative integer, got ${probeVolumes}`);
  if (options.geometries.length === 0) throw new Error('syntheticPretrainData: no task given');
  const total = options.geometries.length * (volumes + 2 * probeVolumes);
  let done = 0;
  const tick = (): void => options.onVolume?.(++done, total);
  const datasets = options.geometries.map((g) => {
    const steps: Transform[] = [];
    if (g.crop) steps.push(new CropOrPad(g.crop, { centre: 'centre' }));
    if (options.zNormalize ?? true) steps.push(new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }));
    const difficulty = typeof options.difficulty === 'number' ? options.difficulty : options.difficulty[g.task];
    if (difficulty === undefined) throw new Error(`syntheticPretrainData: no difficulty given for the task '${g.task}'`);
    // The generated volumes are read once: caching them would only hold memory.
    const make = (n: number, offset: number): VolumeDataset =>
      syntheticDataset(g.task, { n, seed, offset, size: g.size, difficulty, cache: false, transform: steps.length ? new Compose(steps) : undefined });
    return { name: g.task, pool: make(volumes, PRETRAIN_CASE_OFFSET), bank: probeVolumes ? make(probeVolumes, PROBE_BANK_OFFSET) : null, queries: probeVolumes ? make(probeVolumes, PROBE_QUERY_OFFSET) : null };
  });
  const pool = await slicePool(
    datasets.map((d) => d.pool),
    { onVolume: tick },
  );
  const probes: KnnProbeSet[] = [];
  for (const d of datasets) {
    if (!d.bank || !d.queries) continue;
    const train = await labelledSlices(counting(d.bank, tick));
    const test = await labelledSlices(counting(d.queries, tick));
    probes.push({ name: d.name, train, test });
  }
  return { pool, probes };
}

/** A dataset that calls `tick` after each case it yields. */
function counting(ds: VolumeDataset, tick: () => void): VolumeDataset {
  return {
    ...ds,
    get: async (i, rng) => {
      const s = await ds.get(i, rng);
      tick();
      return s;
    },
  };
}
