import type { Shape3 } from '../data/sample';
import type { VolumeDataset } from '../data/dataset';
import { syntheticTrainingData, type TrainingData } from '../data/training_data';
import type { VolumeClassifier } from '../models/registry';
import { TerminalProgress } from '../train/progress';
import { runTraining } from '../train/training_run';
import { auc } from '../stats/auc';
import { bootstrapAuc } from '../stats/bootstrap';
import { delongTest } from '../stats/delong';
import { slug } from './report';
import { dinov2PatchSize, learningRate, type EncoderWeights, type ModelRecipe } from './models';
import { realDatasets } from './real_data';
import { TASKS, type ReproduceTask } from './tasks';
import { cpuSecondsSince, type ModelRun, type ReproduceContext } from './context';

/** The paper's fine-tuning rate for a pretrained DINOv2 (1e-6), used whenever weights are given. */
export const PRETRAINED_DINOV2_LR = 1e-6;

/** A trained model with its run; the caller disposes `model`. */
export interface TrainedModel {
  run: ModelRun;
  model: VolumeClassifier;
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


/**
 * The synthetic task's sets exactly as `mst-ts train` builds them (`syntheticTrainingData`): one
 * seeded generator, train / validation / test as disjoint consecutive case ranges, the task's
 * preprocessing, the centre crop, z-normalisation and the training augmentation. Built once per
 * reproduction and shared by every row (generation costs a third of a quick row's CPU time, and
 * the rows must see the same cases anyway).
 */
export function syntheticDatasets(ctx: ReproduceContext, task: ReproduceTask): TrainingData {
  const hit = ctx.datasets.get(task);
  if (hit) return hit;
  const name = TASKS[task].synthetic;
  if (!name) throw new Error(`syntheticDatasets: '${task}' is not a synthetic task`);
  const s = ctx.scale;
  const { size, crop } = syntheticGeometry(ctx, task);
  const sets = syntheticTrainingData({
    task: name,
    seed: ctx.seed,
    size,
    crop,
    difficulty: s.difficulty,
    nTrain: s.nTrain,
    nVal: s.nVal,
    nTest: s.nTest,
    zNormalize: s.zNormalize,
    augment: s.augment,
  });
  ctx.datasets.set(task, sets);
  return sets;
}

/**
 * Trains one row's model on one task with the scale's protocol through the one training pipeline
 * (`runTraining`, as `mst-ts train`) and predicts its test set: AdamW with the paper's weight
 * decay, validation AUC every epoch, early stopping, the best epoch's weights tested. Every row
 * of a table sees the same cases in the same order (the synthetic sets are shared, the real ones
 * split by the same seed), so the P values are paired. Writes the row's `log.jsonl` and model
 * bundle under `out/train/<task>/<row>/`. The caller disposes `model`.
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
  try {
    const r = await runTraining({
      model,
      data: sets,
      arch: recipe.name,
      outDir: runFolder(ctx, task, recipe.name),
      epochs: s.epochs,
      lr,
      lrSchedule: s.lrSchedule ?? undefined,
      batchSize: s.batchSize,
      patience: s.patience,
      seed: ctx.seed,
      samplesPerEpoch: s.weightedSampling ? sets.train.length : undefined,
      progress: ctx.progress ? new TerminalProgress(process.stderr) : undefined,
      print: (m) => ctx.print(`  ${m}`),
    });
    const p = r.test;
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
        epochsRun: r.fit.history.length,
        bestEpoch: r.fit.bestEpoch,
        bestValAuc: r.fit.bestAuc,
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
  /** Two-sided paired DeLong P against the reference row (absent on the reference row); Holm-adjusted in the tables. */
  p?: number;
  /** The P before the tables' Holm adjustment over the rows compared with the reference. */
  pUnadjusted?: number;
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
