import { writeFileAtomic } from '../io/files';
import { confusionFigurePng, confusionFigureSvg } from '../stats/confusion_figure';
import { rocFigurePng, rocFigureSvg, rocSeries } from '../stats/roc_figure';
import { confusionAtThreshold, youdenThreshold, type ConfusionMatrix } from '../stats/threshold';
import type { PaperTable } from './paper_numbers';
import type { ModelRun, ReproduceContext } from './context';
import { PAPER_DATASETS, TASKS, type PaperDataset, type ReproduceTask } from './tasks';

/** One row of a Markdown table: our cells and the paper's row it stands beside. */
export interface MarkdownRow {
  name: string;
  /** Our cell per dataset; datasets not run print as "not run". */
  cells: Partial<Record<PaperDataset, string>>;
  /** The row of the paper's table quoted beside ours (default `name`). */
  paperRow?: string;
}

/** What {@link markdownTable} renders. */
export interface MarkdownTableSpec {
  /** e.g. `Table 2 (reproduced)`. */
  title: string;
  paper: PaperTable;
  /** Header of the first column. */
  firstColumn?: string;
  rows: MarkdownRow[];
  /** Which task stands for each dataset column run. */
  tasks: ReproduceTask[];
  /** Footer lines (what the models and data are, caveats). */
  footer: string[];
}

/**
 * The paper's layout (rows = models, columns = Breast MRI, Chest CT, Knee MRI) with, for each
 * dataset, our cell and the paper's cell quoted beside it.
 */
export function markdownTable(spec: MarkdownTableSpec): string {
  const taskOf = new Map<PaperDataset, ReproduceTask>(spec.tasks.map((t) => [TASKS[t].dataset, t]));
  const head = [spec.firstColumn ?? ''];
  for (const d of PAPER_DATASETS) {
    const t = taskOf.get(d);
    head.push(`${d}: ours${t ? ` (${t})` : ''}`, `${d}: paper`);
  }
  const lines = [`## ${spec.title}`, '', `Paper (${spec.paper.source}): "${spec.paper.caption}"`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of spec.rows) {
    const paperRow = spec.paper.rows[row.paperRow ?? row.name];
    const cells = [row.name];
    for (const d of PAPER_DATASETS) cells.push(row.cells[d] ?? 'not run', paperRow ? paperRow[d] : '—');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const f of spec.footer) lines.push(`${f}  `);
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The provenance written beside every table: how to make the same files again. */
export interface Provenance {
  name: string;
  command: string;
  seed: number;
  scale: string;
  tasks: ReproduceTask[];
  startedAt: string;
  /** Wall time. */
  seconds: number;
  /** CPU time of the process (what a quiet machine takes; wasm runs on one thread). */
  cpuSeconds: number;
  node: string;
  backend: string;
  /** The scale's settings as run. */
  protocol: unknown;
}

/** Writes `<name>.md`, `<name>_predictions.json` and `<name>_provenance.json` (plus `command.txt`). */
export async function writeTableFiles(
  ctx: ReproduceContext,
  name: string,
  markdown: string,
  runs: ModelRun[],
  extra: Record<string, unknown> = {},
): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(ctx.out, { recursive: true });
  const tf = await import('@tensorflow/tfjs');
  const provenance: Provenance = {
    name,
    command: ctx.command,
    seed: ctx.seed,
    scale: ctx.scale.name,
    tasks: ctx.tasks,
    startedAt: new Date(ctx.started).toISOString(),
    seconds: (Date.now() - ctx.started) / 1000,
    cpuSeconds: ctx.cpu(),
    node: typeof process !== 'undefined' ? process.version : 'unknown',
    backend: tf.getBackend(),
    protocol: ctx.scale,
  };
  const files = {
    md: path.join(ctx.out, `${name}.md`),
    predictions: path.join(ctx.out, `${name}_predictions.json`),
    provenance: path.join(ctx.out, `${name}_provenance.json`),
    command: path.join(ctx.out, `${name}_command.txt`),
  };
  const stamp = `\n_Made by \`${ctx.command}\` (seed ${ctx.seed}, scale ${ctx.scale.name}) in ${formatSeconds(provenance.seconds)} (CPU time ${formatSeconds(provenance.cpuSeconds)})._\n`;
  await writeFileAtomic(files.md, markdown + stamp);
  await writeFileAtomic(files.predictions, `${JSON.stringify({ table: name, seed: ctx.seed, scale: ctx.scale.name, command: ctx.command, runs, ...extra }, null, 1)}\n`);
  await writeFileAtomic(files.provenance, `${JSON.stringify(provenance, null, 2)}\n`);
  await writeFileAtomic(files.command, `${ctx.command}\n# seed ${ctx.seed}, scale ${ctx.scale.name}\n`);
  return Object.values(files);
}

/** `12 min 5 s`. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** A file-name-safe form of a row name. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** ROC curves of every row on one task (SVG and PNG), legend "AUC = x ± s" with bootstrap bands. */
export async function writeRocFigure(ctx: ReproduceContext, name: string, task: ReproduceTask, runs: ModelRun[]): Promise<string[]> {
  const path = await import('node:path');
  const series = runs.map((r, i) =>
    rocSeries(r.labels, r.scores, { name: r.model, color: COLORS[i % COLORS.length], replicates: ctx.scale.replicates, seed: ctx.seed, stratified: false }),
  );
  const base = path.join(ctx.out, `${name}_roc_${task}`);
  await writeFileAtomic(`${base}.svg`, rocFigureSvg(series));
  await writeFileAtomic(`${base}.png`, rocFigurePng(series));
  return [`${base}.svg`, `${base}.png`];
}

/** The confusion matrix at the Youden threshold (the authors' operating point). */
export function youdenConfusion(run: Pick<ModelRun, 'labels' | 'scores'>): { threshold: number; matrix: ConfusionMatrix } {
  const { threshold } = youdenThreshold(run.labels, run.scores);
  return { threshold, matrix: confusionAtThreshold(run.labels, run.scores, threshold) };
}

/** Confusion-matrix heat map of one run at the Youden threshold (SVG and PNG). */
export async function writeConfusionFigure(ctx: ReproduceContext, name: string, run: ModelRun): Promise<string[]> {
  const path = await import('node:path');
  const { matrix } = youdenConfusion(run);
  const base = path.join(ctx.out, `${name}_confusion_${run.task}_${slug(run.model)}`);
  await writeFileAtomic(`${base}.svg`, confusionFigureSvg(matrix));
  await writeFileAtomic(`${base}.png`, confusionFigurePng(matrix));
  return [`${base}.svg`, `${base}.png`];
}
