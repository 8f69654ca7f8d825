import type { TrainingData } from '../data/training_data';
import { WeightedSampler } from '../data/sampler';
import { writeFileAtomic } from '../io/files';
import { saveModel } from '../models/save_model';
import type { GradientStrategy, TrainableModel } from './gradient_strategy';
import type { LrSchedule } from './lr_schedule';
import type { ProgressReporter } from './progress';
import { Trainer, type EpochRecord, type FitResult, type MetricFunction, type Predictions } from './trainer';

/** Options of {@link runTraining}. */
export interface TrainingRunOptions {
  /** A fresh model for `data.inputSize` (a registry architecture: `createModel(arch, { imageSize })`). */
  model: TrainableModel;
  /** The sets and how they were prepared (`syntheticTrainingData`, `manifestTrainingData`). */
  data: TrainingData;
  /** The architecture name the bundle records (default: the registry name the model was created as). */
  arch?: string;
  /**
   * Output folder: checkpoints, `log.jsonl`, the bundle `model.safetensors` + `model.json`,
   * `test_predictions.csv`. Without it nothing is written (a notebook's quick run).
   */
  outDir?: string;
  epochs: number;
  /** Peak learning rate (default: the registry's rate of the model's architecture). */
  lr?: number;
  lrSchedule?: LrSchedule;
  batchSize: number;
  accumulationSteps?: number;
  /** Epochs without a better validation metric before stopping. */
  patience: number;
  /** Seed of the data order and augmentation. */
  seed: number;
  /** Cases per epoch drawn with class-balanced weights (the authors' sampler); default: each case once, shuffled. */
  samplesPerEpoch?: number;
  resume?: boolean;
  failOnBadCase?: boolean;
  gradients?: GradientStrategy;
  metrics?: Record<string, MetricFunction>;
  progress?: ProgressReporter;
  /** Warnings, one line each (a case skipped, a metric undefined); `progress` draws the epochs. */
  print?: (line: string) => void;
  onEpochEnd?: (record: EpochRecord) => void;
}

/** What {@link runTraining} returns; the model holds the best epoch's weights. */
export interface TrainingRunResult {
  fit: FitResult;
  /** The test set's predictions. */
  test: Predictions;
  /** The peak learning rate used. */
  lr: number;
  /** The bundle's weights path (`<outDir>/model.safetensors`), or null without `outDir`. */
  bundlePath: string | null;
  /** Wall time of training and testing. */
  seconds: number;
}

/**
 * The one training pipeline of mst-ts (`mst-ts train`, `mst-ts reproduce`, the notebooks, the
 * API): fits the model on `data.train` with the Trainer (validation every epoch, early stopping,
 * best epoch restored), predicts `data.test`, and writes the trained model as a bundle that
 * carries its preprocessing and class names (`model.safetensors` + `model.json`, which `mst-ts
 * predict`, `explain` and `loadClassifier` use as is) and `test_predictions.csv`. Resumable from
 * `outDir/last.safetensors`.
 *
 * @example
 * const data = syntheticTrainingData({ task: 'chest', seed: 0, size: [16, 64, 64], crop: [8, 16, 16], ... });
 * const model = createModel('mst-dinov2-tiny-conv', { imageSize: data.inputSize[1] });
 * const run = await runTraining({ model, data, outDir: 'runs/demo', epochs: 8, batchSize: 8, patience: 50, seed: 0 });
 * run.test.auc;
 */
export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunResult> {
  const started = Date.now();
  const { data, model } = options;
  const sampler = options.samplesPerEpoch ? new WeightedSampler(data.train.labels, { samplesPerEpoch: options.samplesPerEpoch, seed: options.seed }) : null;
  const bundle = { classNames: data.classNames, preprocessing: data.preprocessing, ...(options.arch ? { arch: options.arch } : {}) };
  const trainer = new Trainer({
    model,
    train: data.train,
    val: data.val,
    epochs: options.epochs,
    lr: options.lr,
    lrSchedule: options.lrSchedule,
    batchSize: options.batchSize,
    accumulationSteps: options.accumulationSteps,
    patience: options.patience,
    seed: options.seed,
    sampler: sampler ? (epoch) => sampler.epoch(epoch) : undefined,
    outDir: options.outDir,
    bundle,
    resume: options.resume,
    failOnBadCase: options.failOnBadCase,
    gradients: options.gradients,
    metrics: options.metrics,
    progress: options.progress,
    onWarning: (m) => options.print?.(`warning: ${m}`),
    onEpochEnd: options.onEpochEnd,
  });
  try {
    const fit = await trainer.fit();
    const test = await trainer.predict(data.test);
    let bundlePath: string | null = null;
    if (options.outDir) {
      const path = await import('node:path');
      bundlePath = path.join(options.outDir, 'model.safetensors');
      await saveModel(model, bundlePath, bundle);
      const rows = test.ids.map((id, i) => `${id},${test.labels[i]},${test.scores[i]}`);
      await writeFileAtomic(path.join(options.outDir, 'test_predictions.csv'), `id,label,score\n${rows.join('\n')}\n`);
    }
    return { fit, test, lr: trainer.lr, bundlePath, seconds: (Date.now() - started) / 1000 };
  } finally {
    trainer.dispose();
  }
}
