import type { Shape3 } from '../data/sample';
import type { VolumeDataset } from '../data/dataset';
import { syntheticDataset } from '../data/synthetic/dataset';
import { WeightedSampler } from '../data/sampler';
import { Compose, type Transform } from '../data/transform';
import { ZNormalize } from '../data/transforms/intensity';
import { paperAugmentation } from '../data/transforms/presets';
import { CropOrPad, RandomFlip } from '../data/transforms/spatial';
import { epochOrderHook } from '../train/lr_schedule';
import { TerminalProgress } from '../train/progress';
import { Trainer } from '../train/trainer';
import { auc } from '../stats/auc';
import { bootstrapAuc } from '../stats/bootstrap';
import { delongTest } from '../stats/delong';
import type { Classifier } from '../train/trainer';
import { slug } from './report';
import { dinov2PatchSize, learningRate, type EncoderWeights, type ModelRecipe } from './models';
import { realDatasets } from './real_data';
import { scaleConfig, type ReproduceScale, type ScaleConfig } from './scales';
import { DEFAULT_TASKS, orderTasks, TASKS, type PaperDataset, type ReproduceTask } from './tasks';

/** The paper's fine-tuning rate for a pretrained DINOv2 (1e-6), used whenever weights are given. */
export const PRETRAINED_DINOV2_LR = 1e-6;

/** Options every `runXxx` reproduction takes. */
export interface ReproduceOptions {
  /** Output folder: the table, predictions, figures, provenance and each model's training run. */
  out: string;
  /** Tasks (columns) to run; default the three synthetic tasks. */
  tasks?: ReproduceTask[];
  /** Default 'quick'. */
  scale?: ReproduceScale;
  /** Seed of data, splits, initial weights and bootstrap (default 0). */
  seed?: number;
  /** Data folder of each real dataset (`duke`, `lidc`, `mrnet`), as its adapter expects. */
  dataDirs?: Partial<Record<ReproduceTask, string>>;
  /** Pretrained DINOv2 weights for the encoders (absent: from scratch). */
  encoderWeights?: EncoderWeights;
  /** Pretrain the DINOv2-S stand-in with DINO first, at scales with a recipe (default true; see `dinoPretraining`). */
  pretrain?: boolean;
  /** Folder of that pretraining, reused across runs (default `<out>/../pretrain/<scale>-seed<seed>`). */
  pretrainDir?: string;
  /** Override the scale's maximum epochs (every row alike). */
  epochs?: number;
  /** Override the learning rate of every row (default: the scale's per-family rates). */
  lr?: number;
  /** Replace the table's rows (the first is the reference of the P values); Tables 2, 3, S1 and Figure 2. */
  models?: ModelRecipe[];
  /** The command line recorded in the provenance (default: this process's argv). */
  command?: string;
  /** Progress lines (default: none). */
  print?: (line: string) => void;
  /** Show each training's progress bar on stderr (default false). */
  progress?: boolean;
}

/** The resolved settings of one reproduction. */
export interface ReproduceContext {
  out: string;
  tasks: ReproduceTask[];
  scale: ScaleConfig;
  seed: number;
  dataDirs: Partial<Record<ReproduceTask, string>>;
  weights: EncoderWeights;
  lr?: number;
  command: string;
  print: (line: string) => void;
  progress: boolean;
  started: number;
  /** CPU seconds of this process since the reproduction started. */
  cpu: () => number;
  /** Each task's datasets, built once and shared by the rows. */
  datasets: Map<ReproduceTask, TaskDatasets>;
}

/** Resolves {@link ReproduceOptions} (defaults, task order, scale, epochs override). */
export function reproduceContext(options: ReproduceOptions): ReproduceContext {
  if (!options.out) throw new Error('reproduce: options.out (the output folder) is required');
  const scale = { ...scaleConfig(options.scale ?? 'quick') };
  if (options.epochs !== undefined) {
    if (!(Number.isInteger(options.epochs) && options.epochs >= 1)) throw new Error(`reproduce: epochs must be a positive integer, got ${options.epochs}`);
    scale.epochs = options.epochs;
  }
  if (options.lr !== undefined && !(options.lr > 0)) throw new Error(`reproduce: lr must be positive, got ${options.lr}`);
  const seed = options.seed ?? 0;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`reproduce: seed must be a non-negative integer, got ${seed}`);
  const tasks = orderTasks(options.tasks && options.tasks.length ? options.tasks : DEFAULT_TASKS);
  const dataDirs = options.dataDirs ?? {};
  for (const t of tasks) {
    if (!TASKS[t].synthetic && !dataDirs[t]) throw new Error(`reproduce: the task '${t}' reads a downloaded dataset; give its folder (--data-dir)`);
  }
  return {
    out: options.out,
    tasks,
    scale,
    seed,
    dataDirs,
    weights: options.encoderWeights ?? {},
    lr: options.lr,
    command: options.command ?? defaultCommand(),
    print: options.print ?? (() => {}),
    progress: options.progress ?? false,
    started: Date.now(),
    cpu: cpuSecondsSince(),
    datasets: new Map(),
  };
}

function defaultCommand(): string {
  return typeof process !== 'undefined' && Array.isArray(process.argv) ? process.argv.map(shellQuote).join(' ') : '(not recorded)';
}

/** Quotes one shell word when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** One trained model's test predictions and how it was trained. */
export interface ModelRun {
  task: ReproduceTask;
  dataset: PaperDataset;
  model: string;
  description: string;
  seed: number;
  lr: number;
  parameters: number;
  trainableParameters: number;
  /** Volume `[D, H, W]` the network saw. */
  inputSize: Shape3;
  epochsRun: number;
  bestEpoch: number;
  bestValAuc: number;
  /** Wall time of data, training and testing. */
  seconds: number;
  /**
   * CPU time of the process over the same span (user + system): on a shared machine the wall
   * time stretches with the load; the CPU time is what a quiet machine would take (wasm is single-threaded).
   */
  cpuSeconds: number;
  /** Test cases in order, with their labels and positive-class probabilities. */
  ids: string[];
  labels: number[];
  scores: number[];
}

/** A clock of this process's CPU time (user + system, seconds) from now; 0 outside Node. */
export function cpuSecondsSince(): () => number {
  if (typeof process === 'undefined' || typeof process.cpuUsage !== 'function') return () => 0;
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1e6;
  };
}

/** A trained model with its run; the caller disposes `model`. */
export interface TrainedModel {
  run: ModelRun;
  model: Classifier;
  test: VolumeDataset;
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * The generated volume and the crop of a synthetic task at this run's scale. Slices grow to a
 * multiple of the DINOv2 patch (14 with pretrained weights) by a larger centre crop or padding,
 * for every row alike.
 */
export function syntheticGeometry(ctx: ReproduceContext, task: ReproduceTask): { size: Shape3; crop?: Shape3; inputSize: Shape3 } {
  const name = TASKS[task].synthetic;
  if (!name) throw new Error(`syntheticGeometry: '${task}' is not a synthetic task`);
  const size = ctx.scale.syntheticSize[name];
  let crop = ctx.scale.syntheticCrop[name];
  const patch = dinov2PatchSize(ctx.scale, ctx.weights);
  const base = crop ?? size;
  if (base[1] % patch !== 0 || base[2] % patch !== 0) crop = [base[0], roundUp(base[1], patch), roundUp(base[2], patch)];
  return { size, crop, inputSize: crop ?? size };
}

/** Folder of one model's training run inside the output folder. */
export function runFolder(ctx: ReproduceContext, task: ReproduceTask, model: string): string {
  return `${ctx.out}/train/${task}/${slug(model)}`;
}

/**
 * A row's learning rate: the override if given, the paper's 1e-6 for a pretrained DINOv2,
 * otherwise the scale's rate for the row's family.
 */
export function rowLearningRate(ctx: ReproduceContext, recipe: ModelRecipe): number {
  if (ctx.lr !== undefined) return ctx.lr;
  return recipe.pretrained ? PRETRAINED_DINOV2_LR : learningRate(ctx.scale, recipe);
}

/** Training, validation and test sets of one task, with the volume size the networks see. */
export interface TaskDatasets {
  train: VolumeDataset;
  val: VolumeDataset;
  test: VolumeDataset;
  inputSize: Shape3;
}

function augmentation(kind: ScaleConfig['augment']): Transform | null {
  if (kind === 'flip') return new RandomFlip([0.5, 0.5, 0.5]);
  if (kind === 'paper') return paperAugmentation();
  return null;
}

/**
 * The synthetic task's sets exactly as `mst-ts train` (`runTraining`) builds them: one seeded
 * generator, train / validation / test as disjoint consecutive case ranges, the task's
 * preprocessing, the centre crop, z-normalisation and the training augmentation. Built once per
 * reproduction and shared by every row (generation costs a third of a quick row's CPU time, and
 * the rows must see the same cases anyway).
 */
export function syntheticDatasets(ctx: ReproduceContext, task: ReproduceTask): TaskDatasets {
  const hit = ctx.datasets.get(task);
  if (hit) return hit;
  const name = TASKS[task].synthetic;
  if (!name) throw new Error(`syntheticDatasets: '${task}' is not a synthetic task`);
  const s = ctx.scale;
  const { size, crop, inputSize } = syntheticGeometry(ctx, task);
  const steps: Transform[] = [];
  if (crop) steps.push(new CropOrPad(crop, { centre: 'centre' }));
  if (s.zNormalize) steps.push(new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }));
  const transform = steps.length ? new Compose(steps) : undefined;
  const aug = augmentation(s.augment);
  const common = { seed: ctx.seed, size, difficulty: s.syntheticDifficulty?.[name] ?? s.difficulty, transform };
  const sets: TaskDatasets = {
    train: syntheticDataset(name, { ...common, transform: aug ? new Compose([...steps, aug]) : transform, n: s.nTrain, offset: 0 }),
    val: syntheticDataset(name, { ...common, n: s.nVal, offset: s.nTrain }),
    test: syntheticDataset(name, { ...common, n: s.nTest, offset: s.nTrain + s.nVal }),
    inputSize,
  };
  ctx.datasets.set(task, sets);
  return sets;
}

/**
 * Trains one row's model on one task with the scale's protocol and predicts its test set: AdamW
 * with the paper's weight decay, validation AUC every epoch, early stopping, the best epoch's
 * weights tested. Every row of a table sees the same cases in the same order (the synthetic sets
 * are shared, the real ones split by the same seed), so the P values are paired. Writes the
 * row's `log.jsonl` and `best.safetensors` under `out/train/<task>/<row>/`. The caller disposes
 * `model`.
 */
export async function trainOnTask(ctx: ReproduceContext, task: ReproduceTask, recipe: ModelRecipe): Promise<TrainedModel> {
  const started = Date.now();
  const cpu = cpuSecondsSince();
  const info = TASKS[task];
  const lr = rowLearningRate(ctx, recipe);
  const s = ctx.scale;
  const sets = info.synthetic ? syntheticDatasets(ctx, task) : await realDatasets(ctx, task);
  const model = await recipe.build(sets.inputSize, ctx.seed);
  ctx.print(
    `  ${recipe.name} (${(model.numParameters() / 1e6).toFixed(3)} M parameters) on ${task} [${sets.inputSize.join('x')}]: ` +
      `${sets.train.length} train / ${sets.val.length} val / ${sets.test.length} test cases, lr ${lr}, batch ${s.batchSize}`,
  );
  const sampler = s.weightedSampling ? new WeightedSampler(sets.train.labels, { samplesPerEpoch: sets.train.length, seed: ctx.seed }) : null;
  const order = epochOrderHook({ lr, schedule: s.lrSchedule, epochs: s.epochs, sampler, trainSize: sets.train.length, setLr: (r) => (trainer.optimizer.lr = r) });
  const trainer: Trainer = new Trainer({
    model,
    train: sets.train,
    val: sets.val,
    epochs: s.epochs,
    lr,
    batchSize: s.batchSize,
    patience: s.patience,
    seed: ctx.seed,
    sampler: order,
    outDir: runFolder(ctx, task, recipe.name),
    progress: ctx.progress ? new TerminalProgress(process.stderr) : undefined,
    onWarning: (m) => ctx.print(`  warning: ${m}`),
  });
  try {
    const fit = await trainer.fit();
    const p = await trainer.predict(sets.test);
    return {
      model,
      test: sets.test,
      run: {
        task,
        dataset: info.dataset,
        model: recipe.name,
        description: recipe.description,
        seed: ctx.seed,
        lr,
        parameters: model.numParameters(),
        trainableParameters: model.numParameters({ trainableOnly: true }),
        inputSize: sets.inputSize,
        epochsRun: fit.history.length,
        bestEpoch: fit.bestEpoch,
        bestValAuc: fit.bestAuc,
        seconds: (Date.now() - started) / 1000,
        cpuSeconds: cpu(),
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

/** A table cell: test AUC ± bootstrap std, and the paired DeLong P against the reference row. */
export interface AucCell {
  auc: number;
  /** Std of 1000 (scale's replicates) bootstrap AUCs, cases resampled together as the authors. */
  std: number;
  /** Bootstrap percentile 95% interval. */
  ci: [number, number];
  n: number;
  positives: number;
  /** Two-sided paired DeLong P against the reference row (absent on the reference row). */
  p?: number;
}

/** Test AUC ± bootstrap std of a run and, given the reference run on the same cases, DeLong's P. */
export function aucCell(run: Pick<ModelRun, 'ids' | 'labels' | 'scores'>, options: { replicates: number; seed: number; reference?: Pick<ModelRun, 'ids' | 'labels' | 'scores'> }): AucCell {
  const boot = bootstrapAuc(run.labels, run.scores, { replicates: options.replicates, seed: options.seed, stratified: false });
  const cell: AucCell = {
    auc: auc(run.labels, run.scores),
    std: boot.std,
    ci: boot.ci,
    n: run.labels.length,
    positives: run.labels.filter((l) => l === 1).length,
  };
  const ref = options.reference;
  if (ref) {
    if (ref.ids.length !== run.ids.length || ref.ids.some((id, i) => id !== run.ids[i])) {
      throw new Error('aucCell: the reference run was tested on other cases; a paired DeLong test needs the same test set in the same order');
    }
    cell.p = delongTest(ref.labels, ref.scores, run.scores).p;
  }
  return cell;
}

/** `0.94±0.01`, the paper's format. */
export function formatAuc(cell: Pick<AucCell, 'auc' | 'std'>): string {
  return `${cell.auc.toFixed(2)}±${cell.std.toFixed(2)}`;
}

/** `P=0.34`, `P=0.002`, `P<0.001` as the paper prints P values. */
export function formatP(p: number): string {
  if (Number.isNaN(p)) return 'P=NA';
  if (p < 0.001) return 'P<0.001';
  if (p < 0.01) return `P=${p.toFixed(3)}`;
  return `P=${p.toFixed(2)}`;
}

/** A cell as the paper prints it: `0.94±0.01 (P=0.34)`. */
export function formatCell(cell: AucCell): string {
  return cell.p === undefined ? formatAuc(cell) : `${formatAuc(cell)} (${formatP(cell.p)})`;
}
