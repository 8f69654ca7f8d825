import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend';
import type { VolumeDataset } from '../data/dataset';
import { manifestDataset, manifestSplits, readManifest } from '../data/manifest';
import { subset } from '../data/dataset';
import type { CalibratedTask } from '../data/synthetic/difficulty';
import { ZNormalize } from '../data/transforms/intensity';
import { writeFileAtomic } from '../io/files';
import { dinov2Config, type DinoVisionTransformerOptions } from '../models/dinov2';
import { SMALL_VITS } from '../models/registry';
import { labelledSlices, type KnnProbeSet } from '../pretrain/knn_probe';
import { pretrainEncoder, type DinoRecipe, type PretrainEpochRecord } from '../pretrain/pretrain_encoder';
import { QUICK_DINO_RECIPE, TINY_DINO_RECIPE, type SyntheticPretrainRecipe } from '../pretrain/quick_recipe';
import { slicePool, type SlicePool } from '../pretrain/slice_pool';
import { syntheticPretrainData, type SyntheticGeometry } from '../pretrain/synthetic_source';
import { scaleConfig } from '../reproduce/scales';
import { TerminalProgress } from '../train/progress';
import { Rng } from '../utils/rng';
import { parseCommandArgs } from './args';
import { UsageError, type CliCommand } from './command';

const SYNTHETIC: Record<string, CalibratedTask[]> = {
  'synthetic-all': ['breast', 'chest', 'knee'],
  'synthetic-breast': ['breast'],
  'synthetic-chest': ['chest'],
  'synthetic-knee': ['knee'],
};

const HUB = { 'dinov2-vits14': 'vits14', 'dinov2-vitb14': 'vitb14' } as const;

const USAGE = `Usage: mst-ts pretrain [options]

Self-supervised pretraining of a ViT slice encoder with DINO (student and EMA teacher, multi-crop
views of unlabelled 2D slices, centring and sharpening, DINO's temperature, momentum, learning-rate
and weight-decay schedules; optionally DINOv2's KoLeo and iBOT's masked-patch losses). Writes to
--out: encoder.safetensors + encoder.json (the teacher backbone in DINOv2's hub names, rewritten
every epoch: fromPretrained, --encoder-weights of mst-ts reproduce and the model bundle read it as
they read the official weights), last.safetensors (resumable checkpoint), log.jsonl (one line per
epoch: losses, teacher entropy, feature std, k-NN accuracy per task, collapse warnings), loss.csv
(one line per step), loss_curve.svg and summary.json. Epoch 0 of the log is the random encoder.

Options:
  --task <name>          synthetic-all (default: the breast, chest and knee generators' anatomy) |
                         synthetic-breast | synthetic-chest | synthetic-knee; labels are never read
                         for training, only by the k-NN probe on held-out labelled slices
  --manifest <file>      pretrain on the volumes of a manifest (CSV: id,path,label[,mask][,split]) instead:
                         its training split is the unlabelled pool, the k-NN probe remembers the
                         training split's slices and classifies the validation split's
  --arch <name>          encoder: ${[...Object.keys(SMALL_VITS).map((a) => `${a} (its ViT)`), ...Object.keys(HUB)].join(', ')}
                         (default mst-dinov2-tiny-conv)
  --scale <s>            quick (default) or tiny (seconds, for tests): the recipe and, for the synthetic
                         tasks, the volumes and crops of mst-ts reproduce at that scale
  --epochs <n>           epochs (quick: ${QUICK_DINO_RECIPE.epochs})
  --images-per-epoch <n> slices per epoch (quick: ${QUICK_DINO_RECIPE.imagesPerEpoch})
  --batch-size <n>       slices per step (quick: ${QUICK_DINO_RECIPE.batchSize})
  --lr <x>               peak learning rate (quick: ${QUICK_DINO_RECIPE.lr})
  --local-crops <n>      local crops per slice (quick: ${QUICK_DINO_RECIPE.crops?.localCrops})
  --global-size <n>      side of the global crops in pixels (default: each slice's own side, so views keep
                         the slices' scale)
  --local-size <n>       side of the local crops (default: half the global side)
  --out-dim <n>          prototypes of the DINO head (quick: ${QUICK_DINO_RECIPE.head?.outDim})
  --koleo <w>            weight of DINOv2's KoLeo regulariser (quick: ${QUICK_DINO_RECIPE.koleoWeight ?? 0}; DINOv2: 0.1)
  --ibot <w>             weight of iBOT's masked-patch loss (quick: ${QUICK_DINO_RECIPE.ibotWeight ?? 0}; DINOv2: 1)
  --volumes <n>          unlabelled volumes per synthetic task, or at most this many manifest volumes
                         (quick: ${QUICK_DINO_RECIPE.volumes})
  --probe-volumes <n>    labelled volumes per task on each side of the k-NN probe (quick: ${QUICK_DINO_RECIPE.probeVolumes})
  --difficulty <x>       synthetic difficulty in [0, 1] (default: the scale's, per task)
  --seed <n>             seed of the data, the initial weights, the crops and the masks (default 0)
  --out <dir>            output folder (default enc)
  --resume               continue from <out>/last.safetensors if present
  --backend <name>       tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --json                 print the summary as JSON on stdout
  -h, --help             this text`;

/** Parsed `pretrain` arguments. */
export interface PretrainArgs {
  task: string;
  manifest?: string;
  arch: string;
  scale: 'quick' | 'tiny';
  recipe: SyntheticPretrainRecipe;
  difficulty?: number;
  seed: number;
  out: string;
  resume: boolean;
  backend?: string;
  json: boolean;
}

function intFlag(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`pretrain: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function numFlag(name: string, v: string | undefined, ok: (n: number) => boolean, expect: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`pretrain: --${name} must be ${expect}, got '${v}'`);
  return n;
}

/** Parses `pretrain`'s flags (exported for tests). */
export function parsePretrainArgs(argv: string[]): PretrainArgs {
  const { values } = parseCommandArgs('pretrain', USAGE, {
    args: argv,
    options: {
      task: { type: 'string' },
      manifest: { type: 'string' },
      arch: { type: 'string' },
      scale: { type: 'string' },
      epochs: { type: 'string' },
      'images-per-epoch': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'local-crops': { type: 'string' },
      'global-size': { type: 'string' },
      'local-size': { type: 'string' },
      'out-dim': { type: 'string' },
      koleo: { type: 'string' },
      ibot: { type: 'string' },
      volumes: { type: 'string' },
      'probe-volumes': { type: 'string' },
      difficulty: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const s = (k: string): string | undefined => values[k as keyof typeof values] as string | undefined;
  const manifest = s('manifest');
  const task = s('task') ?? 'synthetic-all';
  if (manifest && s('task')) throw new UsageError('pretrain: give --task or --manifest, not both');
  if (!manifest && !(task in SYNTHETIC)) throw new UsageError(`pretrain: unknown --task '${task}'; expected one of ${Object.keys(SYNTHETIC).join(', ')}`);
  const arch = s('arch') ?? 'mst-dinov2-tiny-conv';
  if (!(arch in SMALL_VITS) && !(arch in HUB)) throw new UsageError(`pretrain: unknown --arch '${arch}'; expected one of ${[...Object.keys(SMALL_VITS), ...Object.keys(HUB)].join(', ')}`);
  const scale = s('scale') ?? 'quick';
  if (scale !== 'quick' && scale !== 'tiny') throw new UsageError(`pretrain: --scale must be quick or tiny, got '${scale}'`);
  const base = scale === 'tiny' ? TINY_DINO_RECIPE : QUICK_DINO_RECIPE;
  const crops = {
    ...base.crops,
    localCrops: intFlag('local-crops', s('local-crops'), 0) ?? base.crops?.localCrops,
    globalSize: intFlag('global-size', s('global-size')) ?? base.crops?.globalSize,
    localSize: intFlag('local-size', s('local-size')) ?? base.crops?.localSize,
  };
  const recipe: SyntheticPretrainRecipe = {
    ...base,
    crops,
    head: { ...base.head, outDim: intFlag('out-dim', s('out-dim'), 2) ?? base.head?.outDim ?? 65536 },
    epochs: intFlag('epochs', s('epochs')) ?? base.epochs,
    imagesPerEpoch: intFlag('images-per-epoch', s('images-per-epoch')) ?? base.imagesPerEpoch,
    batchSize: intFlag('batch-size', s('batch-size'), 2) ?? base.batchSize,
    lr: numFlag('lr', s('lr'), (n) => n > 0, 'a positive number') ?? base.lr,
    koleoWeight: numFlag('koleo', s('koleo'), (n) => n >= 0, 'a non-negative number') ?? base.koleoWeight,
    ibotWeight: numFlag('ibot', s('ibot'), (n) => n >= 0, 'a non-negative number') ?? base.ibotWeight,
    volumes: intFlag('volumes', s('volumes')) ?? base.volumes,
    probeVolumes: intFlag('probe-volumes', s('probe-volumes'), 0) ?? base.probeVolumes,
  };
  return {
    task,
    manifest,
    arch,
    scale,
    recipe,
    difficulty: numFlag('difficulty', s('difficulty'), (n) => n >= 0 && n <= 1, 'a number in [0, 1]'),
    seed: intFlag('seed', s('seed'), 0) ?? 0,
    out: s('out') ?? 'enc',
    resume: values.resume === true,
    backend: s('backend'),
    json: values.json === true,
  };
}

/** The encoder `arch` names, its positional embedding built for `imgSize`-pixel slices, on gray slices. */
export function pretrainEncoderOptions(arch: string, imgSize: number): DinoVisionTransformerOptions {
  const small = SMALL_VITS[arch];
  if (small) return { embedDim: small.embedDim, depth: small.depth, numHeads: small.heads, patchSize: small.patchSize, imgSize, inChannels: 1, convStem: small.convStem };
  const hub = HUB[arch as keyof typeof HUB];
  if (!hub) throw new UsageError(`pretrain: unknown --arch '${arch}'`);
  return dinov2Config(hub, { imgSize });
}

/** The synthetic tasks' volumes and crops at a reproduction scale. */
export function pretrainGeometries(tasks: CalibratedTask[], scale: 'quick' | 'tiny'): SyntheticGeometry[] {
  const sc = scaleConfig(scale);
  return tasks.map((task) => ({ task, size: sc.syntheticSize[task], crop: sc.syntheticCrop[task] }));
}

async function manifestData(file: string, args: PretrainArgs): Promise<{ pool: SlicePool; probes: KnnProbeSet[] }> {
  const m = await readManifest(file);
  const split = manifestSplits(m, args.seed);
  const ds = manifestDataset(m, { transform: new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }) });
  const pick = (indices: number[], n: number): VolumeDataset => subset(ds, new Rng(args.seed).shuffle(indices).slice(0, n));
  const pool = await slicePool([pick(split.train, args.recipe.volumes)]);
  const probes: KnnProbeSet[] = [];
  if (args.recipe.probeVolumes > 0 && split.val.length > 0) {
    probes.push({ name: 'manifest', train: await labelledSlices(pick(split.train, args.recipe.probeVolumes)), test: await labelledSlices(pick(split.val, args.recipe.probeVolumes)) });
  }
  return { pool, probes };
}

/** What `mst-ts pretrain` prints with --json and writes to summary.json. */
export interface PretrainSummary {
  task: string;
  arch: string;
  seed: number;
  epochs: number;
  encoder: string;
  /** k-NN accuracy per probe: the random encoder (epoch 0) and the pretrained one (last epoch). */
  knn: Record<string, { random: number; pretrained: number }>;
  collapse: string | null;
  /** CPU seconds of the whole command (data generation included) and of the training epochs alone. */
  cpuSeconds: number;
  trainingCpuSeconds: number;
  seconds: number;
}

async function run(argv: string[]): Promise<number> {
  const args = parsePretrainArgs(argv);
  await setBackend(args.backend ?? 'wasm');
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const print = (line: string): void => void process.stderr.write(`${line}\n`);
  const r = args.recipe;
  let data: { pool: SlicePool; probes: KnnProbeSet[] };
  if (args.manifest) {
    data = await manifestData(args.manifest, args);
  } else {
    const sc = scaleConfig(args.scale);
    const difficulty = args.difficulty ?? Object.fromEntries(SYNTHETIC[args.task].map((t) => [t, sc.syntheticDifficulty?.[t] ?? sc.difficulty]));
    data = await syntheticPretrainData({ geometries: pretrainGeometries(SYNTHETIC[args.task], args.scale), seed: args.seed, difficulty, volumes: r.volumes, probeVolumes: r.probeVolumes });
  }
  print(`pretrain: ${args.arch} on ${args.manifest ?? args.task}: ${data.pool.slices} slices of ${data.pool.volumes} volumes, ${r.epochs} epochs of ${r.imagesPerEpoch} slices, backend ${tf.getBackend()}`);
  const recipe: DinoRecipe = { ...r };
  const result = await pretrainEncoder({
    ...recipe,
    encoder: { ...pretrainEncoderOptions(args.arch, r.crops?.globalSize ?? Math.max(...data.pool.sizes[0])), seed: args.seed },
    data: data.pool,
    probes: data.probes,
    seed: args.seed,
    outDir: args.out,
    resume: args.resume,
    progress: new TerminalProgress(process.stderr),
    print,
  });
  result.encoder.dispose();
  const first = result.history[0];
  const last = result.history[result.history.length - 1] as PretrainEpochRecord;
  const knn: PretrainSummary['knn'] = {};
  for (const name of Object.keys(last.knn)) knn[name] = { random: first.knn[name]?.accuracy ?? NaN, pretrained: last.knn[name].accuracy };
  const d = process.cpuUsage(cpu0);
  const summary: PretrainSummary = {
    task: args.manifest ?? args.task,
    arch: args.arch,
    seed: args.seed,
    epochs: last.epoch,
    encoder: `${args.out}/encoder.safetensors`,
    knn,
    collapse: result.collapse,
    cpuSeconds: (d.user + d.system) / 1e6,
    trainingCpuSeconds: result.history.reduce((a, h) => a + (h.epoch > 0 ? h.cpuSeconds : 0), 0),
    seconds: (Date.now() - started) / 1000,
  };
  await writeFileAtomic(`${args.out}/summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const lines = Object.entries(knn).map(([n, v]) => `  ${n}: k-NN accuracy ${(100 * v.pretrained).toFixed(1)}% (random encoder ${(100 * v.random).toFixed(1)}%)`);
    process.stdout.write(
      `wrote ${summary.encoder} (+ encoder.json, last.safetensors, log.jsonl, loss.csv, loss_curve.svg, summary.json) after ${summary.epochs} epochs\n` +
        `${lines.join('\n')}${lines.length ? '\n' : ''}` +
        `${result.collapse ? `warning: the run collapsed: ${result.collapse}\n` : ''}` +
        `CPU ${summary.cpuSeconds.toFixed(0)} s (training ${summary.trainingCpuSeconds.toFixed(0)} s), wall ${summary.seconds.toFixed(0)} s\n`,
    );
  }
  return 0;
}

/** `mst-ts pretrain`: DINO self-supervised pretraining of a slice encoder. */
export const pretrainCommand: CliCommand = {
  name: 'pretrain',
  summary: 'self-supervised DINO pretraining of a ViT slice encoder on unlabelled slices (synthetic or a manifest)',
  usage: USAGE,
  run,
};
