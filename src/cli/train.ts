import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend';
import type { Shape3 } from '../data/sample';
import type { VolumeDataset } from '../data/dataset';
import { WeightedSampler } from '../data/sampler';
import { syntheticDataset } from '../data/synthetic/dataset';
import { SYNTHETIC_TASKS, type SyntheticTaskName } from '../data/synthetic/task';
import { ZNormalize } from '../data/transforms/intensity';
import { CropOrPad, RandomFlip } from '../data/transforms/spatial';
import { paperAugmentation } from '../data/transforms/presets';
import { Compose, type Transform } from '../data/transform';
import { writeFileAtomic } from '../io/files';
import { DataParallelGradients } from '../parallel/data_parallel';
import { bootstrapAuc } from '../stats/bootstrap';
import { delongAuc } from '../stats/delong';
import { TerminalProgress } from '../train/progress';
import { DEFAULT_LEARNING_RATES, Trainer, type Classifier, type TrainingFamily, type Predictions } from '../train/trainer';
import { UsageError, type CliCommand } from './command';
import { parseCommandArgs } from './args';
import { epochOrderHook, type LrSchedule } from '../train/lr_schedule';
import { buildModel, familyOf, mstWorkerSpec, SMALL_ARCHS, trainArchNames } from './train_archs';
export { buildModel, familyOf, mstWorkerSpec, SMALL_ARCHS, trainArchNames, type SmallArch } from './train_archs';

/** Everything a training run needs; the CLI flags map onto it one to one. */
export interface TrainRunConfig {
  task: SyntheticTaskName;
  arch: string;
  epochs: number;
  seed: number;
  outDir: string;
  /**
   * Builds the model instead of looking `arch` up (ablations: another fusion, encoder or frozen
   * weights); `arch` then only names the run. Called with the network's input size and the seed.
   */
  createModel?: (inputSize: Shape3, seed: number) => Classifier;
  /** Learning rate; default per architecture. */
  lr?: number;
  /** Learning-rate schedule over epochs, `lr` being its peak; default constant. */
  lrSchedule?: LrSchedule;
  batchSize: number;
  accumulationSteps: number;
  patience: number;
  /** Volume `[D, H, W]` of every generated case. */
  size: Shape3;
  /**
   * Centre crop `[D, H, W]` after generation (the nodule-centred crop of the paper's chest data):
   * a small crop of a larger field of view keeps the lesion's detail at a low cost.
   */
  crop?: Shape3;
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
  /**
   * Training-set augmentation after preprocessing: 'none', 'flip' (random flips on every axis) or
   * 'paper' (the authors': flips, rotation about the slice axis, noise, inversion).
   */
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

/** Augmentation presets of {@link TrainRunConfig.augment}. */
export type AugmentKind = 'none' | 'flip' | 'paper';

function augmentation(kind: AugmentKind): Transform | null {
  if (kind === 'flip') return new RandomFlip([0.5, 0.5, 0.5]);
  if (kind === 'paper') return paperAugmentation();
  return null;
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
  model: Classifier;
  test: VolumeDataset;
  predictions: Predictions;
}

/**
 * Trains `arch` on a synthetic task and tests it on held-out cases: train, validation and test
 * sets are disjoint case indices of one seeded generator. Writes checkpoints, `log.jsonl`,
 * `summary.json` and `test_predictions.csv` into `outDir`. The caller disposes `result.model`.
 */
export async function runTraining(config: TrainRunConfig, print: (line: string) => void = () => {}): Promise<TrainRunResult> {
  const started = Date.now();
  const { task, size, difficulty, seed } = config;
  const steps: Transform[] = [];
  if (config.crop) steps.push(new CropOrPad(config.crop, { centre: 'centre' }));
  if (config.zNormalize) steps.push(new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }));
  const transform = steps.length ? new Compose(steps) : undefined;
  const augment = augmentation(config.augment);
  const trainTransform = augment ? new Compose([...steps, augment]) : transform;
  const inputSize = config.crop ?? size;
  const common = { seed, size, difficulty, transform };
  const sets = {
    train: syntheticDataset(task, { ...common, transform: trainTransform, n: config.nTrain, offset: 0 }),
    val: syntheticDataset(task, { ...common, n: config.nVal, offset: config.nTrain }),
    test: syntheticDataset(task, { ...common, n: config.nTest, offset: config.nTrain + config.nVal }),
  };
  const family = familyOf(config.arch);
  const lr = config.lr ?? SMALL_ARCHS[config.arch]?.lr ?? (family ? DEFAULT_LEARNING_RATES[family] : 1e-4);
  const model = config.createModel ? config.createModel(inputSize, seed) : buildModel(config.arch, inputSize, seed);
  print(
    `${config.arch} (${(model.numParameters() / 1e6).toFixed(2)} M parameters) on synthetic ${task} [${size.join('x')}]` +
      `${config.crop ? ` cropped to [${config.crop.join('x')}]` : ''}: ` +
      `${config.nTrain} train / ${config.nVal} val / ${config.nTest} test cases, lr ${lr}, batch ${config.batchSize}, backend ${tf.getBackend()}`,
  );
  const workers = config.workers ?? 1;
  let dataParallel: DataParallelGradients | undefined;
  if (workers > 1) {
    const spec = config.createModel ? null : mstWorkerSpec(config.arch, inputSize);
    if (!spec) {
      model.dispose();
      throw new UsageError(`train: --workers applies to the MST architectures; '${config.arch}'${config.createModel ? ' (a custom model)' : ''} trains on the main thread`);
    }
    dataParallel = await DataParallelGradients.create(spec, { workers, backend: tf.getBackend() });
    print(`data-parallel gradients on ${workers} worker threads`);
  }
  const sampler = config.samplesPerEpoch ? new WeightedSampler(sets.train.labels, { samplesPerEpoch: config.samplesPerEpoch, seed }) : null;
  const order = epochOrderHook({ lr, schedule: config.lrSchedule, epochs: config.epochs, sampler, trainSize: sets.train.length, setLr: (r) => (trainer.optimizer.lr = r) });
  const trainer: Trainer = new Trainer({
    model,
    train: sets.train,
    val: sets.val,
    epochs: config.epochs,
    lr,
    batchSize: config.batchSize,
    accumulationSteps: config.accumulationSteps,
    patience: config.patience,
    seed,
    sampler: order,
    outDir: config.outDir,
    resume: config.resume,
    failOnBadCase: config.failOnBadCase,
    progress: config.progress ? new TerminalProgress(process.stderr) : undefined,
    onWarning: (m) => print(`warning: ${m}`),
    checkpointChunkSize: config.checkpointChunkSize,
    dataParallel,
  });
  try {
    const fit = await trainer.fit();
    const predictions = await trainer.predict(sets.test);
    const boot = bootstrapAuc(predictions.labels, predictions.scores, { replicates: config.replicates, seed });
    const dl = delongAuc(predictions.labels, predictions.scores);
    const summary: TrainRunSummary = {
      task,
      arch: config.arch,
      seed,
      lr,
      size,
      crop: config.crop ?? null,
      epochsRun: fit.history.length,
      bestEpoch: fit.bestEpoch,
      bestValAuc: fit.bestAuc,
      stoppedEarly: fit.stoppedEarly,
      skippedCases: fit.skippedCases,
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
    const rows = predictions.ids.map((id, i) => `${id},${predictions.labels[i]},${predictions.scores[i]}`);
    await writeFileAtomic(path.join(config.outDir, 'test_predictions.csv'), `id,label,score\n${rows.join('\n')}\n`);
    return { summary, model, test: sets.test, predictions };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    trainer.dispose();
    await dataParallel?.dispose();
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

const TASKS: Record<string, SyntheticTaskName | undefined> = {
  'synthetic-chest': 'chest',
  'synthetic-breast': 'breast' as SyntheticTaskName,
  'synthetic-knee': 'knee' as SyntheticTaskName,
};

const USAGE = `Usage: mst-ts train --task <name> [options]

Trains a model on an embedded synthetic task (generated on the fly from the seed), validates by
AUC every epoch with early stopping, restores the best epoch and reports the held-out test AUC.

Options:
  --task <name>            synthetic-chest | synthetic-breast | synthetic-knee (required)
  --arch <name>            architecture (default mst-dinov2-tiny): ${trainArchNames().join(', ')}
  --epochs <n>             maximum epochs (default 20)
  --seed <n>               seed of the data, its order and the initial weights (default 0)
  --out <dir>              output folder (default runs/<task>-<arch>-<seed>): last.safetensors (resumable
                           checkpoint), best.safetensors (best weights, PyTorch names), log.jsonl (one line
                           per epoch), summary.json, test_predictions.csv
  --lr <x>                 AdamW learning rate (default: 5e-4 for the small from-scratch MSTs, else the
                           paper's: 1e-6 MST-DINOv2, 1e-5 MST-ResNet, 1e-4 3D ResNet, meant for pretrained
                           encoders)
  --lr-schedule <kind>     constant (default) or cosine (decay to 1% of --lr by the last epoch)
  --warmup <n>             epochs of linear learning-rate warm-up (default 0)
  --batch-size <n>         volumes per step (default 8)
  --accumulate <n>         batches per optimizer step (gradient accumulation, default 1)
  --patience <n>           epochs without a better validation AUC before stopping (default 50)
  --size <DxHxW>           generated volume size (default 16x64x64 for the small MSTs, 32x224x224 else)
  --crop <DxHxW>           centre crop after generation (default 16x32x32 for the small MSTs, none else)
  --n-train <n>            training cases (default 400)
  --n-val <n>              validation cases (default 100)
  --n-test <n>             held-out test cases (default 200)
  --difficulty <x>         synthetic difficulty in [0, 1] (default 0.5)
  --samples-per-epoch <n>  draw this many cases per epoch with class-balanced weights (default: every
                           training case once)
  --replicates <n>         bootstrap replicates for the test AUC's std (default 1000)
  --z-normalize <on|off>   z-normalise each volume after the task's preprocessing (default on for the
                           small from-scratch MSTs, off for the paper's models)
  --augment <kind>         training augmentation: none (default), flip (random flips on every axis) or
                           paper (the authors': flips, rotation about the slice axis, noise, inversion)
  --workers <n>            MSTs: split every batch over n worker threads, one wasm backend each
                           (data-parallel gradients, equal to one thread's; default 1)
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
  if (v !== 'none' && v !== 'flip' && v !== 'paper') throw new UsageError(`train: --augment must be none, flip or paper, got '${v}'`);
  return v;
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
  if (!taskFlag) throw new UsageError(`train: --task is required\n\n${USAGE}`);
  if (!(taskFlag in TASKS)) throw new UsageError(`train: unknown --task '${taskFlag}'; expected one of ${Object.keys(TASKS).join(', ')}`);
  const task = TASKS[taskFlag] as SyntheticTaskName;
  if (!(task in SYNTHETIC_TASKS)) {
    throw new UsageError(`train: the task '${taskFlag}' is not available in this build; available: ${Object.keys(SYNTHETIC_TASKS).map((t) => `synthetic-${t}`).join(', ')}`);
  }
  const arch = s('arch') ?? 'mst-dinov2-tiny';
  if (!trainArchNames().includes(arch)) throw new UsageError(`train: unknown --arch '${arch}'; expected one of ${trainArchNames().join(', ')}`);
  const seed = intFlag('seed', s('seed'), 0, 0);
  const small = arch in SMALL_ARCHS;
  return {
    task,
    arch,
    seed,
    epochs: intFlag('epochs', s('epochs'), 20),
    outDir: s('out') ?? `runs/${taskFlag}-${arch}-${seed}`,
    lr: numberFlag('lr', s('lr'), (n) => n > 0, 'a positive number'),
    lrSchedule: scheduleFlags(s('lr-schedule'), s('warmup')),
    batchSize: intFlag('batch-size', s('batch-size'), 8),
    accumulationSteps: intFlag('accumulate', s('accumulate'), 1),
    patience: intFlag('patience', s('patience'), 50),
    size: s('size') ? parseSize('size', s('size') as string) : small ? [16, 64, 64] : [32, 224, 224],
    crop: s('crop') ? parseSize('crop', s('crop') as string) : small && !s('size') ? [16, 32, 32] : undefined,
    nTrain: intFlag('n-train', s('n-train'), 400, 2),
    nVal: intFlag('n-val', s('n-val'), 100, 2),
    nTest: intFlag('n-test', s('n-test'), 200, 2),
    difficulty: numberFlag('difficulty', s('difficulty'), (n) => n >= 0 && n <= 1, 'a number in [0, 1]') ?? 0.5,
    samplesPerEpoch: s('samples-per-epoch') === undefined ? undefined : intFlag('samples-per-epoch', s('samples-per-epoch'), 1),
    replicates: intFlag('replicates', s('replicates'), 1000, 2),
    zNormalize: onOff('z-normalize', s('z-normalize'), small),
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
  const result = await runTraining(config, print);
  result.model.dispose();
  if (config.json) process.stdout.write(`${JSON.stringify(result.summary)}\n`);
  else {
    const s = result.summary;
    process.stdout.write(
      `best epoch ${s.bestEpoch} of ${s.epochsRun} (validation AUC ${s.bestValAuc.toFixed(3)})\n${formatTestResult(s)}\n` +
        `wrote ${config.outDir}/ (best.safetensors, log.jsonl, summary.json, test_predictions.csv) in ${s.seconds.toFixed(0)} s\n`,
    );
  }
  return 0;
}

/** `mst-ts train`: trains and tests a model on a synthetic task. */
export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a model on a synthetic task; validation AUC, early stopping, test AUC with CI',
  usage: USAGE,
  run,
};
