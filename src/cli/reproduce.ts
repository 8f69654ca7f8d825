import { setBackend } from '../backend';
import { runFigure2 } from '../reproduce/figure2';
import { reproduceContext, shellQuote, type ReproduceOptions } from '../reproduce/context';
import { formatSeconds } from '../reproduce/report';
import type { ReproduceScale } from '../reproduce/scales';
import { runTable1 } from '../reproduce/table1';
import { runTable2 } from '../reproduce/table2';
import { runTable3 } from '../reproduce/table3';
import { runTableS1 } from '../reproduce/table_s1';
import { checkTask, TASKS, type ReproduceTask } from '../reproduce/tasks';
import { checkBackendFlag, parseCommandArgs } from './args';
import { UsageError, type CliCommand } from './command';

/** The reproductions by name, as `mst-ts reproduce <name>` takes them. */
export const REPRODUCTIONS = {
  figure2: runFigure2,
  table1: runTable1,
  table2: runTable2,
  table3: runTable3,
  tableS1: runTableS1,
} as const;

/** A reproduction's name. */
export type ReproductionName = keyof typeof REPRODUCTIONS;

const USAGE = `Usage: mst-ts reproduce <name> [options]

Reproduces one table or figure of the Medical Slice Transformer paper with one protocol for every
row (seeds fixed), and writes to --out: <name>.md (the table in the paper's layout with the
paper's numbers beside ours), <name>_predictions.json (every test prediction), figures (ROC per
task; Figure 2 adds confusion matrices), <name>_command.txt and <name>_provenance.json (the exact
command, seed and protocol), and train/<task>/<model>/ (each model's checkpoints and log).

Names:
  figure2   MST-DINOv2 vs 3D ResNet50 per task: AUC ± std, DeLong P, ROC curves, confusion matrices
  table1    saliency correctness of 3D ResNet Grad-CAM vs MST attention against lesion masks on 50
            positive test cases per task (slice and lesion correctness, Dice, IoU), and an extended
            table of every explanation method of both models (pointing game, deletion/insertion AUC)
  table2    slice fusion: Transformer, Transformer + additive positional embedding, Linear, Average
  table3    slice encoder: DINOv2-S, DINOv2-B, DINOv2-S with registers, DINOv2-S frozen, 2D ResNet
  tableS1   3D ResNet 18, 50, 101

Options:
  --task <name>              synthetic-breast | synthetic-chest | synthetic-knee | duke | lidc | mrnet;
                             repeat for several columns (default: the three synthetic tasks)
  --data-dir <dir>           the downloaded dataset's folder for a real task (as its adapter expects:
                             see dukeManifest, lidcManifest, mrnetManifest); with several real tasks,
                             give <task>=<dir> once per task
  --encoder-weights <file>   pretrained DINOv2 ViT-S/14 (dinov2_vits14; any format fromPretrained reads)
                             for the DINOv2-S encoders; they are then fine-tuned at the paper's 1e-6
  --encoder-weights-base <file>       pretrained DINOv2 ViT-B/14 for Table 3's "DINOv2 Base" row
  --encoder-weights-registers <file>  pretrained DINOv2 ViT-S/14 with registers for "DINOv2 Registers"
  --scale <s>                quick (default): small from-scratch stand-ins of every model on small
                             volumes, minutes on a CPU; paper: the paper's protocol (224x224x32,
                             batch 2, patience 50, lr 1e-6 / 1e-5 / 1e-4, full-size models), for a
                             GPU; tiny: seconds, for tests only
  --out <dir>                output folder (default reproduce/<name>)
  --seed <n>                 seed of data, splits, initial weights and bootstrap (default 0)
  --epochs <n>               override the scale's maximum epochs (every row alike)
  --lr <x>                   override the learning rate of every row
  --dry-run                  build every model, print the protocol and parameter counts, train nothing
  --backend <name>           tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --progress                 show each training's progress bar
  -h, --help                 this text

Quick scale (the default) on the synthetic tasks: 200 train / 60 validation / 100 test volumes per
task, 8 slices (chest: the nodule-centred 16x16 crop; breast and knee: the central 32x32, which
keeps the lesion), 8 epochs, batch 8, random flips, lr 1e-3 for every row with one epoch of
warm-up and cosine decay; the DINOv2-S stand-in is the demo's 2-block 64-d ViT behind a
convolution stem (4x4 patches), with an eighth-width 2D ResNet-18 and 3D ResNets a sixteenth as
wide with a stride-2 in-plane stem. The table footers say exactly what each row is.`;

/** Parsed `reproduce` arguments. */
export interface ReproduceArgs {
  name: ReproductionName;
  options: ReproduceOptions;
  dryRun: boolean;
  backend?: string;
}

function parseDataDirs(values: string[], tasks: ReproduceTask[]): Partial<Record<ReproduceTask, string>> {
  const real = tasks.filter((t) => !TASKS[t].synthetic);
  const out: Partial<Record<ReproduceTask, string>> = {};
  for (const v of values) {
    const m = /^(duke|lidc|mrnet)=(.+)$/.exec(v);
    if (m) out[m[1] as ReproduceTask] = m[2];
    else if (real.length === 1) out[real[0]] = v;
    else if (real.length === 0) throw new UsageError(`reproduce: --data-dir '${v}' given, but no real task (duke, lidc, mrnet) was chosen with --task`);
    else throw new UsageError(`reproduce: with several real tasks, give --data-dir as <task>=<dir> (e.g. --data-dir lidc=/data/LIDC), got '${v}'`);
  }
  for (const t of real) if (!out[t]) throw new UsageError(`reproduce: the task '${t}' reads a downloaded dataset; give its folder with --data-dir`);
  return out;
}

function intFlag(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`reproduce: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

/** Parses `reproduce`'s arguments (exported for tests). */
export function parseReproduceArgs(argv: string[]): ReproduceArgs {
  const parsed = parseCommandArgs('reproduce', USAGE, {
    args: argv,
    allowPositionals: true,
    options: {
      task: { type: 'string', multiple: true },
      'data-dir': { type: 'string', multiple: true },
      'encoder-weights': { type: 'string' },
      'encoder-weights-base': { type: 'string' },
      'encoder-weights-registers': { type: 'string' },
      scale: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      backend: { type: 'string' },
      progress: { type: 'boolean', default: false },
    },
  }) as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`reproduce: expected one name (${Object.keys(REPRODUCTIONS).join(', ')}), got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${USAGE}`);
  const name = positionals[0];
  if (!(name in REPRODUCTIONS)) throw new UsageError(`reproduce: unknown name '${name}'; expected one of ${Object.keys(REPRODUCTIONS).join(', ')}`);
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const scale = s('scale') ?? 'quick';
  if (scale !== 'quick' && scale !== 'paper' && scale !== 'tiny') throw new UsageError(`reproduce: --scale must be quick, paper or tiny, got '${scale}'`);
  const taskFlags = ((values.task as string[] | undefined) ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  let tasks: ReproduceTask[];
  try {
    tasks = taskFlags.map(checkTask);
  } catch (e) {
    throw new UsageError(`reproduce: ${(e as Error).message}`);
  }
  const lrText = s('lr');
  const lr = lrText === undefined ? undefined : Number(lrText);
  if (lr !== undefined && !(Number.isFinite(lr) && lr > 0)) throw new UsageError(`reproduce: --lr must be a positive number, got '${lrText}'`);
  const options: ReproduceOptions = {
    out: s('out') ?? `reproduce/${name}`,
    tasks: tasks.length ? tasks : undefined,
    scale: scale as ReproduceScale,
    seed: intFlag('seed', s('seed'), 0) ?? 0,
    epochs: intFlag('epochs', s('epochs'), 1),
    lr,
    dataDirs: parseDataDirs((values['data-dir'] as string[] | undefined) ?? [], tasks),
    encoderWeights: { small: s('encoder-weights'), base: s('encoder-weights-base'), registers: s('encoder-weights-registers') },
    command: ['mst-ts', 'reproduce', ...argv].map(shellQuote).join(' '),
    progress: values.progress === true,
  };
  try {
    reproduceContext(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  checkBackendFlag('reproduce', s('backend'));
  return { name: name as ReproductionName, options, dryRun: values['dry-run'] === true, backend: s('backend') };
}

async function dryRun(args: ReproduceArgs, print: (line: string) => void): Promise<void> {
  const { figure2Models } = await import('../reproduce/figure2');
  const { table2Models } = await import('../reproduce/table2');
  const { table3Models } = await import('../reproduce/table3');
  const { tableS1Models } = await import('../reproduce/table_s1');
  const { syntheticGeometry } = await import('../reproduce/protocol');
  const { PAPER_VOLUME } = await import('../reproduce/real_data');
  const ctx = reproduceContext(args.options);
  const models = { figure2: figure2Models, table1: figure2Models, table2: table2Models, table3: table3Models, tableS1: tableS1Models }[args.name](args.options);
  print(`${args.name} at scale ${ctx.scale.name}, seed ${ctx.seed}: ${JSON.stringify(ctx.scale)}`);
  for (const task of ctx.tasks) {
    const input = TASKS[task].synthetic ? syntheticGeometry(ctx, task).inputSize : ctx.scale.name === 'paper' ? PAPER_VOLUME : ctx.scale.realSize;
    for (const recipe of models) {
      const model = await recipe.build(input, ctx.seed);
      print(`${task} [${input.join('x')}] ${recipe.name}: ${(model.numParameters() / 1e6).toFixed(3)} M parameters (${(model.numParameters({ trainableOnly: true }) / 1e6).toFixed(3)} M trained); ${recipe.description}`);
      model.dispose();
    }
  }
}

async function run(argv: string[]): Promise<number> {
  const args = parseReproduceArgs(argv);
  await setBackend(args.backend ?? 'wasm');
  const print = (line: string): void => void process.stderr.write(`${line}\n`);
  if (args.dryRun) {
    await dryRun(args, print);
    return 0;
  }
  const result = await REPRODUCTIONS[args.name]({ ...args.options, print });
  process.stdout.write(`${result.markdown}\nwrote ${result.files.length} files to ${args.options.out} in ${formatSeconds(result.seconds)}\n`);
  return 0;
}

/** `mst-ts reproduce`: one table or figure of the paper, on synthetic tasks or the real datasets. */
export const reproduceCommand: CliCommand = {
  name: 'reproduce',
  summary: "reproduce a table or figure of the paper (figure2, table1, table2, table3, tableS1) on synthetic or real data",
  usage: USAGE,
  run,
};
