import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend';
import type { Shape3 } from '../data/sample';
import type { VolumeDataset } from '../data/dataset';
import { readManifest } from '../data/manifest';
import type { PreprocessingSpec, PreprocessingStep } from '../data/preprocessing';
import { parseChannelSources } from '../data/sequences';
import type { Registration } from '../io/volume_registration';
import { SYNTHETIC_TASK_IDS, SYNTHETIC_TASKS, type SyntheticTaskName } from '../data/synthetic/task';
import { manifestTrainingData, syntheticTrainingData, type TrainingData } from '../data/training_data';
import { AUGMENT_KINDS, type AugmentKind } from '../data/transforms/presets';
import { writeFileAtomic } from '../io/files';
import { DinoVisionTransformer } from '../models/dinov2';
import { ResNet3D } from '../models/resnet3d';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { createModel, MODEL_REGISTRY, modelSpec, SMALL_VITS, type VolumeClassifier } from '../models/registry';
import { DataParallelGradients } from '../parallel/data_parallel';
import { dataParallel } from '../parallel/data_parallel_strategy';
import { bootstrapAuc } from '../stats/bootstrap';
import { delongAuc } from '../stats/delong';
import { sliceCheckpointing, type GradientStrategy } from '../train/gradient_strategy';
import type { LrSchedule } from '../train/lr_schedule';
import { TerminalProgress } from '../train/progress';
import type { Predictions } from '../train/trainer';
import { runTraining } from '../train/training_run';
import { UsageError, type CliCommand } from './command';
import { checkBackendFlag, parseCommandArgs } from './args';
import { checkOutFolder } from './flag_files';

/** Everything a training run needs; the CLI flags map onto it one to one. */
export interface TrainRunConfig {
  /** A synthetic task (generated on the fly), unless {@link manifest} names real scans. */
  task?: SyntheticTaskName;
  /** A manifest of real scans (`id, path, label`, optional `split`), as `predict --manifest` reads. */
  manifest?: string;
  /** Registry architecture (`mst-ts train --arch`). */
  arch: string;
  epochs: number;
  seed: number;
  outDir: string;
  /** Learning rate; default the architecture's (the registry's). */
  lr?: number;
  /** Learning-rate schedule over epochs, `lr` being its peak; default constant. */
  lrSchedule?: LrSchedule;
  batchSize: number;
  accumulationSteps: number;
  patience: number;
  /** Synthetic: volume `[D, H, W]` of every generated case. Manifest: unused. */
  size: Shape3;
  /**
   * Centre crop `[D, H, W]` after the task's preprocessing (synthetic: a lesion-centred field of
   * view); with a manifest, the crop-or-pad size every scan is brought to (required).
   */
  crop?: Shape3;
  /** Manifest: resample every scan to this spacing in mm `[D, H, W]` first. */
  spacing?: Shape3;
  /** Manifest: a CT window `[low, high]` rescaled to -1..1 (instead of z-normalisation's own scaling). */
  window?: [number, number];
  /** Manifest: classes of the labels (default 2). */
  numClasses?: number;
  /**
   * A multi-sequence task or manifest (`path_<name>` columns): the network's channels, as
   * `parseChannelSources` reads them (`post-pre`, `pre,post`); default the task's own (the
   * subtraction for synthetic-breast-dce), or every sequence of a manifest as a channel.
   */
  channels?: string;
  /** A multi-sequence manifest: how sequences on other grids are brought onto the first one's (default 'resample'). */
  registration?: Registration;
  /** Class names (default the task's, or '0', '1', ...). */
  classNames?: string[];
  nTrain: number;
  nVal: number;
  nTest: number;
  difficulty: number;
  /** Cases per epoch drawn with class-balanced weights (the authors' sampler); default: each case once, shuffled. */
  samplesPerEpoch?: number;
  resume: boolean;
  /** Stop on a case that fails to load instead of skipping and counting it. */
  failOnBadCase?: boolean;
  /** Bootstrap replicates for the test AUC's std. */
  replicates: number;
  /**
   * After the task's preprocessing, z-normalise each volume (percentile-clipped): small models
   * trained from scratch learn several times faster on centred input than on CT windowed to
   * -1..1, where lung sits near -0.85.
   */
  zNormalize: boolean;
  /** Training-set augmentation after preprocessing. */
  augment: AugmentKind;
  /** Show a progress bar (TTY) or per-epoch lines (otherwise). */
  progress: boolean;
  /**
   * MSTs only: compute each batch's gradients on this many worker threads
   * ({@link DataParallelGradients}; default 1: the main thread).
   */
  workers?: number;
  /** MSTs only: slice checkpointing chunk (see `checkpointedGradients`); default off. */
  checkpointChunkSize?: number;
}

/** What a run reports, also written to `<out>/summary.json`. */
export interface TrainRunSummary {
  task: string;
  arch: string;
  seed: number;
  lr: number;
  size: Shape3;
  crop: Shape3 | null;
  epochsRun: number;
  bestEpoch: number;
  bestValAuc: number;
  stoppedEarly: boolean;
  skippedCases: number;
  /** The trained model bundle (`model.safetensors` + `model.json`). */
  model: string;
  test: {
    n: number;
    positives: number;
    auc: number;
    /** Bootstrap mean and std of the AUC (stratified, seeded). */
    bootstrap: { replicates: number; mean: number; std: number; ci: [number, number] };
    /** DeLong standard error and 95% interval. */
    delong: { std: number; ci: [number, number] };
  };
  /** Wall time of data generation, training and testing. */
  seconds: number;
}

/** A finished run: its summary, plus the trained model (best weights) and test set for the caller. */
export interface TrainRunResult {
  summary: TrainRunSummary;
  model: VolumeClassifier;
  test: VolumeDataset;
  predictions: Predictions;
}

/** The cases of a run: the synthetic task's, or the manifest's with the preprocessing the flags describe. */
async function trainingData(config: TrainRunConfig): Promise<TrainingData> {
  if (config.manifest) {
    if (!config.crop) throw new UsageError('train: --manifest needs --crop DxHxW, the size every scan is cropped or padded to');
    const steps: PreprocessingStep[] = [];
    if (config.spacing) steps.push({ op: 'resample', spacing: config.spacing });
    if (config.window) steps.push({ op: 'clip-rescale', low: config.window[0], high: config.window[1], outLow: -1, outHigh: 1 });
    steps.push({ op: 'crop-or-pad', size: config.crop });
    if (config.zNormalize) steps.push({ op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 });
    const manifest = await readManifest(config.manifest, { numClasses: config.numClasses ?? 2 });
    const preprocessing: PreprocessingSpec = { orientation: 'canonical', steps, channels: 1 };
    if (manifest.sequences) {
      const channels = parseChannelSources(config.channels, manifest.sequences);
      preprocessing.inputs = { names: manifest.sequences, channels, registration: config.registration ?? 'resample' };
      preprocessing.channels = channels.length;
    } else if (config.channels !== undefined || config.registration !== undefined) {
      throw new UsageError(`train: --channels and --registration apply to a manifest with one path_<name> column per sequence; '${config.manifest}' has one path column`);
    }
    return manifestTrainingData({ manifest, preprocessing, seed: config.seed, augment: config.augment, classNames: config.classNames });
  }
  const task = config.task;
  if (!task) throw new UsageError('train: give --task (a synthetic task) or --manifest (real scans)');
  const sequences = SYNTHETIC_TASKS[task].sequences;
  if (config.channels !== undefined && !sequences) throw new UsageError(`train: --channels applies to a multi-sequence task (synthetic-breast-dce) or manifest, not '${task}'`);
  const data = syntheticTrainingData({
    ...(config.channels !== undefined && sequences ? { channels: parseChannelSources(config.channels, sequences) } : {}),
    task,
    seed: config.seed,
    size: config.size,
    crop: config.crop,
    difficulty: config.difficulty,
    nTrain: config.nTrain,
    nVal: config.nVal,
    nTest: config.nTest,
    zNormalize: config.zNormalize,
    augment: config.augment,
  });
  return config.classNames ? { ...data, classNames: config.classNames } : data;
}

/**
 * The slices a ViT encoder takes, checked before any training: it cuts them into patches of `p`
 * voxels (after its stem's strides), so height and width must be multiples of `p`, at least one.
 */
function checkSliceMultiple(p: number, arch: string, shape: Shape3, flag: string): void {
  const [, h, w] = shape;
  if (h >= p && w >= p && h % p === 0 && w % p === 0) return;
  throw new UsageError(`train: ${flag} ${shape.join('x')} does not fit ${arch}: its slices must be at least ${p}x${p} voxels, height and width multiples of ${p}`);
}

/**
 * Trains `arch` on a synthetic task or a manifest of real scans and tests it on held-out cases,
 * through the one training pipeline (`runTraining`). Writes checkpoints, `log.jsonl`, the model
 * bundle (`model.safetensors` + `model.json`, with the preprocessing), `summary.json` and
 * `test_predictions.csv` into `outDir`. The caller disposes `result.model`.
 */
export async function trainFromConfig(config: TrainRunConfig, print: (line: string) => void = () => {}): Promise<TrainRunResult> {
  const started = Date.now();
  await checkOutFolder(config.outDir);
  const data = await trainingData(config);
  const { seed } = config;
  const spec = modelSpec(config.arch);
  const sizeFlag = config.crop ? '--crop' : '--size';
  const small = SMALL_VITS[config.arch];
  // A small ViT's patch is known before building it (building refuses slices smaller than it).
  if (small) {
    const stemStride = (small.convStem?.strides ?? small.convStem?.channels.map(() => 2) ?? []).reduce((a, b) => a * b, 1);
    checkSliceMultiple(small.patchSize * stemStride, config.arch, data.inputSize, sizeFlag);
  }
  const channels = data.preprocessing.channels;
  const model = createModel(config.arch, { seed, imageSize: data.inputSize[1], numClasses: data.classNames.length, ...(channels > 1 ? { inChannels: channels } : {}) });
  try {
    if (model instanceof MedicalSliceTransformer && model.encoder instanceof DinoVisionTransformer) {
      checkSliceMultiple(model.encoder.patchSize * (model.encoder.stem?.stride ?? 1), config.arch, data.inputSize, sizeFlag);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  const lr = config.lr ?? spec.lr;
  print(
    `${config.arch} (${(model.numParameters() / 1e6).toFixed(2)} M parameters) on ${data.description}: ` +
      `${data.train.length} train / ${data.val.length} val / ${data.test.length} test cases, lr ${lr}, batch ${config.batchSize}, backend ${tf.getBackend()}`,
  );
  const workers = config.workers ?? 1;
  let dp: DataParallelGradients | undefined;
  let gradients: GradientStrategy | undefined;
  try {
    if (workers > 1) {
      if (!spec.capabilities.gradients.includes('data-parallel') || !(model instanceof MedicalSliceTransformer || model instanceof ResNet3D)) {
        throw new UsageError(`train: --workers applies to architectures that train data-parallel (the MSTs and 3D ResNets); '${config.arch}' trains on the main thread`);
      }
      dp = await DataParallelGradients.create(model, { workers, backend: tf.getBackend() });
      gradients = dataParallel(dp, { chunkSize: config.checkpointChunkSize ?? 0 });
      print(`data-parallel gradients on ${workers} worker threads`);
    } else if (config.checkpointChunkSize) {
      if (!spec.capabilities.gradients.includes('slice-checkpointed')) throw new UsageError(`train: --checkpoint-chunk applies to the MSTs, not '${config.arch}'`);
      gradients = sliceCheckpointing({ chunkSize: config.checkpointChunkSize });
    }
    const run = await runTraining({
      model,
      data,
      arch: config.arch,
      outDir: config.outDir,
      epochs: config.epochs,
      lr,
      lrSchedule: config.lrSchedule,
      batchSize: config.batchSize,
      accumulationSteps: config.accumulationSteps,
      patience: config.patience,
      seed,
      samplesPerEpoch: config.samplesPerEpoch,
      resume: config.resume,
      failOnBadCase: config.failOnBadCase,
      gradients,
      progress: config.progress ? new TerminalProgress(process.stderr) : undefined,
      print,
    });
    const predictions = run.test;
    const boot = bootstrapAuc(predictions.labels, predictions.scores, { replicates: config.replicates, seed });
    const dl = delongAuc(predictions.labels, predictions.scores);
    const summary: TrainRunSummary = {
      task: config.manifest ?? (config.task as string),
      arch: config.arch,
      seed,
      lr,
      size: config.manifest ? data.inputSize : config.size,
      crop: config.crop ?? null,
      epochsRun: run.fit.history.length,
      bestEpoch: run.fit.bestEpoch,
      bestValAuc: run.fit.bestAuc,
      stoppedEarly: run.fit.stoppedEarly,
      skippedCases: run.fit.skippedCases,
      model: run.bundlePath as string,
      test: {
        n: predictions.labels.length,
        positives: predictions.labels.filter((l) => l === 1).length,
        auc: predictions.auc,
        bootstrap: { replicates: config.replicates, mean: boot.mean, std: boot.std, ci: boot.ci },
        delong: { std: dl.std, ci: dl.ci },
      },
      seconds: (Date.now() - started) / 1000,
    };
    const path = await import('node:path');
    await writeFileAtomic(path.join(config.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return { summary, model, test: data.test, predictions };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    await dp?.dispose();
  }
}

/** `test AUC 0.912 ± 0.021 (bootstrap, 1000 replicates), 95% CI 0.871-0.953 (DeLong), 200 cases`. */
export function formatTestResult(s: TrainRunSummary): string {
  const t = s.test;
  return (
    `test AUC ${t.auc.toFixed(3)} ± ${t.bootstrap.std.toFixed(3)} (bootstrap std, ${t.bootstrap.replicates} replicates), ` +
    `95% CI ${t.delong.ci[0].toFixed(3)}-${t.delong.ci[1].toFixed(3)} (DeLong), ${t.n} held-out cases (${t.positives} positive)`
  );
}

const USAGE = `Usage: mst-ts train --task <name> [options]
       mst-ts train --manifest cases.csv --crop <DxHxW> [options]

Trains a model on an embedded synthetic task (generated on the fly from the seed) or on real scans
listed in a manifest, validates by AUC every epoch with early stopping, restores the best epoch,
reports the held-out test AUC and writes the model as a bundle that carries its preprocessing:
\`mst-ts predict --weights <out>/model.safetensors --input scan.nii.gz\` runs it on a raw scan.

Options:
  --task <name>            synthetic-chest | synthetic-breast | synthetic-knee | synthetic-breast-dce
                           (two phases, pre and post contrast; by default the subtraction post-pre)
  --manifest <csv>         real scans instead: columns id, path (relative to the CSV), label and
                           optionally split (train, val, test; without it the paper's stratified split
                           by --seed), the format \`mst-ts predict --manifest\` reads. Several sequences
                           per case: one column path_<name> per sequence instead of path (path_pre,
                           path_post; path_t1, path_t2), the first one's grid being the input's
  --channels <list>        several sequences: the network's channels, comma-separated, each a sequence
                           or a subtraction a-b (post-pre: the paper's breast input; pre,post: both
                           phases as image channels; default the task's own, or every sequence)
  --registration <mode>    manifest sequences on other grids: resample (default; onto the first
                           sequence's grid through their affines) or same-grid (refuse, naming both)
  --arch <name>            architecture (default mst-dinov2-tiny): ${[...MODEL_REGISTRY.keys()].join(', ')}
  --epochs <n>             maximum epochs (default 20)
  --seed <n>               seed of the data, its order and the initial weights (default 0)
  --out <dir>              output folder (default runs/<task>-<arch>-<seed>): model.safetensors + model.json
                           (the trained model bundle: architecture, weights, class names, preprocessing),
                           last.safetensors (resumable checkpoint), best.safetensors (best weights, also a
                           bundle), log.jsonl (one line per epoch), summary.json, test_predictions.csv
  --lr <x>                 AdamW learning rate (default: the architecture's: 5e-4 or 1e-3 for the small
                           from-scratch MSTs, else the paper's: 1e-6 MST-DINOv2, 1e-5 MST-ResNet, 1e-4 3D
                           ResNet, meant for pretrained encoders)
  --lr-schedule <kind>     constant (default) or cosine (decay to 1% of --lr by the last epoch)
  --warmup <n>             epochs of linear learning-rate warm-up below --lr (epoch e of n at e/(n+1) of
                           it; default 0)
  --batch-size <n>         volumes per step (default 8)
  --accumulate <n>         batches per optimizer step (gradient accumulation, default 1)
  --patience <n>           epochs without a better validation AUC before stopping (default 50)
  --size <DxHxW>           synthetic: generated volume size (default 16x64x64 for the small MSTs,
                           32x224x224 else)
  --crop <DxHxW>           synthetic: centre crop after generation (default 16x32x32 for the small MSTs,
                           none else); manifest: the size every scan is cropped or padded to (required)
  --spacing <DxHxW>        manifest: resample every scan to this voxel spacing in mm first
  --window=<low,high>      manifest: clamp to a CT window and rescale it to -1..1 (e.g. --window=-1000,1000)
  --num-classes <n>        manifest: classes of the labels (default 2)
  --class-names <a,b,..>   class names stored in the bundle (default: the task's, or 0, 1, ...)
  --n-train <n>            synthetic training cases (default 400)
  --n-val <n>              synthetic validation cases (default 100)
  --n-test <n>             synthetic held-out test cases (default 200)
  --difficulty <x>         synthetic difficulty in [0, 1] (default 0.5)
  --samples-per-epoch <n>  draw this many cases per epoch with class-balanced weights (default: every
                           training case once)
  --replicates <n>         bootstrap replicates for the test AUC's std (default 1000)
  --z-normalize <on|off>   z-normalise each volume after the task's preprocessing (default on for the
                           small from-scratch MSTs and for manifests, off for the paper's models)
  --augment <kind>         training augmentation: none (default), flip (random flips on every axis) or
                           paper (the authors': flips, rotation about the slice axis, noise, inversion)
  --workers <n>            MSTs and 3D ResNets: split every batch over n worker threads, one wasm backend each
                           (data-parallel gradients, an MST's equal to one thread's; a 3D ResNet's batch
                           norm normalises each worker's shard by its own statistics; default 1)
  --checkpoint-chunk <n>   MSTs: encode n slices at a time with activation checkpointing, so training
                           memory does not grow with the slice count (default off)
  --resume                 continue from <out>/last.safetensors if present
  --fail-on-bad-case       stop at a case that cannot be loaded (default: skip it, count it in the log)
  --backend <name>         tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --json                   print the summary as JSON on stdout (progress still goes to stderr)
  -h, --help               this text

Precision is float32 throughout: tfjs has no float16 training (no mixed precision).`;

function intFlag(name: string, v: string | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`train: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function numberFlag(name: string, v: string | undefined, ok: (n: number) => boolean, expect: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`train: --${name} must be ${expect}, got '${v}'`);
  return n;
}

function augmentFlag(v: string | undefined): AugmentKind {
  if (v === undefined) return 'none';
  if (!AUGMENT_KINDS.includes(v as AugmentKind)) throw new UsageError(`train: --augment must be ${AUGMENT_KINDS.join(', ')}, got '${v}'`);
  return v as AugmentKind;
}

function windowFlag(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => Number(x));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[1] > parts[0])) throw new UsageError(`train: --window must look like -1000,1000 (low < high), got '${v}'`);
  return parts as [number, number];
}

function spacingFlag(v: string | undefined): Shape3 | undefined {
  if (v === undefined) return undefined;
  const parts = v.split('x').map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isFinite(n) && n > 0)) throw new UsageError(`train: --spacing must look like 3x0.7x0.7 (mm per D, H, W), got '${v}'`);
  return parts as Shape3;
}

function scheduleFlags(kind: string | undefined, warmup: string | undefined): LrSchedule | undefined {
  if (kind !== undefined && kind !== 'constant' && kind !== 'cosine') throw new UsageError(`train: --lr-schedule must be constant or cosine, got '${kind}'`);
  const warmupEpochs = intFlag('warmup', warmup, 0, 0);
  if (kind === undefined && warmupEpochs === 0) return undefined;
  return { decay: kind ?? 'constant', warmupEpochs };
}

function onOff(name: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v !== 'on' && v !== 'off') throw new UsageError(`train: --${name} must be 'on' or 'off', got '${v}'`);
  return v === 'on';
}

/** Parses a `DxHxW` size flag. */
export function parseSize(flag: string, v: string): Shape3 {
  const parts = v.split('x').map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`train: --${flag} must look like 16x32x32 (D x H x W), got '${v}'`);
  }
  return parts as Shape3;
}

/** Parses `train`'s flags into a config (exported for the demo and tests). */
export function parseTrainArgs(argv: string[]): TrainRunConfig & { json: boolean; backend?: string } {
  const values: Record<string, string | boolean | undefined> = parseCommandArgs('train', USAGE, {
    args: argv,
    options: {
      task: { type: 'string' },
      manifest: { type: 'string' },
      spacing: { type: 'string' },
      window: { type: 'string' },
      'num-classes': { type: 'string' },
      'class-names': { type: 'string' },
      channels: { type: 'string' },
      registration: { type: 'string' },
      arch: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      lr: { type: 'string' },
      'lr-schedule': { type: 'string' },
      warmup: { type: 'string' },
      'batch-size': { type: 'string' },
      accumulate: { type: 'string' },
      patience: { type: 'string' },
      size: { type: 'string' },
      crop: { type: 'string' },
      'n-train': { type: 'string' },
      'n-val': { type: 'string' },
      'n-test': { type: 'string' },
      difficulty: { type: 'string' },
      'samples-per-epoch': { type: 'string' },
      replicates: { type: 'string' },
      'z-normalize': { type: 'string' },
      augment: { type: 'string' },
      workers: { type: 'string' },
      'checkpoint-chunk': { type: 'string' },
      resume: { type: 'boolean', default: false },
      'fail-on-bad-case': { type: 'boolean', default: false },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  }).values;
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const taskFlag = s('task');
  const manifest = s('manifest');
  if (!taskFlag && !manifest) throw new UsageError(`train: give --task (a synthetic task) or --manifest (real scans)\n\n${USAGE}`);
  if (taskFlag && manifest) throw new UsageError('train: give --task or --manifest, not both');
  let task: SyntheticTaskName | undefined;
  if (taskFlag) {
    task = SYNTHETIC_TASK_IDS[taskFlag];
    if (!task) throw new UsageError(`train: unknown --task '${taskFlag}'; expected one of ${Object.keys(SYNTHETIC_TASK_IDS).join(', ')}`);
    if (!(task in SYNTHETIC_TASKS)) throw new UsageError(`train: the task '${taskFlag}' is not available in this build`);
  }
  for (const k of ['spacing', 'window', 'num-classes', 'registration'] as const) if (!manifest && s(k) !== undefined) throw new UsageError(`train: --${k} applies to --manifest`);
  const registration = s('registration');
  if (registration !== undefined && registration !== 'resample' && registration !== 'same-grid') throw new UsageError(`train: --registration must be resample or same-grid, got '${registration}'`);
  for (const k of ['size', 'n-train', 'n-val', 'n-test', 'difficulty'] as const) if (manifest && s(k) !== undefined) throw new UsageError(`train: --${k} applies to a synthetic --task`);
  checkBackendFlag('train', s('backend'));
  const arch = s('arch') ?? 'mst-dinov2-tiny';
  if (!MODEL_REGISTRY.has(arch)) throw new UsageError(`train: unknown --arch '${arch}'; expected one of ${[...MODEL_REGISTRY.keys()].join(', ')}`);
  const seed = intFlag('seed', s('seed'), 0, 0);
  const small = arch in SMALL_VITS;
  const numClasses = s('num-classes') === undefined ? undefined : intFlag('num-classes', s('num-classes'), 2, 2);
  const classNames = s('class-names')?.split(',').map((x) => x.trim());
  const classCount = numClasses ?? (task ? SYNTHETIC_TASKS[task].classes.length : 2);
  if (classNames && (classNames.length !== classCount || classNames.some((c) => c === ''))) {
    throw new UsageError(`train: --class-names must name ${classCount} classes, comma-separated, got '${s('class-names')}'`);
  }
  return {
    task,
    manifest,
    arch,
    seed,
    epochs: intFlag('epochs', s('epochs'), 20),
    outDir: s('out') ?? `runs/${taskFlag ?? 'manifest'}-${arch}-${seed}`,
    lr: numberFlag('lr', s('lr'), (n) => n > 0, 'a positive number'),
    lrSchedule: scheduleFlags(s('lr-schedule'), s('warmup')),
    batchSize: intFlag('batch-size', s('batch-size'), 8),
    accumulationSteps: intFlag('accumulate', s('accumulate'), 1),
    patience: intFlag('patience', s('patience'), 50),
    size: s('size') ? parseSize('size', s('size') as string) : small ? [16, 64, 64] : [32, 224, 224],
    crop: s('crop') ? parseSize('crop', s('crop') as string) : small && !s('size') && !manifest ? [16, 32, 32] : undefined,
    spacing: spacingFlag(s('spacing')),
    window: windowFlag(s('window')),
    numClasses,
    classNames,
    ...(s('channels') !== undefined ? { channels: s('channels') } : {}),
    ...(registration !== undefined ? { registration: registration as Registration } : {}),
    nTrain: intFlag('n-train', s('n-train'), 400, 2),
    nVal: intFlag('n-val', s('n-val'), 100, 2),
    nTest: intFlag('n-test', s('n-test'), 200, 2),
    difficulty: numberFlag('difficulty', s('difficulty'), (n) => n >= 0 && n <= 1, 'a number in [0, 1]') ?? 0.5,
    samplesPerEpoch: s('samples-per-epoch') === undefined ? undefined : intFlag('samples-per-epoch', s('samples-per-epoch'), 1),
    replicates: intFlag('replicates', s('replicates'), 1000, 2),
    zNormalize: onOff('z-normalize', s('z-normalize'), small || !!manifest),
    augment: augmentFlag(s('augment')),
    workers: intFlag('workers', s('workers'), 1),
    checkpointChunkSize: s('checkpoint-chunk') === undefined ? undefined : intFlag('checkpoint-chunk', s('checkpoint-chunk'), 1),
    resume: values.resume === true,
    failOnBadCase: values['fail-on-bad-case'] === true,
    progress: true,
    json: values.json === true,
    backend: s('backend'),
  };
}

async function run(argv: string[]): Promise<number> {
  const config = parseTrainArgs(argv);
  // wasm unless asked: named explicitly, because training on the pure-JS cpu backend is ~40x slower.
  await setBackend(config.backend ?? 'wasm');
  const print = (line: string): void => void process.stderr.write(`${line}\n`);
  const result = await trainFromConfig(config, print);
  result.model.dispose();
  if (config.json) process.stdout.write(`${JSON.stringify(result.summary)}\n`);
  else {
    const s = result.summary;
    process.stdout.write(
      `best epoch ${s.bestEpoch} of ${s.epochsRun} (validation AUC ${s.bestValAuc.toFixed(3)})\n${formatTestResult(s)}\n` +
        `wrote ${config.outDir}/ (model.safetensors + model.json: the model bundle; log.jsonl, summary.json, test_predictions.csv) in ${s.seconds.toFixed(0)} s\n`,
    );
  }
  return 0;
}

/** `mst-ts train`: trains and tests a model on a synthetic task. */
export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a model on a synthetic task or a manifest of scans; writes a model bundle that predict and explain use as is',
  usage: USAGE,
  run,
};
