/**
 * The ablation notebooks' shared kit: synthetic data from the knobs, one training run per
 * variant, the paper-style table (AUC ± bootstrap std, DeLong P against the first row, the paper's
 * number beside ours), ROC and learning-curve figures, and rich-display wrappers for Jupyter.
 *
 * Plain TypeScript on mst-ts's public API (the built package, imported by its name): it runs in
 * Deno's Jupyter kernel and in any Deno or bundled Node script.
 */
import * as tf from '@tensorflow/tfjs';
import { Buffer } from 'node:buffer';
import {
  bootstrapAuc,
  createEncoder,
  delongTest,
  logitsOf,
  MedicalSliceTransformer,
  rocFigureSvg,
  rocSeries,
  runTraining,
  scheduledLr,
  setBackend,
  SMALL_VITS,
  smallVitOptions,
  syntheticTrainingData,
  writeFileAtomic,
  type ComponentOptions,
  type EpochRecord,
  type MedicalSliceTransformerOptions,
  type Predictions,
  type Shape3,
  type SliceEncoder,
  type SmallVit,
  type SyntheticTaskName,
  type TrainableModel,
  type VolumeDataset,
} from 'mst-ts';

/** Everything a notebook lets a researcher change in its knobs cell. */
export interface Knobs {
  /** Synthetic task: 'chest' (nodules), 'breast' (enhancing mass) or 'knee' (tear). */
  task: SyntheticTaskName;
  /** Generated volume `[D, H, W]`. */
  size: Shape3;
  /** Centre crop after generation (the nodule-centred crop of the chest data); null for none. */
  crop: Shape3 | null;
  /** Synthetic difficulty in [0, 1]. */
  difficulty: number;
  nTrain: number;
  nVal: number;
  nTest: number;
  /** Maximum epochs; the best validation epoch's weights are tested. */
  epochs: number;
  /** Epochs without a better validation AUC before stopping. */
  patience: number;
  batchSize: number;
  /** AdamW peak learning rate of every variant that names none of its own. */
  lr: number;
  /** Epochs of linear warm-up to `lr` (0: none). */
  warmupEpochs: number;
  /** After warm-up: 'cosine' decay to 1% of `lr` at the last epoch, or 'constant'. */
  decay: 'cosine' | 'constant';
  /** Training-set augmentation: 'flip' (random flips on every axis) or 'none'. */
  augment: 'flip' | 'none';
  /** Seed of the data, its order and the initial weights. */
  seed: number;
  /** Bootstrap replicates of the AUC's std and the ROC band. */
  replicates: number;
  /** tfjs backend: 'wasm' (fast) or 'cpu' (pure JS, ~40x slower). */
  backend: 'wasm' | 'cpu';
  /** Folder for table.md, predictions.json, the figures and run.json; '' writes nothing. */
  outDir: string;
}

/**
 * The small default, the recipe of `mst-ts demo` at a smaller size: chest volumes generated at
 * 16x64x64 and centre-cropped tightly to 8x16x16 (the nodule and its margin), z-normalised,
 * random flips for training, AdamW at 1e-3 with a 1-epoch warm-up and cosine decay, batch 8.
 * A conv-stem tiny ViT MST learns the chest task from scratch in seconds per epoch on 2 cores.
 */
export const TINY_KNOBS: Readonly<Knobs> = {
  task: 'chest',
  size: [16, 64, 64],
  crop: [8, 16, 16],
  difficulty: 0.25,
  nTrain: 160,
  nVal: 80,
  nTest: 100,
  epochs: 6,
  patience: 50,
  batchSize: 8,
  lr: 1e-3,
  warmupEpochs: 1,
  decay: 'cosine',
  augment: 'flip',
  seed: 0,
  replicates: 200,
  backend: 'wasm',
  outDir: '',
};

/** One row of an ablation: a name and how to build a fresh model for the knobs' input size. */
export interface Variant {
  name: string;
  /**
   * Builds a fresh model for `[D, H, W]` input from a seed (the signature of
   * `TrainRunConfig.createModel`; a promise is awaited, so a reproduce `ModelRecipe` fits too).
   */
  build: (inputSize: Shape3, seed: number) => TrainableModel | Promise<TrainableModel>;
  /** Learning rate of this row (default: the knobs'). */
  lr?: number;
  /** The paper's row this variant stands for (default: `name`). */
  paperRow?: string;
}

/** What one variant's run produced. */
export interface VariantResult {
  name: string;
  paperRow: string;
  parameters: number;
  trainableParameters: number;
  lr: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValAuc: number;
  /** Held-out test predictions of the best epoch's weights. */
  predictions: Predictions;
  seconds: number;
}

/** A whole ablation: its knobs and one result per variant, in order. */
export interface AblationResult {
  title: string;
  knobs: Knobs;
  rows: VariantResult[];
  seconds: number;
}

/** The three disjoint case sets of one seeded generator. */
export interface TaskData {
  train: VolumeDataset;
  val: VolumeDataset;
  test: VolumeDataset;
  /** The network's input size (the crop, or the generated size). */
  inputSize: Shape3;
}

/**
 * Builds train/val/test sets from the knobs with the library's own pipeline
 * (`syntheticTrainingData`, as `mst-ts train`): the task's preprocessing, the crop, then
 * z-normalisation, then (training set only) the augmentation.
 */
export function taskData(k: Knobs): TaskData {
  const data = syntheticTrainingData({
    task: k.task,
    seed: k.seed,
    size: k.size,
    crop: k.crop ?? undefined,
    difficulty: k.difficulty,
    nTrain: k.nTrain,
    nVal: k.nVal,
    nTest: k.nTest,
    zNormalize: true,
    augment: k.augment,
  });
  return { train: data.train, val: data.val, test: data.test, inputSize: data.inputSize };
}

/** Sizes of a from-scratch DINOv2-style ViT slice encoder (the registry's small MSTs'), optionally with registers. */
export interface TinyVitOptions extends SmallVit {
  /** Register tokens (Table 3's "DINOv2 Registers"; default 0). */
  registers?: number;
}

/**
 * The demo's encoder (`mst-ts train --arch mst-dinov2-tiny-conv`): 64-d, 2 blocks, 4 heads, a
 * one-convolution stem (32 channels, stride 2), then 4x4 patches of its output — a 2x2 token
 * grid per 16x16 slice.
 */
export const TINY_VIT: Readonly<TinyVitOptions> = SMALL_VITS['mst-dinov2-tiny-conv'];

/** A from-scratch ViT slice encoder for one-channel `H x W` slices, built by the encoder registry. */
export function tinyVit(slice: number, seed: number, o: TinyVitOptions = TINY_VIT): SliceEncoder {
  return createEncoder('dinov2', smallVitOptions(o, slice, seed, o.registers ?? 0) as unknown as ComponentOptions);
}

/**
 * An MST with a tiny ViT encoder; `mst` sets the fusion, positional embedding, freezing, ...
 * 'linear' fusion gets the input's slice count.
 */
export function tinyMst(inputSize: Shape3, seed: number, mst: Partial<Omit<MedicalSliceTransformerOptions, 'encoder'>> = {}, vit: TinyVitOptions = TINY_VIT): MedicalSliceTransformer {
  return new MedicalSliceTransformer({
    encoder: tinyVit(inputSize[1], seed, vit),
    numClasses: 2,
    heads: vit.heads,
    numSlices: inputSize[0],
    seed: seed + 1,
    ...mst,
  });
}

/** Selects the knobs' backend (mst-ts's fast matmul kernels included on wasm). */
export async function useBackend(k: Knobs): Promise<string> {
  await setBackend(k.backend);
  return tf.getBackend();
}

/**
 * The learning rate of epoch `epoch` (1-based) of the knobs' `epochs`: linear warm-up below
 * `lr`, then constant or cosine decay to `0.01 * lr` at the last epoch (the schedule of
 * `mst-ts train --lr-schedule cosine --warmup n`).
 */
export function epochLr(lr: number, k: Pick<Knobs, 'warmupEpochs' | 'decay' | 'epochs'>, epoch: number): number {
  return scheduledLr(lr, { warmupEpochs: k.warmupEpochs, decay: k.decay }, epoch, k.epochs);
}

/**
 * Trains one variant on `data` through the library's training pipeline (`runTraining`, as
 * `mst-ts train`) and tests its best-validation weights. The caller disposes the returned model.
 */
export async function trainVariant(variant: Variant, data: TaskData, k: Knobs, log: (line: string) => void = console.log): Promise<VariantResult & { model: TrainableModel }> {
  const model = await variant.build(data.inputSize, k.seed);
  const lr = variant.lr ?? k.lr;
  try {
    const run = await runTraining({
      model,
      data: { ...data, preprocessing: { orientation: 'canonical', steps: [], channels: 1 }, classNames: ['0', '1'], description: variant.name },
      epochs: k.epochs,
      lr,
      lrSchedule: { warmupEpochs: k.warmupEpochs, decay: k.decay },
      batchSize: k.batchSize,
      patience: k.patience,
      seed: k.seed,
    });
    const { fit, test: predictions, seconds } = run;
    const curve = fit.history.map((r) => r.valAuc.toFixed(2)).join(' ');
    log(`${variant.name}: val AUC by epoch ${curve}; best epoch ${fit.bestEpoch}, test AUC ${predictions.auc.toFixed(3)} (${seconds.toFixed(0)} s)`);
    return {
      name: variant.name,
      paperRow: variant.paperRow ?? variant.name,
      parameters: model.numParameters(),
      trainableParameters: model.numParameters({ trainableOnly: true }),
      lr,
      history: fit.history,
      bestEpoch: fit.bestEpoch,
      bestValAuc: fit.bestAuc,
      predictions,
      seconds,
      model,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Options of {@link runAblation}. */
export interface RunAblationOptions {
  /** The paper's table, for the written table.md (with `knobs.outDir`). */
  paper?: PaperTable;
  /** Progress lines (default console.log: a notebook shows them under the cell). */
  log?: (line: string) => void;
}

/** Trains and tests every variant on the same data, one after another. */
export async function runAblation(title: string, variants: readonly Variant[], k: Knobs, options: RunAblationOptions = {}): Promise<AblationResult> {
  const log = options.log ?? console.log;
  if (variants.length === 0) throw new Error('runAblation: no variants');
  const started = Date.now();
  const backend = await useBackend(k);
  const data = taskData(k);
  log(
    `${title}: synthetic ${k.task} [${(k.crop ?? k.size).join('x')}], ${k.nTrain}/${k.nVal}/${k.nTest} cases, ${k.epochs} epochs, ` +
      `lr ${k.lr} (${k.warmupEpochs}-epoch warm-up, ${k.decay}), batch ${k.batchSize}, augment ${k.augment}, seed ${k.seed}, backend ${backend}`,
  );
  const rows: VariantResult[] = [];
  for (const v of variants) {
    const { model, ...row } = await trainVariant(v, data, k, log);
    model.dispose();
    rows.push(row);
  }
  const result: AblationResult = { title, knobs: { ...k }, rows, seconds: (Date.now() - started) / 1000 };
  if (k.outDir) await writeAblation(result, k.outDir, options.paper);
  return result;
}

/**
 * Positive-class probabilities of every case of `dataset` (the model in evaluation mode), for a
 * model that was loaded rather than trained here.
 */
export async function predictCases(model: TrainableModel, dataset: VolumeDataset, batchSize = 4): Promise<{ ids: string[]; labels: number[]; scores: number[] }> {
  model.eval();
  const ids: string[] = [];
  const labels: number[] = [];
  const scores: number[] = [];
  for (let start = 0; start < dataset.length; start += batchSize) {
    const samples = [];
    for (let i = start; i < Math.min(start + batchSize, dataset.length); i++) samples.push(await dataset.get(i));
    const voxels = samples[0].data.length;
    const batch = new Float32Array(samples.length * voxels);
    samples.forEach((s, i) => batch.set(s.data, i * voxels));
    const [d, h, w] = samples[0].shape;
    const x = tf.tensor4d(batch, [samples.length, d, h, w]);
    const probs = tf.tidy(() => tf.softmax(logitsOf(model.forward(x))));
    const p = (await probs.array()) as number[][];
    tf.dispose([x, probs]);
    samples.forEach((s, i) => {
      ids.push(s.id);
      labels.push(s.label);
      scores.push(p[i][1]);
    });
  }
  return { ids, labels, scores };
}

/** A table of the paper: its caption's name and, per row, the AUC ± std and P of each dataset column. */
export interface PaperTable {
  /** 'Table 2', 'Table 3', 'Table S1'. */
  table: string;
  /** Row name -> task -> the quoted cell, e.g. `'0.94±0.01 (P=0.34)'`. */
  rows: Record<string, Partial<Record<SyntheticTaskName, string>>>;
}

/** The paper's dataset column standing behind each synthetic task. */
export const PAPER_COLUMN: Readonly<Record<SyntheticTaskName, string>> = { breast: 'Breast MRI', chest: 'Chest CT', knee: 'Knee MRI' };

/** Table 2 of the paper (slice fusion, DINOv2 encoder), quoted. */
export const PAPER_TABLE2: PaperTable = {
  table: 'Table 2',
  rows: {
    Transformer: { breast: '0.94±0.01', chest: '0.95±0.01', knee: '0.85±0.04' },
    'Transformer (with AdPE)': { breast: '0.94±0.01 (P=0.34)', chest: '0.93±0.02 (P=0.17)', knee: '0.83±0.04 (P=0.41)' },
    'Linear Layer': { breast: '0.88±0.02 (P<0.001)', chest: '0.93±0.02 (P=0.26)', knee: '0.78±0.04 (P=0.07)' },
    Average: { breast: '0.91±0.02 (P=0.03)', chest: '0.92±0.02 (P=0.07)', knee: '0.82±0.04 (P=0.31)' },
  },
};

/** Table 3 of the paper (slice encoder), quoted. */
export const PAPER_TABLE3: PaperTable = {
  table: 'Table 3',
  rows: {
    'MST (DINOv2)': { breast: '0.94±0.01', chest: '0.95±0.01', knee: '0.85±0.04' },
    'MST (DINOv2 Base)': { breast: '0.93±0.02 (P=0.69)', chest: '0.93±0.02 (P=0.27)', knee: '0.83±0.04 (P=0.41)' },
    'MST (DINOv2 Registers)': { breast: '0.93±0.02 (P=0.41)', chest: '0.92±0.02 (P=0.02)', knee: '0.82±0.04 (P=0.31)' },
    'MST (DINOv2 Frozen)': { breast: '0.62±0.03 (P<0.001)', chest: '0.66±0.03 (P<0.001)', knee: '0.79±0.04 (P=0.14)' },
    'MST (ResNet)': { breast: '0.93±0.01 (P=0.55)', chest: '0.92±0.02 (P=0.01)', knee: '0.78±0.04 (P=0.07)' },
  },
};

/** Supplementary Table S1 of the paper (3D ResNet depth), quoted. */
export const PAPER_TABLE_S1: PaperTable = {
  table: 'Table S1',
  rows: {
    ResNet50: { breast: '0.91±0.02', chest: '0.92±0.02', knee: '0.69±0.05' },
    ResNet18: { breast: '0.91±0.02 (P=0.63)', chest: '0.91±0.02 (P=0.42)', knee: '0.63±0.05 (P=0.18)' },
    ResNet101: { breast: '0.90±0.02 (P=0.40)', chest: '0.92±0.02 (P=0.97)', knee: '0.70±0.05 (P=0.72)' },
  },
};

/** One row of the table, numbers included (also written to table.json). */
export interface TableRow {
  name: string;
  auc: number;
  aucStd: number;
  /** DeLong paired two-sided P against the first row (NaN for the first row). */
  p: number;
  parameters: number;
  trainableParameters: number;
  bestEpoch: number;
  paper: string;
}

/** AUC ± bootstrap std and DeLong P against the first row, for every variant. */
export function tableRows(result: AblationResult, paper?: PaperTable): TableRow[] {
  const k = result.knobs;
  const reference = result.rows[0].predictions;
  return result.rows.map((r, i) => {
    const { labels, scores } = r.predictions;
    const boot = bootstrapAuc(labels, scores, { replicates: k.replicates, seed: k.seed });
    const p = i === 0 ? NaN : delongTest(labels, reference.scores, scores).p;
    return {
      name: r.name,
      auc: r.predictions.auc,
      aucStd: boot.std,
      p,
      parameters: r.parameters,
      trainableParameters: r.trainableParameters,
      bestEpoch: r.bestEpoch,
      paper: paper?.rows[r.paperRow]?.[k.task] ?? '–',
    };
  });
}

function formatP(p: number): string {
  if (Number.isNaN(p)) return '';
  if (p < 0.001) return ' (P<0.001)';
  // Three decimals below 0.01, where two would print 'P=0.00'.
  return ` (P=${p.toFixed(p < 0.01 ? 3 : 2)})`;
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`;
}

/**
 * The ablation as a Markdown table in the paper's layout: AUC ± std (P against the first row)
 * on the synthetic task, the paper's quoted cell for the matching real dataset beside it, and a
 * footer with the protocol, seed and what the numbers can and cannot show.
 */
export function ablationMarkdown(result: AblationResult, paper?: PaperTable): string {
  const k = result.knobs;
  const rows = tableRows(result, paper);
  const column = `${PAPER_COLUMN[k.task]}, paper${paper ? ` (${paper.table})` : ''}`;
  const lines = [
    `**${result.title}** — synthetic ${k.task}, test AUC ± bootstrap std`,
    '',
    `| Variant | Ours: synthetic ${k.task} | ${column} | Parameters (trainable) | Best epoch |`,
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.auc.toFixed(2)}±${r.aucStd.toFixed(2)}${formatP(r.p)} | ${r.paper} | ${formatCount(r.parameters)} (${formatCount(r.trainableParameters)}) | ${r.bestEpoch} |`,
    ),
    '',
    `Ours: ${k.nTest} held-out synthetic cases, [${(k.crop ?? k.size).join('x')}] volumes, ${k.nTrain} training cases, ` +
      `at most ${k.epochs} epochs (best validation AUC kept), AdamW lr ${k.lr} with ${k.warmupEpochs}-epoch warm-up and ${k.decay} decay, ` +
      `batch ${k.batchSize}, ${k.augment === 'flip' ? 'random flips, ' : ''}seed ${k.seed}; std over ${k.replicates} ` +
      `bootstrap replicates; P: DeLong's paired test against "${rows[0].name}". Small models trained from scratch on ` +
      `synthetic data: differences within about two stds are noise, and the paper's MST rows rest on pretrained DINOv2 ` +
      `and real data, which no from-scratch run can show.`,
  ];
  if (paper) {
    lines.push('', `Paper: ${paper.table} of Müller-Franzes et al., Medical Slice Transformer, quoted as printed (AUC ± std, P against the first row; the caption says "mean accuracy", but the values are AUCs).`);
  }
  return lines.join('\n');
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** ROC curves of every variant on the test set, with bootstrap ± 1 std bands. */
export function rocFigure(result: AblationResult, size = 420): string {
  const k = result.knobs;
  const series = result.rows.map((r, i) =>
    rocSeries(r.predictions.labels, r.predictions.scores, { name: r.name, color: PALETTE[i % PALETTE.length], replicates: k.replicates, seed: k.seed }),
  );
  return rocFigureSvg(series, { size });
}

/** Validation AUC and training loss per epoch, one line per variant (SVG). */
export function learningCurves(result: AblationResult): string {
  const panelW = 300;
  const panelH = 200;
  const m = { left: 46, right: 12, top: 24, bottom: 36 };
  const epochs = Math.max(...result.rows.map((r) => r.history.length), 1);
  const x = (e: number): number => m.left + ((e - 1) / Math.max(epochs - 1, 1)) * (panelW - m.left - m.right);
  const panel = (offset: number, title: string, value: (r: EpochRecord) => number, range: [number, number]): string => {
    const [lo, hi] = range[1] > range[0] ? range : [range[0] - 0.5, range[0] + 0.5];
    const y = (v: number): number => m.top + (1 - (v - lo) / (hi - lo)) * (panelH - m.top - m.bottom);
    const lines = result.rows.map((r, i) => {
      const pts = r.history
        .filter((h) => Number.isFinite(value(h)))
        .map((h) => `${(offset + x(h.epoch)).toFixed(1)},${y(value(h)).toFixed(1)}`)
        .join(' ');
      return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2" points="${pts}"/>`;
    });
    const ticks = [lo, (lo + hi) / 2, hi].map(
      (v) => `<text x="${offset + m.left - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v.toFixed(2)}</text>`,
    );
    const xTicks = Array.from({ length: epochs }, (_, e) => e + 1)
      .filter((e) => epochs <= 10 || e % Math.ceil(epochs / 10) === 0 || e === 1)
      .map((e) => `<text x="${offset + x(e)}" y="${panelH - m.bottom + 14}" text-anchor="middle" font-size="10">${e}</text>`);
    return [
      `<rect x="${offset + m.left}" y="${m.top}" width="${panelW - m.left - m.right}" height="${panelH - m.top - m.bottom}" fill="none" stroke="#999"/>`,
      `<text x="${offset + panelW / 2}" y="16" text-anchor="middle" font-size="12">${title}</text>`,
      `<text x="${offset + panelW / 2}" y="${panelH - 6}" text-anchor="middle" font-size="10">epoch</text>`,
      ...ticks,
      ...xTicks,
      ...lines,
    ].join('');
  };
  const all = result.rows.flatMap((r) => r.history);
  const losses = all.map((h) => h.trainLoss).filter(Number.isFinite);
  const legend = result.rows
    .map((r, i) => `<rect x="${2 * panelW + 8}" y="${30 + i * 18}" width="12" height="3" fill="${PALETTE[i % PALETTE.length]}"/><text x="${2 * panelW + 24}" y="${35 + i * 18}" font-size="11">${escapeXml(r.name)}</text>`)
    .join('');
  const width = 2 * panelW + 190;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelH}" font-family="sans-serif">` +
    `<rect width="${width}" height="${panelH}" fill="white"/>` +
    panel(0, 'validation AUC', (h) => h.valAuc, [0, 1]) +
    panel(panelW, 'training loss', (h) => h.trainLoss, [Math.min(...losses, 0), Math.max(...losses, 0.7)]) +
    legend +
    '</svg>'
  );
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Something Jupyter shows richly: Deno's kernel calls `[Symbol.for('Jupyter.display')]`. */
export interface Displayable {
  [key: symbol]: () => Record<string, string>;
}

function displayable(bundle: Record<string, string>): Displayable {
  return { [Symbol.for('Jupyter.display')]: () => bundle };
}

/** Markdown shown as rendered text (plain text for other front ends). */
export function markdown(text: string): Displayable {
  return displayable({ 'text/markdown': text, 'text/plain': text });
}

/** An SVG figure. */
export function svg(text: string): Displayable {
  return displayable({ 'image/svg+xml': text, 'text/plain': '[SVG figure]' });
}

/**
 * PNG bytes (e.g. `montagePng`), shown `zoom` times larger with square pixels: the montages of
 * 32x32 slices are small at their own size.
 */
export function png(bytes: Uint8Array, zoom = 1): Displayable {
  const base64 = Buffer.from(bytes).toString('base64');
  const bundle: Record<string, string> = { 'image/png': base64, 'text/plain': '[PNG image]' };
  if (zoom !== 1) {
    const width = readPngWidth(bytes) * zoom;
    bundle['text/html'] = `<img src="data:image/png;base64,${base64}" width="${width}" style="image-rendering: pixelated"/>`;
  }
  return displayable(bundle);
}

// The IHDR chunk's width: bytes 16-19 of every PNG file, big-endian.
function readPngWidth(bytes: Uint8Array): number {
  return ((bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]) >>> 0;
}

/**
 * Writes what the issue asks of every run: `table.md`, `table.json`, `predictions.json` (every
 * test case of every variant), `roc.svg`, `learning_curves.svg` and `run.json` (knobs and seed).
 */
export async function writeAblation(result: AblationResult, dir: string, paper?: PaperTable): Promise<void> {
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  await fs.mkdir(dir, { recursive: true });
  const predictions = result.rows.map((r) => ({ name: r.name, ids: r.predictions.ids, labels: r.predictions.labels, scores: r.predictions.scores }));
  const files: Record<string, string> = {
    'table.md': `${ablationMarkdown(result, paper)}\n`,
    'table.json': `${JSON.stringify(tableRows(result, paper), null, 2)}\n`,
    'predictions.json': `${JSON.stringify(predictions)}\n`,
    'roc.svg': rocFigure(result),
    'learning_curves.svg': learningCurves(result),
    'run.json': `${JSON.stringify({ title: result.title, knobs: result.knobs, seconds: result.seconds, history: result.rows.map((r) => ({ name: r.name, lr: r.lr, history: r.history })) }, null, 2)}\n`,
  };
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(path.join(dir, name), text);
}
