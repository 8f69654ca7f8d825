import * as tf from '@tensorflow/tfjs';
import { evaluateExplanations } from '../explain/evaluate_explanations';
import { disposeExplanation, explainVolume, type ExplainableModel, type ExplainOptions } from '../explain/explain_volume';
import { localisationMetrics } from '../explain/localisation';
import { montagePng, type MontageRow } from '../explain/montage';
import type { VolumeDataset } from '../data/dataset';
import { writeFileAtomic } from '../io/files';
import { protocolFooter } from './auc_table';
import { figure2Models } from './figure2';
import { PAPER_TABLE1 } from './paper_numbers';
import { trainOnTask } from './protocol';
import { reproduceContext, type ModelRun, type ReproduceOptions } from './context';
import { formatSeconds, slug, writeTableFiles } from './report';
import { TASKS, type PaperDataset, type ReproduceTask } from './tasks';

/** One explained test case. */
export interface SaliencyCase {
  id: string;
  /** The model's positive-class probability. */
  score: number;
  /** One of the most attended slices (MST: slice attention; 3D ResNet: the map's sum per slice) holds lesion. */
  sliceCorrect: boolean;
  /** The saliency's peak voxel lies inside the lesion. */
  lesionCorrect: boolean;
  /** Foreground Dice and IoU of the map above its 99.9th percentile against the lesion mask. */
  dice: number;
  iou: number;
  /** The most attended slices, most attended first. */
  topSlices: number[];
  /** Shape `[D, h, w]` of the map before its upsampling to the volume. */
  mapShape: number[];
}

/** One row of Table 1: a method on a dataset. */
export interface Table1Row {
  dataset: PaperDataset;
  task: ReproduceTask;
  /** '3D ResNet' (Grad-CAM) or 'MST' (slice x plane attention). */
  method: '3D ResNet' | 'MST';
  cases: number;
  sliceCorrect: number;
  lesionCorrect: number;
  /** Means over the cases (NaN-free: every explained case has a lesion). */
  meanDice: number;
  meanIou: number;
  /** Shape `[D, h, w]` of the method's map before upsampling (the 3D ResNet's `layer4` grid is coarse). */
  mapShape: number[];
  perCase: SaliencyCase[];
}

/** One row of the extended Table 1: an explanation method of one model on a dataset. */
export interface Table1ExtendedRow {
  dataset: PaperDataset;
  task: ReproduceTask;
  model: '3D ResNet' | 'MST';
  method: string;
  cases: number;
  sliceCorrect: number;
  lesionCorrect: number;
  /** Peaks within {@link POINTING_TOLERANCE} voxels of the lesion. */
  pointingGame: number;
  /** Means over the cases of the deletion (lower: more faithful) and insertion (higher) areas. */
  deletionAuc: number;
  insertionAuc: number;
  meanDice: number;
  /** Mean seconds per case, explanation and metrics. */
  meanSeconds: number;
}

/** The methods of the extended table, per model, with the bounds that keep them affordable. */
export const TABLE1_METHODS: Record<'MST' | '3D ResNet', ExplainOptions[]> = {
  MST: [{ method: 'attention' }, { method: 'rollout' }, { method: 'transformer-attribution' }, { method: 'gradient-attention' }, { method: 'occlusion' }],
  '3D ResNet': [
    { method: 'gradcam' },
    { method: 'gradcam++' },
    { method: 'hirescam' },
    { method: 'layercam' },
    { method: 'xgradcam' },
    { method: 'scorecam', maxForwardPasses: 32 },
    { method: 'eigencam' },
    { method: 'occlusion' },
  ],
};

/** Pointing-game tolerance of the extended table, in voxels (Zhang et al.'s 15 pixels). */
export const POINTING_TOLERANCE = 15;

/** Slabs of the extended table's deletion and insertion curves. */
const CURVE_STEPS = 8;

/** What {@link runTable1} returns (and has written to `out`). */
export interface Table1Result {
  name: 'table1';
  scale: string;
  seed: number;
  tasks: ReproduceTask[];
  rows: Table1Row[];
  /** Every explanation method of each model, with faithfulness and the pointing game. */
  extended: Table1ExtendedRow[];
  runs: ModelRun[];
  markdown: string;
  files: string[];
  seconds: number;
}

/** Montage PNGs (input, slice attention where there is one, saliency) of the first explained cases of each task and method. */
const MONTAGES = 2;

async function explainCases(
  model: ExplainableModel,
  method: 'attention' | 'gradcam',
  run: ModelRun,
  test: VolumeDataset,
  indices: number[],
  montageBase: string,
  files: string[],
): Promise<SaliencyCase[]> {
  const out: SaliencyCase[] = [];
  for (const i of indices) {
    const sample = await test.get(i);
    if (!sample.mask) throw new Error(`table1: test case '${sample.id}' of ${run.task} has no lesion mask; Table 1 needs masks (the synthetic tasks, or LIDC with seg files)`);
    const volume = tf.tensor3d(sample.data, sample.shape);
    const e = await explainVolume(model, volume, { method });
    try {
      const m = await localisationMetrics(e.saliencyUpsampled as tf.Tensor3D, e.sliceAttention ?? null, { data: sample.mask, shape: sample.shape });
      out.push({ id: sample.id, score: run.scores[i], sliceCorrect: m.sliceCorrect, lesionCorrect: m.lesionCorrect, dice: m.dice, iou: m.iou, topSlices: m.topSlices, mapShape: e.shapes.saliency });
      if (out.length <= MONTAGES) {
        const rows: MontageRow[] = [];
        if (e.sliceAttention) rows.push({ map: await e.sliceAttention.data(), clip: null });
        rows.push({ map: { data: (await (e.saliencyUpsampled as tf.Tensor3D).data()) as Float32Array, shape: sample.shape } });
        rows.push({ map: { data: Float32Array.from(sample.mask), shape: sample.shape }, clip: null, label: 'lesion mask' });
        const file = `${montageBase}_${sample.id}.png`;
        await writeFileAtomic(file, montagePng({ data: sample.data, shape: sample.shape }, rows, { colormap: 'jet', alpha: 0.5 }));
        files.push(file);
      }
    } finally {
      disposeExplanation(e);
      volume.dispose();
    }
  }
  return out;
}

function mean(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

/**
 * Table 1, saliency correctness, counted automatically: MST-DINOv2 and the 3D ResNet50 are
 * trained as in Figure 2, then the first `table1Cases` (50) positive test cases per task are
 * explained, MST by its slice x plane attention and the ResNet by Grad-CAM at `layer4`, and
 * scored against the lesion masks: slice correctness (the most attended slice holds lesion),
 * lesion correctness (the map's peak voxel is inside the lesion), Dice and IoU of the map's top
 * 0.1%. The paper's radiologist judged "the slice(s)" and "the core of the lesion" by eye.
 *
 * @example
 * const { rows } = await runTable1({ out: 'reproduce/table1', tasks: ['synthetic-chest'] });
 */
export async function runTable1(options: ReproduceOptions): Promise<Table1Result> {
  const ctx = reproduceContext(options);
  const [mstRecipe, resnetRecipe] = figure2Models(options);
  const rows: Table1Row[] = [];
  const extended: Table1ExtendedRow[] = [];
  const runs: ModelRun[] = [];
  const figures: string[] = [];
  const fs = await import('node:fs/promises');
  await fs.mkdir(ctx.out, { recursive: true });
  ctx.print(`table1: MST and 3D ResNet50 on ${ctx.tasks.length} tasks at scale ${ctx.scale.name}, seed ${ctx.seed}, writing to ${ctx.out}`);
  for (const task of ctx.tasks) {
    for (const [recipe, method, label] of [
      [mstRecipe, 'attention', 'MST'],
      [resnetRecipe, 'gradcam', '3D ResNet'],
    ] as const) {
      ctx.print(`table1: training ${recipe.name} on ${task}`);
      const trained = await trainOnTask(ctx, task, recipe);
      try {
        runs.push(trained.run);
        const positives = trained.run.labels.map((l, i) => (l === 1 ? i : -1)).filter((i) => i >= 0).slice(0, ctx.scale.table1Cases);
        ctx.print(`table1: explaining ${positives.length} positive test cases of ${task} with ${label === 'MST' ? 'MST attention' : 'Grad-CAM'}`);
        const base = `${ctx.out}/table1_saliency_${task}_${slug(label)}`;
        const perCase = await explainCases(trained.model as unknown as ExplainableModel, method, trained.run, trained.test, positives, base, figures);
        rows.push({
          dataset: TASKS[task].dataset,
          task,
          method: label,
          cases: perCase.length,
          sliceCorrect: perCase.filter((c) => c.sliceCorrect).length,
          lesionCorrect: perCase.filter((c) => c.lesionCorrect).length,
          meanDice: mean(perCase.map((c) => c.dice)),
          meanIou: mean(perCase.map((c) => c.iou)),
          mapShape: perCase[0]?.mapShape ?? [],
          perCase,
        });
        const methods = TABLE1_METHODS[label];
        ctx.print(`table1: ${methods.length} explanation methods of ${label} on the same cases (faithfulness, pointing game)`);
        const samples = await Promise.all(positives.map((i) => trained.test.get(i)));
        const evaluation = await evaluateExplanations(trained.model as unknown as ExplainableModel, samples, {
          methods,
          masks: samples.map((x) => (x.mask ? { data: x.mask, shape: x.shape } : null)),
          deletion: { steps: CURVE_STEPS },
          pointingTolerance: POINTING_TOLERANCE,
        });
        for (const m of evaluation.summary) {
          const { method, cases, sliceCorrect, lesionCorrect, pointingGame, deletionAuc, insertionAuc, meanDice, meanSeconds } = m;
          extended.push({ dataset: TASKS[task].dataset, task, model: label, method, cases, sliceCorrect, lesionCorrect, pointingGame, deletionAuc, insertionAuc, meanDice, meanSeconds });
        }
      } finally {
        trained.model.dispose();
      }
    }
  }
  // The paper's order: every dataset's 3D ResNet first, then every dataset's MST.
  rows.sort((a, b) => (a.method === b.method ? 0 : a.method === '3D ResNet' ? -1 : 1));
  const markdown = `${table1Markdown(rows, ctx.tasks, protocolFooter(ctx, runs, null, false))}\n${table1ExtendedMarkdown(extended)}`;
  const files = [...(await writeTableFiles(ctx, 'table1', markdown, runs, { rows, extended })), ...figures];
  const seconds = (Date.now() - ctx.started) / 1000;
  ctx.print(`table1: done in ${formatSeconds(seconds)}; wrote ${ctx.out}/table1.md`);
  return { name: 'table1', scale: ctx.scale.name, seed: ctx.seed, tasks: ctx.tasks, rows, extended, runs, markdown, files, seconds };
}

/** Table 1 in the paper's layout (dataset, method, slice and lesion correctness) with the paper's counts beside ours. */
export function table1Markdown(rows: Table1Row[], tasks: ReproduceTask[], footer: string[]): string {
  const head = ['Dataset', 'Method', 'Slice Correctness: ours', 'Slice Correctness: paper', 'Lesion Correctness: ours', 'Lesion Correctness: paper', 'Dice (ours)', 'IoU (ours)', 'Map grid (ours)'];
  const lines = [
    '## Table 1 (reproduced): saliency maps highlighting slices with lesions and cores of lesions',
    '',
    `Paper (${PAPER_TABLE1.source}): "${PAPER_TABLE1.caption}"`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  for (const r of rows) {
    const paper = (what: string) => PAPER_TABLE1.rows[`${r.method} / ${what}`][r.dataset];
    lines.push(
      `| ${r.dataset} (${r.task}) | ${r.method} | ${r.sliceCorrect}/${r.cases} | ${paper('Slice Correctness')} | ${r.lesionCorrect}/${r.cases} | ${paper('Lesion Correctness')} | ${r.meanDice.toFixed(3)} | ${r.meanIou.toFixed(3)} | ${r.mapShape.join('x')} |`,
    );
  }
  lines.push(
    '',
    'Ours are counted automatically against the lesion masks of the first positive test cases of each task (the paper: 50 maps per dataset rated by one radiologist, blinded). ' +
      'Slice correctness: the most attended slice holds lesion (MST: slice attention; 3D ResNet: the Grad-CAM map\'s sum per slice). ' +
      'Lesion correctness: the saliency map\'s peak voxel lies inside the lesion (pointing game), a stricter reading of "points to the core of the lesion". ' +
      'Dice / IoU: the map above its 99.9th percentile against the mask (foreground, mean over cases), as the authors\' `--get_segmentation`. ' +
      'MST maps: slice attention x DINOv2 last-block CLS->patch attention, upsampled trilinearly; 3D ResNet maps: Grad-CAM at `layer4`, upsampled trilinearly. ' +
      `Tasks run: ${tasks.join(', ')}. Per-case results are in \`table1_predictions.json\`; \`table1_saliency_<task>_<method>_<case>.png\` show the first ${MONTAGES} cases: the input, ` +
      'the slice attention (MST), the saliency and the lesion mask. ' +
      'Map grid: the map before upsampling. A 3D ResNet\'s `layer4` grid is its input / 16 along every axis (MONAI\'s stride-1 stem; / 32 in-plane with a stride-2 stem): ' +
      '2 x 14 x 14 at the paper\'s 32 x 224 x 224, a single plane at 16 slices, and a map constant along the slices cannot rank them (ties go to the first slice and the first voxel, so they count as wrong).',
    '',
  );
  for (const f of footer) lines.push(`${f}  `);
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The method each model's row of the paper's Table 1 used (its radiologist counts go beside it). */
const PAPER_METHOD: Record<'MST' | '3D ResNet', string> = { MST: 'attention', '3D ResNet': 'gradcam' };

/**
 * The extended Table 1: every explanation method of MST and of the 3D ResNet per dataset, with
 * slice and lesion correctness, the pointing game, deletion and insertion areas and Dice, and the
 * paper's radiologist counts beside the method the paper used.
 *
 * @example
 * const md = table1ExtendedMarkdown(result.extended);
 */
export function table1ExtendedMarkdown(rows: Table1ExtendedRow[]): string {
  const head = [
    'Dataset',
    'Model',
    'Method',
    'Slice correctness',
    'Lesion correctness',
    `Pointing game (${POINTING_TOLERANCE} vox)`,
    'Deletion AUC (lower better)',
    'Insertion AUC (higher better)',
    'Dice',
    'Paper, radiologist: slice / lesion',
    's / case',
  ];
  const lines = ['## Table 1, extended: every explanation method, localisation and faithfulness', '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
  for (const r of rows) {
    const paper =
      r.method === PAPER_METHOD[r.model]
        ? `${PAPER_TABLE1.rows[`${r.model} / Slice Correctness`][r.dataset]} / ${PAPER_TABLE1.rows[`${r.model} / Lesion Correctness`][r.dataset]}`
        : '-';
    lines.push(
      `| ${r.dataset} (${r.task}) | ${r.model} | ${r.method} | ${r.sliceCorrect}/${r.cases} | ${r.lesionCorrect}/${r.cases} | ${r.pointingGame}/${r.cases} | ${f(r.deletionAuc)} | ${f(r.insertionAuc)} | ${f(r.meanDice)} | ${paper} | ${r.meanSeconds.toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    'Same cases as the table above. Slice correctness ranks slices by slice attention (attention, rollout), by slice relevance (transformer-attribution, gradient-attention) or by the map\'s sum per slice (the CAMs, occlusion). ' +
      `Pointing game: the map's peak within ${POINTING_TOLERANCE} voxels of the lesion (lesion correctness: inside it). ` +
      `Deletion / insertion: the explained class's probability as the most salient voxels are removed (set to 0) or revealed on a zero volume, in ${CURVE_STEPS} slabs; the area under each curve. ` +
      'Score-CAM is limited to the 32 channels whose maps vary most; occlusion boxes are a quarter of each axis. The paper\'s counts are one radiologist\'s reading of 50 maps per dataset, of its MST attention and 3D ResNet Grad-CAM only.',
    '',
  );
  return `${lines.join('\n').trimEnd()}\n`;
}
