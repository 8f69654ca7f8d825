import * as path from 'node:path';
import type { Shape3 } from '../data/sample';
import type { CalibratedTask } from '../data/synthetic/difficulty';
import { DinoVisionTransformer } from '../models/dinov2';
import { fromPretrained } from '../models/from_pretrained';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import type { VolumeClassifier } from '../models/registry';
import { pretrainEncoder, type PretrainEpochRecord } from '../pretrain/pretrain_encoder';
import { syntheticPretrainData } from '../pretrain/synthetic_source';
import { mstRecipe, type ModelRecipe, type MstRecipeOptions } from './models';
import { reproduceContext, type ReproduceContext, type ReproduceOptions } from './context';

/** The DINO-pretrained slice encoder of a reproduction: where it is and what its pretraining gave. */
export interface DinoPretraining {
  /** `encoder.safetensors` (DINOv2 hub names, with its config). */
  file: string;
  /** The pretraining folder (log, loss curve, checkpoint). */
  dir: string;
  epochs: number;
  /** Unlabelled slices and volumes pretrained on. */
  slices: number;
  volumes: number;
  /** k-NN accuracy per task on held-out labelled slices: the random encoder and the pretrained one. */
  knn: Record<string, { random: number; pretrained: number }>;
  /** CPU seconds of the training epochs (0 when the cached encoder was reused). */
  cpuSeconds: number;
  /** Whether this call reused an encoder pretrained earlier. */
  cached: boolean;
  collapse: string | null;
}

const ALL_TASKS: CalibratedTask[] = ['breast', 'chest', 'knee'];
const running = new Map<string, Promise<DinoPretraining>>();

/** The pretraining folder of a reproduction: beside its output folder, one per scale, seed and epoch count. */
export function dinoPretrainingDir(options: ReproduceOptions): string {
  const ctx = reproduceContext(options);
  const epochs = options.pretrainEpochs !== undefined && options.pretrainEpochs !== ctx.scale.pretrain?.epochs ? `-e${options.pretrainEpochs}` : '';
  return options.pretrainDir ?? path.join(path.dirname(path.resolve(ctx.out)), 'pretrain', `${ctx.scale.name}-seed${ctx.seed}${epochs}`);
}

/**
 * Whether a reproduction pretrains its DINOv2 stand-in: at a scale with a pretraining recipe
 * (quick, tiny), unless pretrained DINOv2 weights were given or `pretrain` is false.
 */
export function usesDinoPretraining(options: ReproduceOptions): boolean {
  const ctx = reproduceContext(options);
  return options.pretrain !== false && !!ctx.scale.pretrain && !ctx.weights.small;
}

/**
 * The DINOv2-S stand-in pretrained with DINO (`pretrainEncoder`) on the unlabelled slices of the
 * three synthetic tasks at this scale (cases from 1,000,000 on, never a reproduction's train,
 * validation or test case), once per scale and seed: a later call, in this process or another,
 * reuses `encoder.safetensors` when the folder's log shows the recipe's last epoch, and an
 * interrupted pretraining resumes. Null when the reproduction does not pretrain
 * ({@link usesDinoPretraining}).
 *
 * @example
 * const dino = await dinoPretraining({ out: 'reproduce/table3' }); // reproduce/pretrain/quick-seed0/encoder.safetensors
 */
export async function dinoPretraining(options: ReproduceOptions): Promise<DinoPretraining | null> {
  if (!usesDinoPretraining(options)) return null;
  const dir = dinoPretrainingDir(options);
  let job = running.get(dir);
  if (!job) {
    const e = options.pretrainEpochs;
    if (e !== undefined && !(Number.isInteger(e) && e >= 1)) throw new Error(`reproduce: pretrainEpochs must be a positive integer, got ${e}`);
    job = pretrainOnce(reproduceContext(options), dir, e);
    running.set(dir, job);
    job.catch(() => running.delete(dir));
  }
  return job;
}

async function pretrainOnce(ctx: ReproduceContext, dir: string, epochs?: number): Promise<DinoPretraining> {
  const fs = await import('node:fs/promises');
  const recipe = { ...ctx.scale.pretrain!, ...(epochs !== undefined ? { epochs } : {}) };
  const vit = ctx.scale.dinov2Small!;
  const file = path.join(dir, 'encoder.safetensors');
  const summaryFile = path.join(dir, 'pretraining.json');
  const done = await fs
    .readFile(summaryFile, 'utf8')
    .then((t) => JSON.parse(t) as DinoPretraining)
    .catch(() => null);
  if (done && done.epochs === recipe.epochs && (await fs.access(file).then(() => true, () => false))) {
    ctx.print(`pretraining: reusing the DINO-pretrained encoder ${file}`);
    return { ...done, file, dir, cpuSeconds: 0, cached: true };
  }
  const geometries = ALL_TASKS.map((task) => ({ task, size: ctx.scale.syntheticSize[task], crop: ctx.scale.syntheticCrop[task] }));
  ctx.print(`pretraining: DINO on ${recipe.volumes} unlabelled volumes per synthetic task, ${recipe.epochs} epochs of ${recipe.imagesPerEpoch} slices, into ${dir}`);
  const difficulty = Object.fromEntries(ALL_TASKS.map((t) => [t, ctx.scale.syntheticDifficulty?.[t] ?? ctx.scale.difficulty]));
  const data = await syntheticPretrainData({ geometries, seed: ctx.seed, difficulty, volumes: recipe.volumes, probeVolumes: recipe.probeVolumes });
  const side = Math.max(...data.pool.sizes[0]);
  const result = await pretrainEncoder({
    ...recipe,
    encoder: { embedDim: vit.embedDim, depth: vit.depth, numHeads: vit.heads, patchSize: vit.patchSize, imgSize: side, inChannels: 1, convStem: vit.convStem, seed: ctx.seed },
    data: data.pool,
    probes: data.probes,
    seed: ctx.seed,
    outDir: dir,
    resume: true,
    print: (l) => ctx.print(`pretraining: ${l}`),
  });
  result.encoder.dispose();
  const first = result.history[0];
  const last = result.history[result.history.length - 1] as PretrainEpochRecord;
  const knn: DinoPretraining['knn'] = {};
  for (const name of Object.keys(last.knn)) knn[name] = { random: first.knn[name]?.accuracy ?? NaN, pretrained: last.knn[name].accuracy };
  const out: DinoPretraining = {
    file,
    dir,
    epochs: last.epoch,
    slices: data.pool.slices,
    volumes: data.pool.volumes,
    knn,
    cpuSeconds: result.history.reduce((a, h) => a + (h.epoch > 0 ? h.cpuSeconds : 0), 0),
    cached: false,
    collapse: result.collapse,
  };
  await fs.writeFile(summaryFile, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

/**
 * An MST row whose DINOv2-S stand-in starts from the DINO-pretrained encoder (fine-tuned, or
 * frozen with `freezeEncoder`), trained with the same protocol and learning rate as the
 * from-scratch rows; otherwise exactly {@link mstRecipe}'s row.
 */
export function dinoMstRecipe(ctx: ReproduceContext, dino: DinoPretraining, options: MstRecipeOptions): ModelRecipe {
  const base = mstRecipe(ctx.scale, {}, options);
  const v = ctx.scale.dinov2Small!;
  const fusion = options.fusion ?? 'transformer';
  return {
    ...base,
    description: base.description.replace(/^MST: from-scratch /, `MST: DINO-pretrained (${dino.file}, ${dino.epochs} epochs on ${dino.slices} unlabelled slices) `),
    async build(inputSize: Shape3, seed: number): Promise<VolumeClassifier> {
      const encoder = await fromPretrained(dino.file, { arch: 'dinov2' });
      if (!(encoder instanceof DinoVisionTransformer)) {
        encoder.dispose();
        throw new Error(`'${dino.file}' is not a DINOv2 encoder`);
      }
      return new MedicalSliceTransformer({
        encoder,
        numClasses: 2,
        sliceFusion: fusion,
        positionalEmbedding: options.positionalEmbedding ?? 'none',
        freezeEncoder: options.freezeEncoder ?? false,
        numSlices: fusion === 'linear' ? inputSize[0] : undefined,
        heads: v.heads,
        seed: seed + 1,
      });
    },
  };
}

/** The footer line of a table whose MST rows start from the DINO-pretrained encoder. */
export function dinoFooter(dino: DinoPretraining): string {
  const knn = Object.entries(dino.knn)
    .map(([t, k]) => `${t} ${(100 * k.random).toFixed(1)}% -> ${(100 * k.pretrained).toFixed(1)}%`)
    .join(', ');
  return (
    `**DINO pretraining** (\`mst-ts pretrain\`, cached in \`${dino.dir}\`): the DINOv2-S stand-in was pretrained without labels on ${dino.slices} slices of ${dino.volumes} synthetic volumes ` +
    `of the three tasks (cases disjoint from every training, validation and test case), ${dino.epochs} epochs; k-NN accuracy of its class token on held-out labelled slices, random -> pretrained: ${knn}` +
    `${dino.collapse ? `; the pretraining collapsed (${dino.collapse})` : ''}. Rows marked DINO-pretrained start from it; the others are trained from scratch.`
  );
}
