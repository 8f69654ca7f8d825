import { subset } from '../data/dataset';
import { dukeManifest } from '../data/adapters/duke';
import { lidcManifest } from '../data/adapters/lidc';
import { mrnetManifest } from '../data/adapters/mrnet';
import { manifestDataset, manifestSplits, type Manifest } from '../data/manifest';
import type { Shape3 } from '../data/sample';
import { Compose, type Transform } from '../data/transform';
import { ClampRescale, ZNormalize } from '../data/transforms/intensity';
import { augmentation } from '../data/transforms/presets';
import type { PreprocessingSpec } from '../data/preprocessing';
import { PREPROCESSING_PRESETS } from '../data/preprocessing_presets';
import type { TrainingData } from '../data/training_data';
import { CropOrPad, ResizeTo } from '../data/transforms/spatial';
import type { ReadVolumeOptions } from '../io/read_volume';
import type { ReproduceContext } from './context';
import type { ReproduceTask } from './tasks';

/** The paper's volume: 224 x 224 pixels, 32 slices. */
export const PAPER_VOLUME: Shape3 = [32, 224, 224];

/** A real dataset's manifest (from its adapter, splits as the paper) and how its volumes are read and preprocessed. */
export interface RealTaskData {
  manifest: Manifest;
  read: ReadVolumeOptions;
  /** The paper's preprocessing to 224 x 224 x 32, then a resize to the scale's volume. */
  preprocess: Transform;
  /** The same as a model bundle stores it, for raw scans (LIDC's crop centred on the volume, not on a mask). */
  preprocessing: PreprocessingSpec;
}

function withResize(spec: PreprocessingSpec, size: Shape3): PreprocessingSpec {
  if (size.every((n, a) => n === PAPER_VOLUME[a])) return spec;
  if (spec.steps.some((s) => s.op === 'resize')) {
    return { ...spec, steps: spec.steps.map((s) => (s.op === 'resize' ? { op: 'resize', size: [...size] as Shape3 } : s)) };
  }
  return { ...spec, steps: [...spec.steps, { op: 'resize', size: [...size] as Shape3 }] };
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
    return {
      manifest: { source: `${dataDir} (DUKE)`, rows, numClasses: 2 },
      read: {},
      preprocess: new Compose([z, new CropOrPad(PAPER_VOLUME), ...resize]),
      preprocessing: withResize(PREPROCESSING_PRESETS.duke, size),
    };
  }
  if (task === 'lidc') {
    const { rows } = await lidcManifest(dataDir, { seed });
    return {
      manifest: { source: `${dataDir} (LIDC-IDRI)`, rows, numClasses: 2 },
      read: {},
      preprocess: new Compose([new ClampRescale(-1000, 1000, -1, 1), new CropOrPad(PAPER_VOLUME, { centre: 'mask' }), ...resize]),
      preprocessing: withResize(PREPROCESSING_PRESETS.lidc, size),
    };
  }
  if (task === 'mrnet') {
    const { rows } = await mrnetManifest(dataDir, { seed });
    return {
      manifest: { source: `${dataDir} (MRNet)`, rows, numClasses: 2 },
      read: { spacing: [1, 1, 1] },
      // Cropped to 150 x 150 x 32 and resized straight to the run's volume (224 x 224 x 32 at paper scale).
      preprocess: new Compose([new CropOrPad([32, 150, 150]), new ResizeTo(size), z]),
      preprocessing: withResize(PREPROCESSING_PRESETS.mrnet, size),
    };
  }
  throw new Error(`realTaskData: '${task}' is not a real dataset (duke, lidc, mrnet)`);
}

/** The training, validation and test datasets of a real task at the run's scale. */
export async function realDatasets(ctx: ReproduceContext, task: ReproduceTask): Promise<TrainingData> {
  const hit = ctx.datasets.get(task);
  if (hit) return hit;
  const dir = ctx.dataDirs[task];
  if (!dir) throw new Error(`reproduce: the task '${task}' needs its data folder (--data-dir)`);
  const size = ctx.scale.name === 'paper' ? PAPER_VOLUME : ctx.scale.realSize;
  const data = await realTaskData(task, dir, size, ctx.seed);
  const split = manifestSplits(data.manifest, ctx.seed);
  const aug = augmentation(ctx.scale.augment);
  const plain = manifestDataset(data.manifest, { read: data.read, transform: data.preprocess, seed: ctx.seed });
  const augmented = aug ? manifestDataset(data.manifest, { read: data.read, transform: new Compose([data.preprocess, aug]), seed: ctx.seed }) : plain;
  const sets: TrainingData = {
    train: subset(augmented, split.train),
    val: subset(plain, split.val),
    test: subset(plain, split.test),
    inputSize: size,
    preprocessing: data.preprocessing,
    classNames: ['0', '1'],
    description: data.manifest.source,
  };
  ctx.datasets.set(task, sets);
  return sets;
}
