import * as tf from '@tensorflow/tfjs';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { collate, type VolumeBatch, type VolumeDataset } from '../data/dataset';
import type { VolumeSample } from '../data/sample';
import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import { appendText, writeFileAtomic } from '../io/files';
import { archOf, MODEL_REGISTRY } from '../models/registry';
import { encodeModel, type BundleInfo } from '../models/save_model';
import { auc } from '../stats/auc';
import { multiclassAuc } from '../stats/multiclass';
import { Rng } from '../utils/rng';
import { AdamW } from './adamw';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingState } from './checkpoint';
import { defaultGradients, logitsOf, type GradientStrategy, type LossFunction, type TrainableModel } from './gradient_strategy';
import { crossEntropy } from './losses';
import { scheduledLr, type LrSchedule } from './lr_schedule';
import { formatDuration, type ProgressReporter } from './progress';
import { deriveSeed } from './seed';

/**
 * A validation metric: labels and softmax probabilities `[N][C]` of every case -> a number
 * (higher is better when it is the monitored one).
 */
export type MetricFunction = (labels: readonly number[], probabilities: readonly (readonly number[])[]) => number;

/**
 * AUC: of class 1 for two classes, the macro one-vs-rest AUC for more (NaN when a class is
 * missing). The Trainer's default metric.
 *
 * @example
 * aucMetric([0, 1], [[0.8, 0.2], [0.3, 0.7]]); // 1
 */
export function aucMetric(labels: readonly number[], probabilities: readonly (readonly number[])[]): number {
  const classes = probabilities[0]?.length ?? 0;
  if (new Set(labels).size < Math.max(2, classes)) return NaN;
  if (classes <= 2) return auc(labels as number[], probabilities.map((p) => p[1] ?? NaN));
  return multiclassAuc(labels, probabilities).macro;
}

/** One line of the JSONL log: what happened in an epoch. */
export interface EpochRecord {
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Mean cross-entropy over the epoch's training cases. */
  trainLoss: number;
  /** Mean cross-entropy over the validation set (NaN without one). */
  valLoss: number;
  /** Validation AUC (NaN without a validation set or when AUC is not among the metrics). */
  valAuc: number;
  /** Every validation metric by name (the Trainer's `metrics`). */
  valMetrics: Record<string, number>;
  /** The best value of the monitored metric so far (AUC unless `monitor` says otherwise). */
  bestAuc: number;
  bestEpoch: number;
  lr: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** Cases skipped in this epoch because they could not be loaded. */
  skipped: { id: string; error: string }[];
}

/** What {@link Trainer.fit} returns. */
export interface FitResult {
  /** Every epoch's record, the resumed ones included (read back from the log). */
  history: EpochRecord[];
  bestEpoch: number;
  bestAuc: number;
  /** True when early stopping ended the run before `epochs`. */
  stoppedEarly: boolean;
  /** Cases skipped over the whole run. */
  skippedCases: number;
}

/** Predictions of {@link Trainer.predict}. */
export interface Predictions {
  ids: string[];
  labels: number[];
  /** Softmax probabilities `[N][C]`. */
  probabilities: number[][];
  /** The positive-class probability (class 1) of each case, for AUC. */
  scores: number[];
  /** Mean loss. */
  loss: number;
  /** AUC of `scores` against `labels` (NaN when only one class is present). */
  auc: number;
  /** Every metric of the Trainer by name. */
  metrics: Record<string, number>;
}

/** What {@link TrainerOptions.onBatchEnd} receives. */
export interface BatchRecord {
  epoch: number;
  /** 1-based batch index in the epoch. */
  batch: number;
  batches: number;
  /** This batch's mean loss. */
  loss: number;
  /** The learning rate of the epoch. */
  lr: number;
}

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  /** The model to train; its parameters are updated in place. */
  model: TrainableModel;
  /** Training cases (with augmentation, if any, applied from the generator `get` receives). */
  train: VolumeDataset;
  /** Validation cases: metrics every epoch, early stopping and the best checkpoint use them. */
  val?: VolumeDataset;
  /** Maximum number of epochs. */
  epochs: number;
  /**
   * Peak learning rate; default the registry's rate for the architecture the model was created
   * as (`createModel`), which for the paper's models assumes pretrained weights.
   */
  lr?: number;
  /**
   * The rate over epochs, `lr` being its peak: warm-up epochs run below it, then constant or
   * cosine decay (see `scheduledLr`), or any function of (epoch, epochs). Default constant.
   */
  lrSchedule?: LrSchedule | ((epoch: number, epochs: number) => number);
  /** AdamW decoupled weight decay (default 1e-2). */
  weightDecay?: number;
  /** Cases per forward pass (default 1). */
  batchSize?: number;
  /** Batches whose gradients are averaged into one optimizer step (default 1). */
  accumulationSteps?: number;
  /** Epochs without a better monitored metric before stopping (default 50, as the paper). */
  patience?: number;
  /** Cross-entropy class weights of the default loss (default none). */
  classWeights?: number[];
  /** The loss (default: cross-entropy with `classWeights`, as the paper). */
  loss?: LossFunction;
  /** Validation metrics by name (default `{ auc: aucMetric }`). */
  metrics?: Record<string, MetricFunction>;
  /** The metric that picks the best epoch and stops early (default 'auc', the first metric otherwise). */
  monitor?: string;
  /** How gradients are computed (default: chosen from the model's capabilities, plain backpropagation). */
  gradients?: GradientStrategy;
  /** Seed of the data order and augmentation streams (the model's init takes its own seed). */
  seed?: number;
  /**
   * The case indices of an epoch in order, from a generator seeded by (seed, epoch). Default: a
   * shuffle of every training case. Use it for weighted sampling with a fixed epoch size.
   */
  sampler?: (epoch: number, rng: Rng) => number[];
  /** Turns a collated batch into the model's input (default `tf.tensor5d`, `[B, D, H, W, 1]`). */
  toInput?: (batch: VolumeBatch) => tf.Tensor;
  /**
   * A folder for `last.safetensors` (resumable checkpoint), `best.safetensors` (the best model,
   * PyTorch names, with the bundle JSON in its metadata when `bundle` is given) and `log.jsonl`.
   * Without it nothing is written and resume is off.
   */
  outDir?: string;
  /** What `best.safetensors` says about the model (class names, preprocessing): it is then a model bundle. */
  bundle?: BundleInfo;
  /** Continue from `outDir/last.safetensors` when it exists (default false). */
  resume?: boolean;
  /** Throw on a case that fails to load instead of skipping and counting it (default false). */
  failOnBadCase?: boolean;
  /** Progress display (see {@link TerminalProgress}); default none. */
  progress?: ProgressReporter;
  /** Warnings such as skipped cases (default: none are printed; they are always logged). */
  onWarning?: (message: string) => void;
  /** Called after each epoch with its record. */
  onEpochEnd?: (record: EpochRecord) => void;
  /** Called after each batch. */
  onBatchEnd?: (record: BatchRecord) => void;
}

/**
 * Fits a classifier with AdamW and a loss (cross-entropy by default), validating every epoch by
 * its metrics (AUC by default), keeping the best weights by the monitored metric (restored when
 * `fit` returns, ready for testing) and stopping early after `patience` epochs without
 * improvement. The learning rate follows `lrSchedule`; gradients are computed by a
 * {@link GradientStrategy} (plain, slice or block checkpointing, data parallel). Every random choice (data order, augmentation) derives from `seed`,
 * so two runs with the same seed and model init give identical losses, and a run resumed from its
 * last checkpoint continues exactly as if it had not been interrupted (resume happens at epoch
 * boundaries: an interrupted epoch is repeated).
 *
 * Precision: everything runs in float32. tfjs has no float16 training (no loss scaling, and the
 * cpu and wasm backends compute only float32), so the paper's mixed precision does not apply; on
 * webgl/webgpu, tfjs may store float16 textures on some devices, which a user cannot control here.
 *
 * @example
 * const trainer = new Trainer({ model, train, val, epochs: 20, lr: 1e-4, batchSize: 4, seed: 0, outDir: 'run' });
 * const fit = await trainer.fit();            // best weights restored
 * const test = await trainer.predict(testSet); // test.auc
 * trainer.dispose();
 */
export class Trainer {
  readonly model: TrainableModel;
  readonly optimizer: AdamW;
  /** The strategy that computes each step's gradients. */
  readonly gradients: GradientStrategy;
  /** Peak learning rate. */
  readonly lr: number;
  private readonly opts: TrainerOptions;
  private readonly batchSize: number;
  private readonly accumulationSteps: number;
  private readonly patience: number;
  private readonly seed: number;
  private readonly loss: LossFunction;
  private readonly metrics: Record<string, MetricFunction>;
  private readonly monitor: string;

  constructor(options: TrainerOptions) {
    this.opts = options;
    this.model = options.model;
    this.batchSize = positiveInt('batchSize', options.batchSize ?? 1);
    this.accumulationSteps = positiveInt('accumulationSteps', options.accumulationSteps ?? 1);
    this.patience = positiveInt('patience', options.patience ?? 50);
    positiveInt('epochs', options.epochs);
    this.seed = options.seed ?? 0;
    if (!Number.isFinite(this.seed)) throw new Error(`Trainer: seed must be a finite number, got ${this.seed}`);
    const arch = archOf(options.model);
    const lr = options.lr ?? (arch ? MODEL_REGISTRY.get(arch)?.lr : undefined);
    if (lr === undefined) throw new Error('Trainer: give lr (the model was not created from the registry, so it has no default rate)');
    if (!(lr >= 0 && Number.isFinite(lr))) throw new Error(`Trainer: lr must be a non-negative number, got ${lr}`);
    this.lr = lr;
    if (options.train.length === 0) throw new Error('Trainer: the training set is empty');
    if (options.val) {
      const classes = new Set(options.val.labels);
      if (classes.size < 2) throw new Error(`Trainer: the validation set needs at least two classes, got labels {${[...classes].join(', ')}}`);
    }
    if (options.resume && !options.outDir) throw new Error('Trainer: resume needs outDir');
    const classWeights = options.classWeights;
    this.loss = options.loss ?? ((logits, y) => crossEntropy(logits, y, { weight: classWeights }) as tf.Scalar);
    if (options.loss && classWeights) throw new Error('Trainer: classWeights weigh the default cross-entropy; with your own loss, weigh inside it');
    this.metrics = options.metrics ?? { auc: aucMetric };
    const names = Object.keys(this.metrics);
    if (names.length === 0) throw new Error('Trainer: metrics must name at least one metric');
    this.monitor = options.monitor ?? (names.includes('auc') ? 'auc' : names[0]);
    if (!names.includes(this.monitor)) throw new Error(`Trainer: monitor '${this.monitor}' is not one of the metrics (${names.join(', ')})`);
    this.gradients = options.gradients ?? defaultGradients(options.model);
    try {
      this.gradients.check?.(options.model, { loss: this.loss, classWeights, defaultLoss: !options.loss });
    } catch (e) {
      throw new Error(`Trainer: the gradient strategy '${this.gradients.name}' does not apply: ${(e as Error).message}`);
    }
    this.optimizer = new AdamW(this.model.namedParameters(), { lr, weightDecay: options.weightDecay ?? 1e-2 });
  }

  /** The learning rate of epoch `epoch` (1-based) under the schedule. */
  lrAt(epoch: number): number {
    const schedule = this.opts.lrSchedule;
    if (!schedule) return this.lr;
    return typeof schedule === 'function' ? schedule(epoch, this.opts.epochs) : scheduledLr(this.lr, schedule, epoch, this.opts.epochs);
  }

  /** Trains until `epochs` or early stopping, then loads the best weights into the model. */
  async fit(): Promise<FitResult> {
    const { outDir, epochs } = this.opts;
    const paths = outDir ? await prepareOutDir(outDir) : null;
    let state: TrainingState = {
      epoch: 0,
      step: 0,
      bestAuc: NaN,
      bestEpoch: 0,
      epochsWithoutImprovement: 0,
      skippedCases: 0,
      stopped: false,
      seed: this.seed,
    };
    let history: EpochRecord[] = [];
    let best: StateDict | null = null;
    if (paths && this.opts.resume && (await exists(paths.last))) {
      state = await loadTrainingCheckpoint(paths.last, this.model, this.optimizer);
      if (state.seed !== this.seed) throw new Error(`Trainer: '${paths.last}' was trained with seed ${state.seed}, not ${this.seed}`);
      if (await exists(paths.best)) best = await loadSafetensors(paths.best);
      history = (await readLog(paths.log)).filter((r) => r.epoch <= state.epoch);
    }
    if (paths) await writeFileAtomic(paths.log, history.map((r) => `${JSON.stringify(r, finiteOrNull)}\n`).join(''));
    try {
      while (state.epoch < epochs && !state.stopped) {
        const epoch = state.epoch + 1;
        const started = Date.now();
        this.optimizer.lr = this.lrAt(epoch);
        const { loss, skipped, steps } = await this.trainEpoch(epoch, epochs, history.at(-1)?.bestAuc ?? NaN);
        const val = this.opts.val ? await this.predict(this.opts.val) : null;
        state = { ...state, epoch, step: state.step + steps, skippedCases: state.skippedCases + skipped.length };
        const monitored = val ? val.metrics[this.monitor] : NaN;
        // Without validation the last epoch counts as the best.
        const improved = val === null || Number.isNaN(state.bestAuc) || monitored > state.bestAuc;
        if (improved) {
          if (best) disposeStateDict(best);
          best = this.model.stateDict();
          state.bestAuc = monitored;
          state.bestEpoch = epoch;
          state.epochsWithoutImprovement = 0;
          if (paths) await this.saveBest(paths.best, best, epoch, state.bestAuc);
        } else {
          state.epochsWithoutImprovement += 1;
          if (state.epochsWithoutImprovement >= this.patience) state.stopped = true;
        }
        const record: EpochRecord = {
          epoch,
          step: state.step,
          trainLoss: loss,
          valLoss: val ? val.loss : NaN,
          valAuc: val ? val.auc : NaN,
          valMetrics: val ? val.metrics : {},
          bestAuc: state.bestAuc,
          bestEpoch: state.bestEpoch,
          lr: this.optimizer.lr,
          seconds: (Date.now() - started) / 1000,
          skipped,
        };
        history.push(record);
        // The log line goes first: a crash before the checkpoint is then undone on resume.
        if (paths) {
          await appendText(paths.log, `${JSON.stringify(record, finiteOrNull)}\n`);
          await saveTrainingCheckpoint(paths.last, this.model, this.optimizer, state);
        }
        this.opts.progress?.endEpoch(summaryLine(record, epochs, history));
        this.opts.onEpochEnd?.(record);
      }
      if (best) this.model.loadStateDict(best);
    } finally {
      if (best) disposeStateDict(best);
    }
    return {
      history,
      bestEpoch: state.bestEpoch,
      bestAuc: state.bestAuc,
      stoppedEarly: state.stopped,
      skippedCases: state.skippedCases,
    };
  }

  /**
   * Runs the model (in evaluation mode) over a dataset in batches and scores it. Cases are loaded
   * with a fixed generator per index, so any random transform replays identically.
   */
  async predict(dataset: VolumeDataset): Promise<Predictions> {
    const modes = this.model.namedModules().map(([, m]) => [m, m.training] as const);
    this.model.eval();
    const ids: string[] = [];
    const labels: number[] = [];
    const probabilities: number[][] = [];
    let lossSum = 0;
    try {
      for (let start = 0; start < dataset.length; start += this.batchSize) {
        const samples: VolumeSample[] = [];
        for (let i = start; i < Math.min(start + this.batchSize, dataset.length); i++) {
          samples.push(checkFinite(await dataset.get(i, new Rng(deriveSeed(this.seed, -1, i)))));
        }
        const batch = collate(samples);
        const [probs, loss] = tf.tidy(() => {
          const logits = logitsOf(this.model.forward(this.input(batch)));
          return [tf.softmax(logits), tf.mul(this.loss(logits, Array.from(batch.labels)), samples.length)];
        });
        const p = (await probs.array()) as number[][];
        lossSum += (await loss.data())[0];
        tf.dispose([probs, loss]);
        ids.push(...batch.ids);
        labels.push(...batch.labels);
        probabilities.push(...p);
      }
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
    const scores = probabilities.map((p) => p[1] ?? NaN);
    const classes = new Set(labels).size;
    const metrics: Record<string, number> = {};
    for (const [name, f] of Object.entries(this.metrics)) metrics[name] = f(labels, probabilities);
    return { ids, labels, probabilities, scores, loss: lossSum / Math.max(labels.length, 1), auc: classes < 2 ? NaN : aucMetric(labels, probabilities), metrics };
  }

  /** Writes the best weights, as a model bundle when the Trainer knows the bundle's facts. */
  private async saveBest(path: string, best: StateDict, epoch: number, value: number): Promise<void> {
    if (!this.opts.bundle) {
      await saveSafetensors(best, path, { epoch: String(epoch), val_auc: String(value) });
      return;
    }
    const { weights } = await encodeModel(this.model, this.opts.bundle, path.split(/[\\/]/).pop());
    await writeFileAtomic(path, weights);
  }

  /** Frees the optimizer's moments (the model stays usable). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** The loss and gradients of one batch, by the gradient strategy. */
  private async lossAndGrads(x: tf.Tensor, labels: number[], vars: tf.Variable[]): Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }> {
    const { loss, grads } = await this.gradients.gradients(this.model, x, labels, { vars, loss: this.loss, classWeights: this.opts.classWeights, defaultLoss: !this.opts.loss });
    return { value: loss, grads };
  }

  private input(batch: VolumeBatch): tf.Tensor {
    return this.opts.toInput ? this.opts.toInput(batch) : tf.tensor5d(batch.x, batch.shape);
  }

  private async trainEpoch(epoch: number, totalEpochs: number, lastAuc: number): Promise<{ loss: number; skipped: EpochRecord['skipped']; steps: number }> {
    const { train } = this.opts;
    const order = this.opts.sampler
      ? this.opts.sampler(epoch, new Rng(deriveSeed(this.seed, epoch, 0)))
      : new Rng(deriveSeed(this.seed, epoch, 0)).shuffle([...Array(train.length).keys()]);
    const numBatches = Math.ceil(order.length / this.batchSize);
    this.opts.progress?.startEpoch(epoch, totalEpochs, numBatches, lastAuc);
    this.model.train();
    const vars = this.optimizer.variables();
    const skipped: EpochRecord['skipped'] = [];
    let accumulated: tf.NamedTensorMap | null = null;
    let micro = 0;
    let steps = 0;
    let lossSum = 0;
    let seen = 0;
    for (let b = 0; b < numBatches; b++) {
      const samples: VolumeSample[] = [];
      for (let k = b * this.batchSize; k < Math.min((b + 1) * this.batchSize, order.length); k++) {
        const index = order[k];
        try {
          // One stream per (epoch, position): augmentation replays on resume.
          samples.push(checkFinite(await train.get(index, new Rng(deriveSeed(this.seed, epoch, k + 1)))));
        } catch (e) {
          const id = train.ids[index] ?? `#${index}`;
          const error = (e as Error).message;
          if (this.opts.failOnBadCase) throw new Error(`Trainer: case '${id}' (index ${index}) failed to load: ${error}`);
          skipped.push({ id, error });
          this.opts.onWarning?.(`skipping case '${id}' (index ${index}): ${error}`);
        }
      }
      if (samples.length > 0) {
        const batch = collate(samples);
        const x = this.input(batch);
        const labels = Array.from(batch.labels);
        const { value, grads } = await this.lossAndGrads(x, labels, vars);
        x.dispose();
        const loss = (await value.data())[0];
        value.dispose();
        if (!Number.isFinite(loss)) {
          tf.dispose(grads);
          if (accumulated) tf.dispose(accumulated);
          throw new Error(`Trainer: the training loss became ${loss} at epoch ${epoch}, batch ${b + 1} (cases ${batch.ids.join(', ')}); lower the learning rate`);
        }
        lossSum += loss * samples.length;
        seen += samples.length;
        accumulated = accumulated ? addInto(accumulated, grads) : grads;
        micro += 1;
      }
      const last = b === numBatches - 1;
      if (accumulated && (micro === this.accumulationSteps || last)) {
        const acc: tf.NamedTensorMap = accumulated;
        const mean = micro === 1 ? acc : tf.tidy(() => mapValues(acc, (g) => tf.div(g, micro)));
        this.optimizer.step(mean);
        tf.dispose(accumulated);
        if (mean !== acc) tf.dispose(mean);
        accumulated = null;
        micro = 0;
        steps += 1;
      }
      this.opts.progress?.update(b + 1, seen > 0 ? lossSum / seen : NaN);
      this.opts.onBatchEnd?.({ epoch, batch: b + 1, batches: numBatches, loss: seen > 0 ? lossSum / seen : NaN, lr: this.optimizer.lr });
    }
    return { loss: seen > 0 ? lossSum / seen : NaN, skipped, steps };
  }
}

/** `acc + grads`, disposing both inputs. */
function addInto(acc: tf.NamedTensorMap, grads: tf.NamedTensorMap): tf.NamedTensorMap {
  const out = tf.tidy(() => {
    const sum: tf.NamedTensorMap = { ...acc };
    for (const [k, g] of Object.entries(grads)) sum[k] = acc[k] ? tf.add(acc[k], g) : tf.clone(g);
    return sum;
  });
  for (const [k, t] of Object.entries(acc)) if (out[k] !== t) t.dispose();
  tf.dispose(grads);
  return out;
}

function mapValues(m: tf.NamedTensorMap, f: (t: tf.Tensor) => tf.Tensor): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [k, t] of Object.entries(m)) out[k] = f(t);
  return out;
}

function checkFinite(sample: VolumeSample): VolumeSample {
  let bad = 0;
  for (let i = 0; i < sample.data.length; i++) if (!Number.isFinite(sample.data[i])) bad++;
  if (bad > 0) throw new Error(`case '${sample.id}' has ${bad} non-finite voxels (NaN or infinite)`);
  return sample;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`Trainer: ${name} must be a positive integer, got ${v}`);
  return v;
}

function summaryLine(r: EpochRecord, epochs: number, history: EpochRecord[]): string {
  const mean = history.reduce((a, h) => a + h.seconds, 0) / history.length;
  const parts = [
    `epoch ${r.epoch}/${epochs}`,
    `loss ${r.trainLoss.toFixed(4)}`,
    Number.isFinite(r.valAuc) ? `val loss ${r.valLoss.toFixed(4)} AUC ${r.valAuc.toFixed(3)} (best ${r.bestAuc.toFixed(3)} @${r.bestEpoch})` : '',
    `${r.seconds.toFixed(1)} s`,
    r.epoch < epochs ? `ETA ${formatDuration(mean * (epochs - r.epoch))}` : '',
    r.skipped.length ? `skipped ${r.skipped.length}` : '',
  ];
  return parts.filter(Boolean).join(' | ');
}

function finiteOrNull(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

async function prepareOutDir(dir: string): Promise<{ last: string; best: string; log: string }> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  return { last: path.join(dir, 'last.safetensors'), best: path.join(dir, 'best.safetensors'), log: path.join(dir, 'log.jsonl') };
}

async function exists(p: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function readLog(p: string): Promise<EpochRecord[]> {
  if (!(await exists(p))) return [];
  const fs = await import('node:fs/promises');
  const text = await fs.readFile(p, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        const r = JSON.parse(l) as Record<string, unknown>;
        for (const k of ['trainLoss', 'valLoss', 'valAuc', 'bestAuc']) if (r[k] === null) r[k] = NaN;
        return [r as unknown as EpochRecord];
      } catch {
        // A line cut by a crash mid-write is dropped; the checkpoint decides where to resume.
        return [];
      }
    });
}
