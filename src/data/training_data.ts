import type { VolumeDataset } from './dataset';
import type { Manifest } from './manifest';
import { manifestDataset, manifestInputs, manifestSplits } from './manifest';
import { preprocessedSize, preprocessingTransform, type PreprocessingSpec, type PreprocessingStep } from './preprocessing';
import type { Shape3 } from './sample';
import { checkSequenceInputs, formatChannelSources, type ChannelSource, type SequenceInputs } from './sequences';
import { subset } from './dataset';
import { syntheticDataset } from './synthetic/dataset';
import { SYNTHETIC_TASKS, syntheticSpacing, type SyntheticTaskName } from './synthetic/task';
import { Compose, type Transform } from './transform';
import { augmentation, type AugmentKind } from './transforms/presets';

/** The cases of one training run and how they were prepared. */
export interface TrainingData {
  train: VolumeDataset;
  val: VolumeDataset;
  test: VolumeDataset;
  /** Volume `[D, H, W]` the network sees. */
  inputSize: Shape3;
  /** What a raw scan needs to look like these (stored in the trained model's bundle). */
  preprocessing: PreprocessingSpec;
  /** Class names, index = label. */
  classNames: string[];
  /** One line for logs. */
  description: string;
}

/** Options of {@link syntheticTrainingData}. */
export interface SyntheticTrainingDataOptions {
  task: SyntheticTaskName;
  /** Seed of the generator (every case) and of the augmentation streams. */
  seed: number;
  /** Generated volume `[D, H, W]`. */
  size: Shape3;
  /** Centre crop `[D, H, W]` after the task's preprocessing (a lesion-centred field of view). */
  crop?: Shape3;
  /** Synthetic difficulty in [0, 1]. */
  difficulty: number;
  nTrain: number;
  nVal: number;
  nTest: number;
  /** z-normalise each volume after the crop (small from-scratch models learn faster on centred input). */
  zNormalize: boolean;
  /** Training augmentation after preprocessing. */
  augment: AugmentKind;
  /** A multi-sequence task's network channels (default the task's own, e.g. the subtraction post - pre). */
  channels?: readonly ChannelSource[];
}

/**
 * The preprocessing of a synthetic task as a model bundle stores it: resample to the generated
 * spacing, crop or pad to the generated field of view, the task's intensity preprocessing, the
 * centre crop and the z-normalisation. On generated volumes the first two change nothing; on a
 * raw scan they bring it to what the model saw.
 *
 * @example
 * syntheticPreprocessing('chest', [16, 64, 64], [8, 16, 16], true).steps.map((s) => s.op);
 * // ['resample', 'crop-or-pad', 'clip-rescale', 'crop-or-pad', 'z-normalize']
 */
export function syntheticPreprocessing(task: SyntheticTaskName, size: Shape3, crop: Shape3 | undefined, zNormalize: boolean, channels?: readonly ChannelSource[]): PreprocessingSpec {
  const info = SYNTHETIC_TASKS[task];
  if (!info) throw new Error(`syntheticPreprocessing: unknown task '${task}', expected one of ${Object.keys(SYNTHETIC_TASKS).join(', ')}`);
  if (channels && !info.sequences) throw new Error(`syntheticPreprocessing: the task '${task}' has one sequence; channels apply to a multi-sequence task`);
  const spacing = syntheticSpacing(task, size);
  const intensity: PreprocessingStep = info.units === 'HU' ? { op: 'clip-rescale', low: -1000, high: 1000, outLow: -1, outHigh: 1 } : { op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 };
  const steps: PreprocessingStep[] = [{ op: 'resample', spacing: [...spacing] as [number, number, number] }, { op: 'crop-or-pad', size: [...size] as Shape3 }, intensity];
  if (crop) steps.push({ op: 'crop-or-pad', size: [...crop] as Shape3 });
  if (zNormalize) steps.push({ op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 });
  const sources = channels ?? info.channels;
  if (!info.sequences || !sources) return { orientation: 'canonical', steps, channels: 1 };
  const inputs: SequenceInputs = { names: [...info.sequences], channels: sources.map((c) => ('subtract' in c ? { subtract: [...c.subtract] as [string, string] } : { ...c })), registration: 'resample' };
  checkSequenceInputs(inputs, `syntheticPreprocessing('${task}').inputs`);
  return { orientation: 'canonical', steps, channels: sources.length, inputs };
}

/**
 * The train / validation / test sets of a synthetic task: disjoint consecutive case ranges of one
 * seeded generator, each case prepared by the task's {@link syntheticPreprocessing} (cached), the
 * training set augmented.
 *
 * @example
 * const data = syntheticTrainingData({ task: 'chest', seed: 0, size: [16, 64, 64], crop: [8, 16, 16], difficulty: 0.5,
 *   nTrain: 400, nVal: 100, nTest: 200, zNormalize: true, augment: 'flip' });
 */
export function syntheticTrainingData(o: SyntheticTrainingDataOptions): TrainingData {
  const preprocessing = syntheticPreprocessing(o.task, o.size, o.crop, o.zNormalize, o.channels);
  const preprocess = preprocessingTransform(preprocessing);
  const aug = augmentation(o.augment);
  const common = { seed: o.seed, size: o.size, difficulty: o.difficulty, preprocess, ...(o.channels ? { channels: o.channels } : {}) };
  const info = SYNTHETIC_TASKS[o.task];
  return {
    train: syntheticDataset(o.task, { ...common, n: o.nTrain, offset: 0, transform: aug ?? undefined }),
    val: syntheticDataset(o.task, { ...common, n: o.nVal, offset: o.nTrain }),
    test: syntheticDataset(o.task, { ...common, n: o.nTest, offset: o.nTrain + o.nVal }),
    inputSize: o.crop ?? o.size,
    preprocessing,
    classNames: [...info.classes],
    description: `synthetic ${o.task} [${o.size.join('x')}]${o.crop ? ` cropped to [${o.crop.join('x')}]` : ''}${preprocessing.inputs ? `, channels ${formatChannelSources(preprocessing.inputs.channels)}` : ''}`,
  };
}

/** Options of {@link manifestTrainingData}. */
export interface ManifestTrainingDataOptions {
  manifest: Manifest;
  /** How every scan is prepared; its last `crop-or-pad` fixes the network's input size (required). */
  preprocessing: PreprocessingSpec;
  /** Seed of the split (when the manifest has no split column) and of the augmentation. */
  seed: number;
  augment: AugmentKind;
  /** Class names (default '0', '1', ...). */
  classNames?: string[];
}

/**
 * The train / validation / test sets of a manifest of real scans (`id, path, label` and optional
 * `split`; `path_<name>` columns for several sequences, made into channels as
 * `preprocessing.inputs` says): its split column, or the paper's stratified split by `seed`; every
 * scan read by `readVolume` (canonical orientation) and prepared by `preprocessing`.
 *
 * @example
 * const data = manifestTrainingData({ manifest: await readManifest('cases.csv'), preprocessing, seed: 0, augment: 'flip' });
 */
export function manifestTrainingData(o: ManifestTrainingDataOptions): TrainingData {
  const size = preprocessedSize(o.preprocessing);
  if (!size) throw new Error('manifestTrainingData: the preprocessing needs a crop-or-pad step, so every scan reaches the same size (a batch needs one shape)');
  if (o.preprocessing.orientation !== 'canonical') throw new Error("manifestTrainingData: the manifest's scans are read in the canonical orientation; the preprocessing must say orientation 'canonical'");
  const prepare = preprocessingTransform(o.preprocessing);
  const aug = augmentation(o.augment);
  const trainTransform: Transform = aug ? new Compose([prepare, aug]) : prepare;
  const splits = manifestSplits(o.manifest, o.seed);
  for (const k of ['train', 'val', 'test'] as const) {
    if (splits[k].length === 0) throw new Error(`${o.manifest.source}: the ${k} split has no case`);
  }
  const inputs = manifestInputs(o.manifest, o.preprocessing.inputs);
  if (o.manifest.sequences && !o.preprocessing.inputs) {
    throw new Error(`${o.manifest.source}: the manifest has the sequences ${o.manifest.sequences.join(', ')}; the preprocessing must say which channels to make of them (inputs)`);
  }
  const all = manifestDataset(o.manifest, { transform: prepare, seed: o.seed, inputs });
  const augmented = manifestDataset(o.manifest, { transform: trainTransform, seed: o.seed, inputs });
  return {
    train: subset(augmented, splits.train),
    val: subset(all, splits.val),
    test: subset(all, splits.test),
    inputSize: size,
    preprocessing: o.preprocessing,
    classNames: o.classNames ?? Array.from({ length: o.manifest.numClasses }, (_, i) => String(i)),
    description: `manifest ${o.manifest.source} (${o.manifest.rows.length} cases)`,
  };
}
