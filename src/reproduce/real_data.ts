import { subset, type VolumeDataset } from '../data/dataset';
import { dukeManifest } from '../data/adapters/duke';
import { lidcManifest } from '../data/adapters/lidc';
import { mrnetManifest } from '../data/adapters/mrnet';
import { manifestDataset, manifestSplits, type Manifest } from '../data/manifest';
import type { Shape3, VolumeSample } from '../data/sample';
import { WeightedSampler } from '../data/sampler';
import { Compose, type Transform } from '../data/transform';
import { ClampRescale, ZNormalize } from '../data/transforms/intensity';
import { paperAugmentation } from '../data/transforms/presets';
import { CropOrPad, RandomFlip, Resample } from '../data/transforms/spatial';
import type { ReadVolumeOptions } from '../io/read_volume';
import { Rng } from '../utils/rng';
import { TerminalProgress } from '../train/progress';
import { Trainer } from '../train/trainer';
import type { ModelRecipe } from './models';
import type { ReproduceContext, TrainedModel } from './protocol';
import { TASKS, type ReproduceTask } from './tasks';

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
      preprocess: new Compose([new CropOrPad([32, 150, 150]), new ResizeTo(PAPER_VOLUME), z, ...resize]),
    };
  }
  throw new Error(`realTaskData: '${task}' is not a real dataset (duke, lidc, mrnet)`);
}

/** The training, validation and test datasets of a real task at the run's scale. */
export async function realDatasets(ctx: ReproduceContext, task: ReproduceTask): Promise<{ train: VolumeDataset; val: VolumeDataset; test: VolumeDataset; inputSize: Shape3 }> {
  const dir = ctx.dataDirs[task];
  if (!dir) throw new Error(`reproduce: the task '${task}' needs its data folder (--data-dir)`);
  const size = ctx.scale.name === 'paper' ? PAPER_VOLUME : ctx.scale.realSize;
  const data = await realTaskData(task, dir, size, ctx.seed);
  const split = manifestSplits(data.manifest, ctx.seed);
  const aug = ctx.scale.augment === 'paper' ? paperAugmentation() : ctx.scale.augment === 'flip' ? new RandomFlip([0.5, 0.5, 0.5]) : null;
  const plain = manifestDataset(data.manifest, { read: data.read, transform: data.preprocess, seed: ctx.seed });
  const augmented = aug ? manifestDataset(data.manifest, { read: data.read, transform: new Compose([data.preprocess, aug]), seed: ctx.seed }) : plain;
  return { train: subset(augmented, split.train), val: subset(plain, split.val), test: subset(plain, split.test), inputSize: size };
}

/** Trains one row on a real dataset with the scale's protocol (see `trainOnTask`). */
export async function trainOnRealData(ctx: ReproduceContext, task: ReproduceTask, recipe: ModelRecipe, options: { lr: number; outDir: string }): Promise<TrainedModel> {
  const started = Date.now();
  const s = ctx.scale;
  const { train, val, test, inputSize } = await realDatasets(ctx, task);
  ctx.print(`  ${recipe.name} on ${task}: ${train.length} train / ${val.length} val / ${test.length} test cases, [${inputSize.join('x')}], lr ${options.lr}, batch ${s.batchSize}`);
  const model = await recipe.build(inputSize, ctx.seed);
  const sampler = s.weightedSampling ? new WeightedSampler(train.labels, { samplesPerEpoch: train.length, seed: ctx.seed }) : null;
  const trainer = new Trainer({
    model,
    train,
    val,
    epochs: s.epochs,
    lr: options.lr,
    batchSize: s.batchSize,
    patience: s.patience,
    seed: ctx.seed,
    sampler: sampler ? (epoch) => sampler.epoch(epoch) : undefined,
    outDir: options.outDir,
    progress: ctx.progress ? new TerminalProgress(process.stderr) : undefined,
    onWarning: (m) => ctx.print(`  warning: ${m}`),
  });
  try {
    const fit = await trainer.fit();
    const p = await trainer.predict(test);
    return {
      model,
      test,
      run: {
        task,
        dataset: TASKS[task].dataset,
        model: recipe.name,
        description: recipe.description,
        seed: ctx.seed,
        lr: options.lr,
        parameters: model.numParameters(),
        trainableParameters: model.numParameters({ trainableOnly: true }),
        inputSize,
        epochsRun: fit.history.length,
        bestEpoch: fit.bestEpoch,
        bestValAuc: fit.bestAuc,
        seconds: (Date.now() - started) / 1000,
        ids: p.ids,
        labels: p.labels,
        scores: p.scores,
      },
    };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    trainer.dispose();
  }
}
