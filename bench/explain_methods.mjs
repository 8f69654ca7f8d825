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
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { median } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const lib = await import(pathToFileURL(process.env.MST_BENCH_LIB ?? join(here, '..', 'dist', 'index.js')).href);
const needed = ['setBackend', 'createModel', 'explainVolume', 'disposeExplanation'];
const missing = needed.filter((k) => typeof lib[k] !== 'function');
if (missing.length) {
  console.log(`This build does not export ${missing.join(', ')}; nothing to measure.`);
  process.exit(0);
}
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 2);
const slices = Number(process.env.MST_BENCH_SLICES ?? 4);
const resShape = (process.env.MST_BENCH_RESNET_SHAPE ?? '32x112x112').split('x').map(Number);
const scorecamPasses = Number(process.env.MST_BENCH_SCORECAM ?? 32);
const only = process.env.MST_BENCH_ONLY ?? '';

async function seconds(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}
await lib.setBackend('wasm');
console.log(`${new Date().toISOString()}, node ${process.version}, backend ${tf.getBackend()}, ${repeats} timed runs (medians), forward and methods interleaved`);
console.log('| model | volume | method | forward passes made | seconds | forward s | forward-pass equivalents | numTensors leak |');
console.log('|---|---|---|---|---|---|---|---|');

async function rows(name, volume, forward, cases) {
  await forward();
  for (const c of cases) await c.run();
  const before = tf.memory().numTensors;
  const f = [];
  const t = cases.map(() => []);
  for (let i = 0; i < repeats; i++) {
    f.push(await seconds(forward));
    for (const [k, c] of cases.entries()) t[k].push(await seconds(c.run));
  }
  const leak = tf.memory().numTensors - before;
  const fm = median(f);
  for (const [k, c] of cases.entries()) {
    const m = median(t[k]);
    console.log(`| ${name} | [${volume.shape.join(', ')}] | ${c.label} | ${c.passes} | ${m.toFixed(2)} | ${fm.toFixed(2)} | ${(m / fm).toFixed(1)} | ${leak} |`);
  }
}

const explain = (model, volume, options) => async () => lib.disposeExplanation(await lib.explainVolume(model, volume, options));
const half = (shape) => shape.map((d) => Math.ceil(d / 2));

if (only !== 'resnet') {
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.randomNormal([slices, 224, 224], 0, 1, 'float32', 7);
  const forward = async () => {
    const batch = tf.expandDims(volume, 0);
    const { logits } = model.forward(batch);
    await logits.data();
    tf.dispose([batch, logits]);
  };
  const m = (label, passes, options) => ({ label, passes, run: explain(model, volume, { method: label, ...options }) });
  await rows('MST-DINOv2-S', volume, forward, [
    m('attention', '1', {}),
    m('rollout', '1', {}),
    m('transformer-attribution', '2 + 1 backward + LRP', {}),
    m('gradient-attention', '2 + 1 backward', {}),
    m('occlusion', '9', { window: half(volume.shape), batchSize: 2 }),
  ]);
  volume.dispose();
  model.dispose();
}
if (only !== 'mst') {
  const model = lib.createModel('resnet3d-18', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.randomNormal(resShape, 0, 1, 'float32', 7);
  const input = tf.reshape(volume, [1, ...resShape, 1]);
  const forward = async () => {
    const logits = model.forward(input);
    await logits.data();
    logits.dispose();
  };
  const m = (label, passes, options) => ({ label, passes, run: explain(model, volume, { method: label, ...options }) });
  await rows('ResNet3D-18', volume, forward, [
    ...['gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam'].map((k) => m(k, '1 + 1 backward', {})),
    m('eigencam', '1', {}),
    m('scorecam', `1 + ${scorecamPasses}`, { maxForwardPasses: scorecamPasses, batchSize: 4 }),
    m('occlusion', '9', { window: half(volume.shape), batchSize: 2 }),
  ]);
  tf.dispose([input, volume]);
  model.dispose();
}
