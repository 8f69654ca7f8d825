import { subset } from '../data/dataset';
import { dukeManifest } from '../data/adapters/duke';
import { lidcManifest } from '../data/adapters/lidc';
import { mrnetManifest } from '../data/adapters/mrnet';
import { manifestDataset, manifestSplits, type Manifest } from '../data/manifest';
import type { Shape3, VolumeSample } from '../data/sample';
import { Compose, type Transform } from '../data/transform';
import { ClampRescale, ZNormalize } from '../data/transforms/intensity';
import { paperAugmentation } from '../data/transforms/presets';
import { CropOrPad, RandomFlip, Resample } from '../data/transforms/spatial';
import type { ReadVolumeOptions } from '../io/read_volume';
import { Rng } from '../utils/rng';
import type { ReproduceContext, TaskDatasets } from './protocol';
import type { ReproduceTask } from './tasks';

/** The paper's volume: 224 x 224 pixels, 32 slices. */
export const PAPER_VOLUME: Shape3 = [32, 224, 224];

/** Resizes a volume to `shape` trilinearly (the spacing grows accordingly), mask included. */
export class ResizeTo implements Transform {
  readonly name = 'resizeTo';
  constructor(readonly shape: Shape3) {}

  apply(sample: VolumeSample): VolumeSample {
    if (sample.shape.every((n, a) => n === this.shape[a])) return sample;
    const target = sample.shape.map((n, a) => (n * sample.spacing[a]) / this.shape[a]) as Shape3;
    // Resample rounds the new size; a centre crop or pad fixes an off-by-one (no randomness drawn).
    return new CropOrPad(this.shape).apply(new Resample(target).apply(sample), new Rng(0));
  }
}

/** A real dataset's manifest (from its adapter, splits as the paper) and how its volumes are read and preprocessed. */
export interface RealTaskData {
  manifest: Manifest;
  read: ReadVolumeOptions;
  /** The paper's preprocessing to 224 x 224 x 32, then a resize to the scale's volume. */
  preprocess: Transform;
}

/**
 * The paper's pipeline per dataset: DUKE subtraction crops z-normalised; LIDC crops clamped to
 * -1000..1000 HU and rescaled to -1..1, centred on the nodule mask where there is one; MRNet
 * cropped to 150 x 150 x 32 and resampled to 224 x 224 x 32, z-normalised. At quick scale the
 * result is resized to the scale's smaller volume.
 */
export async function realTaskData(task: ReproduceTask, dataDir: string, size: Shape3, seed: number): Promise<RealTaskData> {
  const resize = size.every((n, a) => n === PAPER_VOLUME[a]) ? [] : [new ResizeTo(size)];
  const z = new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 });
  if (task === 'duke') {
    const { rows } = await dukeManifest(dataDir, { seed });
    return { manifest: { source: `${dataDir} (DUKE)`, rows, numClasses: 2 }, read: {}, preprocess: new Compose([z, new CropOrPad(PAPER_VOLUME), ...resize]) };
  }
  if (task === 'lidc') {
    const { rows } = await lidcManifest(dataDir, { seed });
    return {
      manifest: { source: `${dataDir} (LIDC-IDRI)`, rows, numClasses: 2 },
      read: {},
      preprocess: new Compose([new ClampRescale(-1000, 1000, -1, 1), new CropOrPad(PAPER_VOLUME, { centre: 'mask' }), ...resize]),
    };
  }
  if (task === 'mrnet') {
    const { rows } = await mrnetManifest(dataDir, { seed });
    return {
      manifest: { source: `${dataDir} (MRNet)`, rows, numClasses: 2 },
      read: { spacing: [1, 1, 1] },
      // Cropped to 150 x 150 x 32 and resized straight to the run's volume (224 x 224 x 32 at paper scale).
      preprocess: new Compose([new CropOrPad([32, 150, 150]), new ResizeTo(size), z]),
    };
  }
  throw new Error(`realTaskData: '${task}' is not a real dataset (duke, lidc, mrnet)`);
}

/** The training, validation and test datasets of a real task at the run's scale. */
export async function realDatasets(ctx: ReproduceContext, task: ReproduceTask): Promise<TaskDatasets> {
  const hit = ctx.datasets.get(task);
  if (hit) return hit;
  const dir = ctx.dataDirs[task];
  if (!dir) throw new Error(`reproduce: the task '${task}' needs its data folder (--data-dir)`);
  const size = ctx.scale.name === 'paper' ? PAPER_VOLUME : ctx.scale.realSize;
  const data = await realTaskData(task, dir, size, ctx.seed);
  const split = manifestSplits(data.manifest, ctx.seed);
  const aug = ctx.scale.augment === 'paper' ? paperAugmentation() : ctx.scale.augment === 'flip' ? new RandomFlip([0.5, 0.5, 0.5]) : null;
  const plain = manifestDataset(data.manifest, { read: data.read, transform: data.preprocess, seed: ctx.seed });
  const augmented = aug ? manifestDataset(data.manifest, { read: data.read, transform: new Compose([data.preprocess, aug]), seed: ctx.seed }) : plain;
  const sets = { train: subset(augmented, split.train), val: subset(plain, split.val), test: subset(plain, split.test), inputSize: size };
  ctx.datasets.set(task, sets);
  return sets;
}
