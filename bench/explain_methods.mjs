// Issue 21's benchmark (after `npm run build`): the cost of every explanation method in forward-
// pass equivalents (its seconds over one plain forward of the same model on the same volume), on
// the default Node backend (wasm), with the forward passes a method makes by construction.
// - MST-DINOv2-S on MST_BENCH_SLICES slices of 224 px: attention, rollout, transformer-attribution,
//   gradient-attention, occlusion.
// - 3D ResNet-18 on MST_BENCH_RESNET_SHAPE: gradcam, gradcam++, hirescam, layercam, xgradcam,
//   eigencam, scorecam (at most MST_BENCH_SCORECAM masked passes), occlusion.
// Occlusion uses boxes of half of each axis (8 boxes, 9 passes); the costs of both it and
// Score-CAM grow with their pass counts. Forward and methods alternate within each repeat.
// Env: MST_BENCH_REPEATS (timed runs after one warm-up, default 2), MST_BENCH_SLICES (default 4),
// MST_BENCH_RESNET_SHAPE (default 32x112x112), MST_BENCH_SCORECAM (default 32), MST_BENCH_ONLY
// (mst or resnet), MST_BENCH_LIB (library module, default ../dist/index.js).
import * as tf from '@tensorflow/tfjs';
import { explainCase, loadExplainLib, timeAgainstForward } from './cases/explain_case.mjs';

const lib = await loadExplainLib();
if (!lib) process.exit(0);
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 2);
const slices = Number(process.env.MST_BENCH_SLICES ?? 4);
const shape = (process.env.MST_BENCH_RESNET_SHAPE ?? '32x112x112').split('x').map(Number);
const scorecamPasses = Number(process.env.MST_BENCH_SCORECAM ?? 32);
const only = process.env.MST_BENCH_ONLY ?? '';

console.log(`${new Date().toISOString()}, node ${process.version}, backend ${tf.getBackend()}, ${repeats} timed runs (medians), forward and methods interleaved`);
console.log('| model | volume | method | forward passes made | seconds | forward s | forward-pass equivalents | numTensors leak |');
console.log('|---|---|---|---|---|---|---|---|');

const half = (shape) => shape.map((d) => Math.ceil(d / 2));

// methods: [method, forward passes it makes, options] per row.
async function rows(kind, methods) {
  const c = explainCase(lib, kind, { slices, shape });
  const t = await timeAgainstForward(c.forward, methods.map(([method, , options]) => c.explain({ method, ...options(c.volume) })), repeats);
  for (const [k, [label, passes]] of methods.entries()) {
    console.log(`| ${c.name} | [${c.volume.shape.join(', ')}] | ${label} | ${passes} | ${t.runs[k].toFixed(2)} | ${t.forward.toFixed(2)} | ${(t.runs[k] / t.forward).toFixed(1)} | ${t.leak} |`);
  }
  c.dispose();
}

const none = () => ({});
const occlusion = ['occlusion', '9', (volume) => ({ window: half(volume.shape), batchSize: 2 })];
if (only !== 'resnet') {
  await rows('mst', [
    ['attention', '1', none],
    ['rollout', '1', none],
    ['transformer-attribution', '2 + 1 backward + LRP', none],
    ['gradient-attention', '2 + 1 backward', none],
    occlusion,
  ]);
}
if (only !== 'mst') {
  await rows('resnet', [
    ...['gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam'].map((k) => [k, '1 + 1 backward', none]),
    ['eigencam', '1', none],
    ['scorecam', `1 + ${scorecamPasses}`, () => ({ maxForwardPasses: scorecamPasses, batchSize: 4 })],
    occlusion,
  ]);
}
