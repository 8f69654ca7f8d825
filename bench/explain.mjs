// Issue 4's explanation benchmark (after `npm run build`): the cost of an explanation against a
// plain forward of the same model on the same volume, on the default Node backend (wasm).
// - MST-DINOv2-S: explainVolume (attention from the same pass, the paper's map, upsampled to the
//   volume) vs forward without attention. Target <= 1.5x.
// - 3D ResNet-18: Grad-CAM and Grad-CAM++ at layer4 (forward to layer4, tail with gradients,
//   upsampled) vs forward. Target <= 3.5x.
// Env: MST_BENCH_REPEATS (timed runs after one warm-up, default 3), MST_BENCH_SLICES (MST slices,
// default 8, 224 px), MST_BENCH_RESNET_SHAPE (default 32x112x112), MST_BENCH_ONLY (mst or resnet),
// MST_BENCH_LIB (library module, default ../dist/index.js).
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
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 3);
const slices = Number(process.env.MST_BENCH_SLICES ?? 8);
const resShape = (process.env.MST_BENCH_RESNET_SHAPE ?? '32x112x112').split('x').map(Number);
const only = process.env.MST_BENCH_ONLY ?? '';

async function seconds(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}
await lib.setBackend('wasm');
console.log(`${new Date().toISOString()}, node ${process.version}, backend ${tf.getBackend()}, ${repeats} timed runs (medians), forward and explanations interleaved`);
console.log('| model | volume | forward s | explanation | explanation s | ratio | target | numTensors leak |');
console.log('|---|---|---|---|---|---|---|---|');

// Forward and explanations alternate within each repeat, so load drift on a shared machine
// affects both sides of a ratio alike.
async function row(name, volume, forward, cases, target) {
  await forward(); // warm-up: kernels, caches
  for (const [, run] of cases) await run();
  const before = tf.memory().numTensors;
  const f = [];
  const e = cases.map(() => []);
  for (let i = 0; i < repeats; i++) {
    f.push(await seconds(forward));
    for (const [k, [, run]] of cases.entries()) e[k].push(await seconds(run));
  }
  const leak = tf.memory().numTensors - before;
  const fm = median(f);
  for (const [k, [label]] of cases.entries()) {
    const em = median(e[k]);
    console.log(`| ${name} | [${volume.shape.join(', ')}] | ${fm.toFixed(2)} | ${label} | ${em.toFixed(2)} | ${(em / fm).toFixed(2)}x | <= ${target}x | ${leak} |`);
  }
}

if (only !== 'resnet') {
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.randomNormal([slices, 224, 224], 0, 1, 'float32', 7);
  const forward = async () => {
    const batch = tf.expandDims(volume, 0);
    const { logits } = model.forward(batch);
    await logits.data();
    tf.dispose([batch, logits]);
  };
  const explain = (options) => async () => lib.disposeExplanation(await lib.explainVolume(model, volume, options));
  await row('MST-DINOv2-S', volume, forward, [['attention', explain({ method: 'attention' })], ['rollout', explain({ method: 'rollout' })]], 1.5);
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
  const explain = (method) => async () => lib.disposeExplanation(await lib.explainVolume(model, volume, { method }));
  await row('ResNet3D-18', volume, forward, [['gradcam', explain('gradcam')], ['gradcam++', explain('gradcam++')]], 3.5);
  tf.dispose([input, volume]);
  model.dispose();
}
