import * as tf from '@tensorflow/tfjs';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { collate, type VolumeBatch, type VolumeDataset } from '../data/dataset';
import type { VolumeSample } from '../data/sample';
import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import { writeFileAtomic } from '../io/files';
import { auc } from '../stats/auc';
import { Rng } from '../utils/rng';
import { AdamW } from './adamw';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingState } from './checkpoint';
import { crossEntropy } from './losses';
import { checkpointedGradients } from './checkpointed_step';
import { resnetCheckpointedGradients } from './resnet_checkpointed_step';
import type { DataParallelGradients } from '../parallel/data_parallel';
import { leanVariableGrads } from '../ops/lean_backprop';
import { ResNet } from '../models/resnet';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { formatDuration, type ProgressReporter } from './progress';
import { deriveSeed } from './seed';

/**
 * A classifier the {@link Trainer} can fit: a {@link Module} whose forward maps a batch to logits
 * `[B, C]`, either directly (ResNet3D) or as `{ logits }` (MST, whose other outputs are freed).
 */
export interface Classifier extends Module {
  forward(x: tf.Tensor): tf.Tensor | { logits: tf.Tensor };
}

/** The logits of a {@link Classifier}'s forward output. */
export function logitsOf(out: tf.Tensor | { logits: tf.Tensor }): tf.Tensor {
  return out instanceof tf.Tensor ? out : out.logits;
}

/** Model families with the paper's learning rates. */
export type TrainingFamily = 'mst-dinov2' | 'mst-resnet' | 'resnet3d';

/**
 * The paper's learning rates: 1e-6 to fine-tune MST with a pretrained DINOv2, 1e-5 for MST with a
 * ResNet, 1e-4 for the 3D ResNet baseline. A model trained from scratch needs more (~1e-4..1e-3).
 */
export const DEFAULT_LEARNING_RATES: Readonly<Record<TrainingFamily, number>> = {
  'mst-dinov2': 1e-6,
  'mst-resnet': 1e-5,
  resnet3d: 1e-4,
};

/** One line of the JSONL log: what happened in an epoch. */
export interface EpochRecord {
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Mean cross-entropy over the epoch's training cases. */
  trainLoss: number;
  /** Mean cross-entropy over the validation set (NaN without one). */
  valLoss: number;
  /** Validation AUC (NaN without a validation set). */
  valAuc: number;
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
  /** Mean cross-entropy. */
  loss: number;
  /** AUC of `scores` against `labels` (NaN when only one class is present). */
  auc: number;
}

/** Options of {@link Trainer}. */
export interface TrainerOptions {
  /** The model to train; its parameters are updated in place. */
  model: Classifier;
  /** Training cases (with augmentation, if any, applied from the generator `get` receives). */
  train: VolumeDataset;
  /** Validation cases: AUC every epoch, early stopping and the best checkpoint use them. */
  val?: VolumeDataset;
  /** Maximum number of epochs. */
  epochs: number;
  /** Learning rate; defaults to {@link DEFAULT_LEARNING_RATES} of `family`. */
  lr?: number;
  /** The model family, for the default learning rate. */
  family?: TrainingFamily;
  /** AdamW decoupled weight decay (default 1e-2). */
  weightDecay?: number;
  /** Cases per forward pass (default 1). */
  batchSize?: number;
  /** Batches whose gradients are averaged into one optimizer step (default 1). */
  accumulationSteps?: number;
  /** Epochs without a better validation AUC before stopping (default 50, as the paper). */
  patience?: number;
  /** Cross-entropy class weights (default none). */
  classWeights?: number[];
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
   * A folder for `last.safetensors` (resumable checkpoint), `best.safetensors` (the best model's
   * state dict, PyTorch layout) and `log.jsonl`. Without it nothing is written and resume is off.
   */
  outDir?: string;
  /** Continue from `outDir/last.safetensors` when it exists (default false). */
  resume?: boolean;
  /** Throw on a case that fails to load instead of skipping and counting it (default false). */
  failOnBadCase?: boolean;
  /** Progress display (see {@link TerminalProgress}); default none. */
  progress?: ProgressReporter;
  /** Warnings such as skipped cases (default: none are printed; they are always logged). */
  onWarning?: (message: string) => void;
  /** Called after each epoch with its record. */
  onEpoch?: (record: EpochRecord) => void;
  /**
   * MST only: encode this many slices at a time with activation checkpointing (see
   * {@link checkpointedGradients}), so memory stays bounded for any slice count (default off).
   */
  checkpointChunkSize?: number;
  /**
   * ResNet (2D or 3D) only: recompute each residual block's activations in the backward pass
   * (see {@link resnetCheckpointedGradients}), so a step keeps one block's activations at a time;
   * the gradients and batch-norm statistics equal the plain step's. About 4/3 of the compute.
   * Default off.
   */
  checkpointResNetBlocks?: boolean;
  /**
   * MST only: compute each batch's gradients on worker threads, one shard of the batch per worker
   * ({@link DataParallelGradients}, created by the caller for the model's architecture and
   * disposed by it), with `checkpointChunkSize` applied in the workers. The gradients equal the
   * single-thread step's; on a 2-core machine a batch of 2 trains ~1.8x faster.
   */
  dataParallel?: DataParallelGradients;
}

/**
 * Fits a classifier with AdamW and cross-entropy, validating every epoch by AUC, keeping the best
 * weights (restored when `fit` returns, ready for testing) and stopping early after `patience`
 * epochs without improvement. Every random choice (data order, augmentation) derives from `seed`,
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
  readonly model: Classifier;
  readonly optimizer: AdamW;
  private readonly opts: TrainerOptions;
  private readonly batchSize: number;
  private readonly accumulationSteps: number;
  private readonly patience: number;
  private readonly seed: number;

  constructor(options: TrainerOptions) {
    this.opts = options;
    this.model = options.model;
    this.batchSize = positiveInt('batchSize', options.batchSize ?? 1);
    this.accumulationSteps = positiveInt('accumulationSteps', options.accumulationSteps ?? 1);
    this.patience = positiveInt('patience', options.patience ?? 50);
    positiveInt('epochs', options.epochs);
    this.seed = options.seed ?? 0;
    if (!Number.isFinite(this.seed)) throw new Error(`Trainer: seed must be a finite number, got ${this.seed}`);
    const lr = options.lr ?? (options.family ? DEFAULT_LEARNING_RATES[options.family] : undefined);
    if (lr === undefined) throw new Error(`Trainer: give lr or family (one of ${Object.keys(DEFAULT_LEARNING_RATES).join(', ')})`);
    if (options.train.length === 0) throw new Error('Trainer: the training set is empty');
    if (options.val) {
      const classes = new Set(options.val.labels);
      if (classes.size < 2) throw new Error(`Trainer: the validation set needs both classes for AUC, got labels {${[...classes].join(', ')}}`);
    }
    if (options.resume && !options.outDir) throw new Error('Trainer: resume needs outDir');
    if (options.dataParallel && !(options.model instanceof MedicalSliceTransformer)) throw new Error('Trainer: dataParallel trains a MedicalSliceTransformer only');
    this.optimizer = new AdamW(this.model.namedParameters(), { lr, weightDecay: options.weightDecay ?? 1e-2 });
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
        const { loss, skipped, steps } = await this.trainEpoch(epoch, epochs, history.at(-1)?.valAuc ?? NaN);
        const val = this.opts.val ? await this.predict(this.opts.val) : null;
        state = { ...state, epoch, step: state.step + steps, skippedCases: state.skippedCases + skipped.length };
        // Without validation the last epoch counts as the best.
        const improved = val === null || Number.isNaN(state.bestAuc) || val.auc > state.bestAuc;
        if (improved) {
          if (best) disposeStateDict(best);
          best = this.model.stateDict();
          state.bestAuc = val ? val.auc : NaN;
          state.bestEpoch = epoch;
          state.epochsWithoutImprovement = 0;
          if (paths) await saveSafetensors(best, paths.best, { epoch: String(epoch), val_auc: String(state.bestAuc) });
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
          bestAuc: state.bestAuc,
          bestEpoch: state.bestEpoch,
          lr: this.optimizer.lr,
          seconds: (Date.now() - started) / 1000,
          skipped,
        };
        history.push(record);
        // The log line goes first: a crash before the checkpoint is then undone on resume.
        if (paths) {
          const fs = await import('node:fs/promises');
          await fs.appendFile(paths.log, `${JSON.stringify(record, finiteOrNull)}\n`);
          await saveTrainingCheckpoint(paths.last, this.model, this.optimizer, state);
        }
        this.opts.progress?.endEpoch(summaryLine(record, epochs, history));
        this.opts.onEpoch?.(record);
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
    this.model.eval();
    const ids: string[] = [];
    const labels: number[] = [];
    const probabilities: number[][] = [];
    let lossSum = 0;
    for (let start = 0; start < dataset.length; start += this.batchSize) {
      const samples: VolumeSample[] = [];
      for (let i = start; i < Math.min(start + this.batchSize, dataset.length); i++) {
        samples.push(checkFinite(await dataset.get(i, new Rng(deriveSeed(this.seed, -1, i)))));
      }
      const batch = collate(samples);
      const [probs, loss] = tf.tidy(() => {
        const logits = logitsOf(this.model.forward(this.input(batch)));
        return [tf.softmax(logits), crossEntropy(logits, Array.from(batch.labels), { reduction: 'sum', weight: this.opts.classWeights })];
      });
      const p = (await probs.array()) as number[][];
      lossSum += (await loss.data())[0];
      tf.dispose([probs, loss]);
      ids.push(...batch.ids);
      labels.push(...batch.labels);
      probabilities.push(...p);
    }
    this.model.train();
    const scores = probabilities.map((p) => p[1] ?? NaN);
    const classes = new Set(labels).size;
    return { ids, labels, probabilities, scores, loss: lossSum / Math.max(labels.length, 1), auc: classes < 2 ? NaN : auc(labels, scores) };
  }

  /** Frees the optimizer's moments (the model stays usable). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** The loss and gradients of one batch: data-parallel, or with slice or block checkpointing when asked for. */
  private async lossAndGrads(x: tf.Tensor, labels: number[], vars: tf.Variable[]): Promise<{ value: tf.Scalar; grads: tf.NamedTensorMap }> {
    const lossFn = (logits: tf.Tensor, y: readonly number[]): tf.Scalar => crossEntropy(logits, y, { weight: this.opts.classWeights }) as tf.Scalar;
    const chunkSize = this.opts.checkpointChunkSize;
    if (this.opts.dataParallel) {
      const { loss, grads } = await this.opts.dataParallel.gradients(this.model as MedicalSliceTransformer, x, labels, { chunkSize: chunkSize ?? 0, classWeights: this.opts.classWeights });
      return { value: loss, grads };
    }
    if (chunkSize && this.model instanceof MedicalSliceTransformer) {
      const { loss, grads } = checkpointedGradients(this.model, x, labels, { chunkSize, varList: vars, lossFn });
      return { value: loss, grads };
    }
    if (this.opts.checkpointResNetBlocks && this.model instanceof ResNet) {
      const { loss, grads } = resnetCheckpointedGradients(this.model, x, labels, { varList: vars, lossFn });
      return { value: loss, grads };
    }
    return leanVariableGrads(() => lossFn(logitsOf(this.model.forward(x)), labels), vars);
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
