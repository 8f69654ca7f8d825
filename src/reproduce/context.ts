import type { Shape3 } from '../data/sample';
import type { TrainingData } from '../data/training_data';
import type { EncoderWeights, ModelRecipe } from './models';
import { scaleConfig, type ReproduceScale, type ScaleConfig } from './scales';
import { DEFAULT_TASKS, orderTasks, TASKS, type PaperDataset, type ReproduceTask } from './tasks';

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
  datasets: Map<ReproduceTask, TrainingData>;
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
