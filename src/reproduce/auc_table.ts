import type { PaperTable } from './paper_numbers';
import type { ModelRecipe } from './models';
import { pAdjust } from '../stats/p_adjust';
import { aucCell, formatCell, syntheticGeometry, trainOnTask, type AucCell } from './protocol';
import { reproduceContext, type ModelRun, type ReproduceContext, type ReproduceOptions } from './context';
import { formatSeconds, markdownTable, writeConfusionFigure, writeRocFigure, writeTableFiles, type MarkdownRow } from './report';
import { TASKS, type PaperDataset, type ReproduceTask } from './tasks';

/** One row of an AUC table: its model and its cell per dataset run. */
export interface AucRow {
  model: string;
  description: string;
  /** The paper's row this one stands beside. */
  paperRow: string;
  cells: Partial<Record<PaperDataset, AucCell>>;
}

/** What a table reproduction returns (and has written to `out`). */
export interface AucTableResult {
  name: string;
  scale: string;
  seed: number;
  tasks: ReproduceTask[];
  rows: AucRow[];
  /** Every trained model's test predictions. */
  runs: ModelRun[];
  markdown: string;
  /** Files written. */
  files: string[];
  seconds: number;
}

/** What a table is: its name, the paper's table, and its rows (the first is the P reference). */
export interface AucTableSpec {
  name: string;
  title: string;
  paper: PaperTable;
  recipes: ModelRecipe[];
  /** The paper's row name beside each recipe (default: the recipe's name). */
  paperRows?: string[];
  /** Lines specific to this table for the footer. */
  notes: string[];
  /** Also write each run's confusion matrix (Figure 2). */
  confusion?: boolean;
}

/** Below this best validation AUC a row is reported as not having learnt the task. */
export const UNLEARNT_VAL_AUC = 0.65;

/**
 * Every row of a task is compared with the first row: Holm's adjustment over those comparisons
 * (R's `p.adjust(p, "holm")`), in place; the raw P moves to `pUnadjusted`.
 *
 * @example
 * holmAdjustCells([cellB, cellC]); // cellB.p is now Holm-adjusted over the two comparisons
 */
export function holmAdjustCells(cells: AucCell[]): void {
  const adjusted = pAdjust(cells.map((c) => c.p as number), 'holm');
  cells.forEach((c, i) => {
    c.pUnadjusted = c.p;
    c.p = adjusted[i];
  });
}

/** Footer lines every table shares: data, protocol, statistics and what the run can show. */
export function protocolFooter(ctx: ReproduceContext, runs: ModelRun[], reference: string | null, aucTable = true): string[] {
  const s = ctx.scale;
  const lines: string[] = [];
  for (const t of ctx.tasks) {
    const info = TASKS[t];
    if (info.synthetic) {
      const g = syntheticGeometry(ctx, t);
      lines.push(
        `**${info.dataset} = ${t}**: ${info.description}; generated at ${g.size.join('x')}${g.crop ? `, centre crop ${g.crop.join('x')}` : ''} (D x H x W), ` +
          `${s.nTrain} train / ${s.nVal} validation / ${s.nTest} test cases (${Math.floor(s.nTest / 2)} positive), difficulty ${s.difficulty}.`,
      );
    } else {
      const r = runs.find((x) => x.task === t);
      lines.push(`**${info.dataset} = ${t}**: ${info.description}; the paper's preprocessing and splits, volumes ${r ? r.inputSize.join('x') : '?'} (D x H x W), data from ${ctx.dataDirs[t]}.`);
    }
  }
  const lrs = [...new Set(runs.map((r) => `${r.model} ${r.lr}`))];
  const comparisons = new Set(runs.map((r) => r.model)).size - 1;
  lines.push(
    `**Protocol** (every row alike, scale \`${s.name}\`): AdamW (weight decay 1e-2), batch ${s.batchSize}, at most ${s.epochs} epochs${s.lrSchedule ? `, learning rate warmed up linearly over ${s.lrSchedule.warmupEpochs ?? 0} epoch(s) then ${s.lrSchedule.decay === 'cosine' ? 'cosine-decayed to 1% at the last epoch' : 'constant'}` : ', constant learning rate'}, early stopping after ${s.patience} epochs ` +
      `without a better validation AUC, the best-validation checkpoint tested; ${s.weightedSampling ? 'class-weighted sampling; ' : ''}augmentation: ${s.augment}; ` +
      `${s.zNormalize ? 'volumes z-normalised; ' : ''}seed ${ctx.seed} for data, order, initial weights and bootstrap. Learning rates: ${lrs.join(', ')}.`,
  );
  lines.push(
    `**Statistics**: AUC ± std of ${s.replicates} bootstrap AUCs (cases resampled together, as the authors; seed ${ctx.seed})` +
      `${reference ? `; P: two-sided paired DeLong test against ${reference} on the same test cases, Holm-adjusted over the ${comparisons} comparison(s) per task (unadjusted P in the JSON as pUnadjusted)` : ''}. Every prediction is in the \`_predictions.json\` file.`,
  );
  const models = [...new Map(runs.map((r) => [r.model, r])).values()];
  for (const r of models) lines.push(`**${r.model}**: ${r.description}; ${(r.parameters / 1e6).toFixed(3)} M parameters (${(r.trainableParameters / 1e6).toFixed(3)} M trained).`);
  const unlearnt = runs.filter((r) => !(r.bestValAuc >= UNLEARNT_VAL_AUC));
  if (unlearnt.length) {
    lines.push(
      `**Did not learn**: ${unlearnt.map((r) => `${r.model} on ${r.task} (best validation AUC ${r.bestValAuc.toFixed(2)} in ${r.epochsRun} epochs at lr ${r.lr})`).join('; ')}. ` +
        'Such a row has not learnt the task under this protocol (too few epochs or too low a rate for a model trained from scratch); its AUC and P say nothing about its architecture.',
    );
  }
  const pretrained = ctx.weights.small || ctx.weights.base || ctx.weights.registers;
  if (ctx.tasks.some((t) => TASKS[t].synthetic)) {
    lines.push(
      pretrained
        ? '**What this can show**: the DINOv2 rows start from the pretrained weights given; the synthetic tasks still are not the paper\'s data, so compare directions and P values, not the numbers.'
        : '**What this can and cannot show**: every encoder is trained from scratch on a few hundred small synthetic volumes. The paper\'s DINOv2 advantage comes from self-supervised pretraining (LVD-142M), ' +
            'which no from-scratch run can show (give `--encoder-weights` for that); what the synthetic default does show is that the whole protocol runs end to end, which design choices matter on a task ' +
            'whose signal sits in a few slices, and how large the bootstrap std is at this test-set size. Differences smaller than about two stds are noise: read the P values, not the rank order.',
    );
  }
  if (aucTable) lines.push('The paper\'s captions of Tables 2, 3 and S1 say "mean accuracy ± standard deviation", but the values are AUCs (their first rows repeat Figure 2\'s AUCs); they are quoted as printed.');
  return lines;
}

/**
 * Trains every row on every task with one protocol, computes AUC ± std and DeLong P against the
 * first row, and writes the Markdown table (with the paper's numbers beside ours), all
 * predictions, ROC figures per task, and the command and seed.
 */
export async function runAucTable(spec: AucTableSpec, options: ReproduceOptions): Promise<AucTableResult> {
  const ctx = reproduceContext(options);
  const recipes = options.models && options.models.length ? options.models : spec.recipes;
  const paperRows = options.models && options.models.length ? recipes.map((r) => r.name) : spec.paperRows ?? recipes.map((r) => r.name);
  const runs: ModelRun[] = [];
  const files: string[] = [];
  ctx.print(`${spec.name}: ${recipes.length} models x ${ctx.tasks.length} tasks at scale ${ctx.scale.name}, seed ${ctx.seed}, writing to ${ctx.out}`);
  for (const task of ctx.tasks) {
    const taskRuns: ModelRun[] = [];
    for (const recipe of recipes) {
      ctx.print(`${spec.name}: training ${recipe.name} on ${task}`);
      const trained = await trainOnTask(ctx, task, recipe);
      trained.model.dispose();
      taskRuns.push(trained.run);
      ctx.print(`${spec.name}: ${recipe.name} on ${task}: test AUC ${formatCell(aucCell(trained.run, { replicates: ctx.scale.replicates, seed: ctx.seed }))} (${formatSeconds(trained.run.seconds)}, CPU ${formatSeconds(trained.run.cpuSeconds)})`);
    }
    runs.push(...taskRuns);
    files.push(...(await writeRocFigure(ctx, spec.name, task, taskRuns)));
    if (spec.confusion) for (const r of taskRuns) files.push(...(await writeConfusionFigure(ctx, spec.name, r)));
  }
  const rows: AucRow[] = recipes.map((recipe, i) => ({ model: recipe.name, description: recipe.description, paperRow: paperRows[i], cells: {} }));
  for (const task of ctx.tasks) {
    const ref = runs.find((r) => r.task === task && r.model === recipes[0].name) as ModelRun;
    recipes.forEach((recipe, i) => {
      const run = runs.find((r) => r.task === task && r.model === recipe.name) as ModelRun;
      rows[i].cells[TASKS[task].dataset] = aucCell(run, { replicates: ctx.scale.replicates, seed: ctx.seed, reference: i === 0 ? undefined : ref });
    });
    holmAdjustCells(rows.slice(1).map((r) => r.cells[TASKS[task].dataset] as AucCell));
  }
  const mdRows: MarkdownRow[] = rows.map((r) => ({
    name: r.model,
    paperRow: r.paperRow,
    cells: Object.fromEntries(Object.entries(r.cells).map(([d, c]) => [d, formatCell(c as AucCell)])),
  }));
  const markdown = markdownTable({
    title: spec.title,
    paper: spec.paper,
    rows: mdRows,
    tasks: ctx.tasks,
    footer: [...spec.notes, ...protocolFooter(ctx, runs, recipes[0].name)],
  });
  files.unshift(...(await writeTableFiles(ctx, spec.name, markdown, runs, { rows })));
  const seconds = (Date.now() - ctx.started) / 1000;
  ctx.print(`${spec.name}: done in ${formatSeconds(seconds)}; wrote ${ctx.out}/${spec.name}.md`);
  return { name: spec.name, scale: ctx.scale.name, seed: ctx.seed, tasks: ctx.tasks, rows, runs, markdown, files, seconds };
}
