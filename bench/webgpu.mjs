// Issue 8's WebGPU record (after `npm run build`): MST-DINOv2-S inference on one small volume on
// the webgpu backend (Dawn through the `webgpu` package in Node) against wasm in the same process,
// with the same weights and volume: seconds per prediction and the largest logit and saliency
// differences. Without a GPU, Dawn runs on Mesa's lavapipe (CPU Vulkan, ~2 GFLOP/s): a
// correctness record there, a speed one on a real GPU.
// Env: MST_BENCH_SLICES (default 4), MST_BENCH_SIZE (slice side in px, a multiple of 14, default
// 112), MST_BENCH_REPEATS (timed runs after the first, default 2), MST_BENCH_LIB (library module,
// default ../dist/index.js).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { median } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const lib = await import(pathToFileURL(process.env.MST_BENCH_LIB ?? join(here, '..', 'dist', 'index.js')).href);
const slices = Number(process.env.MST_BENCH_SLICES ?? 4);
const size = Number(process.env.MST_BENCH_SIZE ?? 112);
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 2);
if (!(size > 0 && size % 14 === 0)) throw new Error(`MST_BENCH_SIZE must be a positive multiple of 14, got ${process.env.MST_BENCH_SIZE}`);

const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// One volume for both backends, drawn once and uploaded to each.
await lib.setBackend('wasm');
const voxels = tf.tidy(() => tf.randomNormal([slices, size, size], 0, 1, 'float32', 7).dataSync());

async function measure(backend) {
  await lib.setBackend(backend);
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.tensor3d(voxels, [slices, size, size]);
  const time = async (fn) => {
    const t = performance.now();
    const out = await fn();
    return [(performance.now() - t) / 1000, out];
  };
  // The first run compiles the backend's kernels (shaders on webgpu), so it is reported apart.
  const [first, pred] = await time(() => model.predict(volume));
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push((await time(() => model.predict(volume)))[0]);
  const [explainS, e] = await time(() => lib.explainVolume(model, volume, { method: 'attention' }));
  const saliency = Array.from(await e.saliencyUpsampled.data());
  lib.disposeExplanation(e);
  volume.dispose();
  model.dispose();
  return { backend, first, median: runs.length ? median(runs) : first, explainS, logits: pred.logits, saliency };
}

const wasm = await measure('wasm');
let gpu;
let adapter = '';
try {
  gpu = await measure('webgpu');
  const info = (await globalThis.navigator.gpu.requestAdapter()).info;
  adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ');
} catch (err) {
  console.log(`webgpu: not measured: ${err.message}`);
}

// MST-DINOv2-S forward: ~2 FLOP per encoder weight (22M) per token, tokens = slices x (1 + (size/14)^2).
const gflop = (2 * 22.06e6 * slices * (1 + (size / 14) ** 2)) / 1e9;
console.log(`${new Date().toISOString()}, node ${process.version}, MST-DINOv2-S (random weights, seed 1), volume [${slices}, ${size}, ${size}], ~${gflop.toFixed(1)} GFLOP per forward, ${repeats} timed runs (median) after the first`);
if (adapter) console.log(`WebGPU adapter: ${adapter}`);
console.log('| backend | first predict s | predict s | GFLOP/s | attention explanation s | logits |');
console.log('|---|---|---|---|---|---|');
for (const r of [wasm, gpu].filter(Boolean)) {
  console.log(`| ${r.backend} | ${r.first.toFixed(2)} | ${r.median.toFixed(2)} | ${(gflop / r.median).toFixed(1)} | ${r.explainS.toFixed(2)} | ${r.logits.map((v) => v.toFixed(5)).join(', ')} |`);
}
if (gpu) {
  console.log(`max |webgpu - wasm|: logits ${maxAbs(gpu.logits, wasm.logits).toExponential(2)}, upsampled attention saliency ${maxAbs(gpu.saliency, wasm.saliency).toExponential(2)} (max ${Math.max(...wasm.saliency).toExponential(2)})`);
}
