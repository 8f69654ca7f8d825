import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend';
import { disposeExplanation, explainVolume } from '../explain/explain_volume';
import { montagePng, sliceAttentionBarChart, type MontageRow } from '../explain/montage';
import { writeFileAtomic } from '../io/files';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { formatDuration } from '../train/progress';
import { UsageError, type CliCommand } from './command';
import { checkBackendFlag, parseCommandArgs } from './args';
import { formatTestResult, trainFromConfig, type TrainRunConfig, type TrainRunResult } from './train';

/**
 * The demo's run: an MST whose slice encoder is a 2-block, 64-d ViT behind a one-convolution stem
 * (`mst-dinov2-tiny-conv`), trained from scratch on the synthetic chest task. Volumes are generated
 * at 16x64x64 and centre-cropped to 8x16x16, the nodule-centred crop of the paper's chest data
 * made tight: the nodule and its margin, where the benign/malignant signs (spicules, lobulation)
 * are, with 4x4-pixel patches so that each token sees a few voxels of margin, and a convolution
 * stem whose local edge detectors a small ViT's linear patch embedding does not learn from a few
 * hundred cases. Random flips on every axis (the nodule's signs have no orientation), a one-epoch
 * warm-up and cosine decay (lr 1e-3: training from scratch; the paper's 1e-6 is for fine-tuning
 * pretrained DINOv2), difficulty 0.25 (at 0.5 the task is beyond a from-scratch model in
 * minutes). The configurations tried and their validation AUCs are in bench/RESULTS.md.
 */
export const DEMO_CONFIG: Readonly<TrainRunConfig> = {
  task: 'chest',
  arch: 'mst-dinov2-tiny-conv',
  epochs: 20,
  seed: 0,
  outDir: 'runs/demo',
  lr: 1e-3,
  lrSchedule: { warmupEpochs: 1, decay: 'cosine' },
  batchSize: 8,
  accumulationSteps: 1,
  patience: 50,
  size: [16, 64, 64],
  crop: [8, 16, 16],
  nTrain: 300,
  nVal: 200,
  nTest: 200,
  difficulty: 0.25,
  resume: false,
  replicates: 1000,
  zNormalize: true,
  augment: 'flip',
  progress: true,
};

/** Nearest-neighbour zoom that shows each slice about 128 pixels wide (the crops are 16 voxels). */
function montageZoom(width: number): number {
  return Math.max(1, Math.round(128 / width));
}

/**
 * How long `mst-ts demo` takes, the one figure the README, `demo --help` and `mst-ts --help` give
 * (training and testing with the defaults, on one core: the wasm backend is single-threaded in
 * Node; bench/RESULTS.md has the measurement).
 */
export const DEMO_RUNNING_TIME = 'about 2 minutes of one CPU core';

const USAGE = `Usage: mst-ts demo [options]

Trains a small Medical Slice Transformer (a 2-block, 64-d ViT slice encoder behind a convolution
stem, trained from scratch)
on the embedded synthetic chest-CT task (benign smooth vs malignant spiculated or lobulated
nodules), reports the held-out test AUC ± bootstrap std with its 95% DeLong interval, and writes
attention saliency maps (slice attention x plane attention) of a few test cases as PNGs. Takes
${DEMO_RUNNING_TIME}.

Options:
  --out <dir>        output folder (default runs/demo): checkpoints, log.jsonl, summary.json,
                     test_predictions.csv, saliency/*.png
  --seed <n>         seed of data, order and weights (default 0)
  --epochs <n>       epochs (default ${DEMO_CONFIG.epochs})
  --cases <n>        saliency maps for this many test cases (default 4)
  --backend <name>   tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --json             print the summary as JSON on stdout
  -h, --help         this text`;

/** Writes a montage (input, slice attention, saliency) and a slice-attention bar chart per case. */
export async function writeSaliencyPngs(result: TrainRunResult, outDir: string, count: number): Promise<string[]> {
  const path = await import('node:path');
  const fs = await import('node:fs/promises');
  const model = result.model;
  if (!(model instanceof MedicalSliceTransformer) || count === 0) return [];
  const dir = path.join(outDir, 'saliency');
  await fs.mkdir(dir, { recursive: true });
  const { predictions } = result;
  // The most confident malignant and benign cases, alternating.
  const order = predictions.scores.map((s, i) => i);
  const pos = order.filter((i) => predictions.labels[i] === 1).sort((a, b) => predictions.scores[b] - predictions.scores[a]);
  const neg = order.filter((i) => predictions.labels[i] === 0).sort((a, b) => predictions.scores[a] - predictions.scores[b]);
  const picks: number[] = [];
  for (let k = 0; picks.length < Math.min(count, predictions.labels.length); k++) {
    if (k < pos.length) picks.push(pos[k]);
    if (k < neg.length && picks.length < count) picks.push(neg[k]);
    if (k >= pos.length && k >= neg.length) break;
  }
  const files: string[] = [];
  for (const index of picks) {
    const sample = await result.test.get(index);
    const volume = tf.tensor3d(sample.data, sample.shape);
    const e = await explainVolume(model, volume, { method: 'attention' });
    try {
      const sal = (await (e.saliencyUpsampled as tf.Tensor).data()) as Float32Array;
      const slice = e.sliceAttention ? await e.sliceAttention.data() : undefined;
      const rows: MontageRow[] = [];
      if (slice) rows.push({ map: slice, clip: null });
      rows.push({ map: { data: sal, shape: sample.shape } });
      const label = sample.label === 1 ? 'malignant' : 'benign';
      const base = path.join(dir, `${sample.id}_${label}_p${predictions.scores[index].toFixed(2)}`);
      await writeFileAtomic(`${base}_montage.png`, montagePng({ data: sample.data, shape: sample.shape }, rows, { colormap: 'jet', alpha: 0.5, zoom: montageZoom(sample.shape[2]) }));
      files.push(`${base}_montage.png`);
      if (slice) {
        await writeFileAtomic(`${base}_slices.png`, sliceAttentionBarChart(slice));
        files.push(`${base}_slices.png`);
      }
    } finally {
      disposeExplanation(e);
      volume.dispose();
    }
  }
  return files;
}

async function run(argv: string[]): Promise<number> {
  const values: Record<string, string | boolean | undefined> = parseCommandArgs('demo', USAGE, {
    args: argv,
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      cases: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  }).values;
  const int = (name: string, fallback: number, min: number): number => {
    const v = values[name] as string | undefined;
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`demo: --${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  const config: TrainRunConfig = {
    ...DEMO_CONFIG,
    outDir: (values.out as string | undefined) ?? DEMO_CONFIG.outDir,
    seed: int('seed', DEMO_CONFIG.seed, 0),
    epochs: int('epochs', DEMO_CONFIG.epochs, 1),
  };
  const cases = int('cases', 4, 0);
  checkBackendFlag('demo', values.backend as string | undefined);
  // wasm unless asked: named explicitly, because training on the pure-JS cpu backend is ~40x slower.
  await setBackend((values.backend as string | undefined) ?? 'wasm');
  const started = Date.now();
  const print = (line: string): void => void process.stderr.write(`${line}\n`);
  const result = await trainFromConfig(config, print);
  try {
    const files = await writeSaliencyPngs(result, config.outDir, cases);
    const s = result.summary;
    const total = (Date.now() - started) / 1000;
    if (values.json) process.stdout.write(`${JSON.stringify({ ...s, saliency: files, totalSeconds: total })}\n`);
    else {
      process.stdout.write(
        [
          '',
          `MST demo: synthetic chest CT, benign vs malignant nodules (${s.test.n} held-out cases)`,
          `best epoch ${s.bestEpoch} of ${s.epochsRun} (validation AUC ${s.bestValAuc.toFixed(3)})`,
          formatTestResult(s),
          `saliency maps (slice attention x plane attention): ${files.length ? files.join(', ') : 'none'}`,
          `outputs in ${config.outDir}/; total ${formatDuration(total)}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    result.model.dispose();
  }
  return 0;
}

/** `mst-ts demo`: the README's first command. */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: `train a small MST on the synthetic chest task (${DEMO_RUNNING_TIME}): test AUC with CI, saliency PNGs`,
  usage: USAGE,
  run,
};
