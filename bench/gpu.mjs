// `npm run bench:gpu`: MST-DINOv2-S on WebGPU through Dawn (the `webgpu` package, Vulkan on Linux)
// on the machine's GPU: inference on one volume and a training step (batch 2, AdamW, plain tape),
// each timed after a first run that compiles the shaders; the logits checked against wasm on the
// same weights and volume, and the gradients of a small step too. Writes the figures as a Markdown
// table to stdout and as JSON to MST_GPU_OUT (default runs/bench-gpu-<time>.json). Without a GPU,
// Dawn runs on Mesa's lavapipe (a CPU Vulkan, ~2 GFLOP/s): use small sizes there
// (`MST_GPU_SLICES=2 MST_GPU_SIZE=56 npm run bench:gpu`), a correctness check only.
// Env: MST_GPU_SLICES (32), MST_GPU_SIZE (224, a multiple of 14), MST_GPU_BATCH (2),
// MST_GPU_REPEATS (3 timed runs), MST_GPU_WASM_CHECK=0 skips the wasm comparison,
// MST_DIST (build folder, default dist).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { median } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const lib = await import(pathToFileURL(join(root, process.env.MST_DIST ?? 'dist', 'index.js')).href);
const D = Number(process.env.MST_GPU_SLICES ?? 32);
const S = Number(process.env.MST_GPU_SIZE ?? 224);
const B = Number(process.env.MST_GPU_BATCH ?? 2);
const repeats = Number(process.env.MST_GPU_REPEATS ?? 3);
const wasmCheck = process.env.MST_GPU_WASM_CHECK !== '0';
if (!(S > 0 && S % 14 === 0)) throw new Error(`MST_GPU_SIZE must be a positive multiple of 14, got ${process.env.MST_GPU_SIZE}`);
const started = performance.now();

// MST-DINOv2-S forward FLOPs: the 12 blocks' linear layers (21.23M weights, 2 FLOP each per
// token), attention's two products, the patch embedding; a training step is ~3 forwards per volume.
const tokens = 1 + (S / 14) ** 2;
const forwardGflop = (D * (2 * tokens * 21.23e6 + 12 * 4 * tokens * tokens * 384 + 2 * (tokens - 1) * 588 * 384)) / 1e9;
const stepGflop = 3 * B * forwardGflop;

const voxels = (n, seed) => {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
};
const volumeData = voxels(D * S * S, 1);
const batchData = voxels(B * D * S * S, 2);
const labels = Array.from({ length: B }, (_, i) => i % 2);
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const seconds = async (fn) => {
  const t = performance.now();
  const out = await fn();
  return [(performance.now() - t) / 1000, out];
};

/** Inference: first (compiles) and timed predictions; logits. */
async function inference(backend) {
  await lib.setBackend(backend);
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.tensor3d(volumeData, [D, S, S]);
  const [first, pred] = await seconds(() => model.predict(volume));
  const runs = [];
  for (let r = 0; r < (backend === 'webgpu' ? repeats : 0); r++) runs.push((await seconds(() => model.predict(volume)))[0]);
  volume.dispose();
  model.dispose();
  return { first, runs, logits: pred.logits };
}

/** One AdamW step on `data` [b, d, s, s]: the loss and (when `names`) some gradients, read back. */
async function trainStep(model, opt, data, shape, names) {
  const x = tf.tensor5d(data, [...shape, 1]);
  const { value, grads } = lib.leanVariableGrads(() => lib.crossEntropy(lib.logitsOf(model.forward(x)), labels.slice(0, shape[0])), opt.variables());
  const picked = {};
  for (const [n, v] of names ? model.namedParameters().filter(([k]) => names.includes(k)) : []) picked[n] = Array.from(await grads[v.name].data());
  opt.step(grads);
  const loss = (await value.data())[0];
  tf.dispose([x, value, grads]);
  return { loss, grads: picked };
}

/** Training: first (compiles) and timed steps of batch B; peak GPU bytes where the backend says. */
async function training() {
  await lib.setBackend('webgpu');
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).train();
  const opt = new lib.AdamW(model.namedParameters(), { lr: 1e-5 });
  const [first] = await seconds(() => trainStep(model, opt, batchData, [B, D, S, S]));
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push((await seconds(() => trainStep(model, opt, batchData, [B, D, S, S])))[0]);
  const memory = tf.memory();
  model.dispose();
  opt.dispose?.();
  return { first, runs, gpuMiB: (memory.numBytesInGPUAllocated ?? memory.numBytesInGPU ?? memory.numBytes) / 2 ** 20 };
}

/** A small step (one volume of 2 slices at 56 px) on a backend: loss and a few gradients. */
const CHECKED = ['encoder.blocks.0.attn.qkv.weight', 'encoder.blocks.11.mlp.fc2.weight', 'encoder.norm.weight', 'linear.weight'];
async function smallStep(backend) {
  await lib.setBackend(backend);
  const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).train();
  const opt = new lib.AdamW(model.namedParameters(), { lr: 1e-5 });
  const r = await trainStep(model, opt, voxels(2 * 56 * 56, 3), [1, 2, 56, 56], CHECKED);
  model.dispose();
  opt.dispose?.();
  return r;
}

let adapter = '';
// wasm first: its Node module fails to start after Dawn has run in the process.
const reference = wasmCheck ? { inference: await inference('wasm'), smallStep: await smallStep('wasm') } : null;
const out = { date: new Date().toISOString(), node: process.version, cpu: `${cpus()[0]?.model ?? '?'} x${cpus().length}`, load: loadavg(), slices: D, size: S, batch: B, forwardGflop, stepGflop };
try {
  await lib.setBackend('webgpu');
  const a = await globalThis.navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const info = a?.info ?? {};
  adapter = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
} catch (err) {
  console.log(`WebGPU is not available here: ${err.message}`);
  process.exit(1);
}
out.adapter = adapter;
out.inference = await inference('webgpu');
out.training = await training();
if (reference) {
  out.wasmInference = reference.inference;
  out.smallStep = { webgpu: await smallStep('webgpu'), wasm: reference.smallStep };
}

const med = (r) => (r.runs.length ? median(r.runs) : r.first);
console.log(`${out.date}, node ${out.node}, ${out.cpu}; WebGPU adapter: ${adapter}`);
console.log(`MST-DINOv2-S (random weights, seed 1): inference on [${D}, ${S}, ${S}] (${forwardGflop.toPrecision(3)} GFLOP), training step batch ${B} AdamW (${stepGflop.toPrecision(3)} GFLOP); median of ${repeats} after a first run`);
console.log('| webgpu | first s (shaders) | median s | GFLOP/s |');
console.log('|---|---|---|---|');
console.log(`| inference | ${out.inference.first.toFixed(2)} | ${med(out.inference).toFixed(3)} | ${(forwardGflop / med(out.inference)).toPrecision(3)} |`);
console.log(`| training step | ${out.training.first.toFixed(2)} | ${med(out.training).toFixed(3)} | ${(stepGflop / med(out.training)).toPrecision(3)} |`);
if (wasmCheck) {
  out.check = {
    logits: maxAbs(out.inference.logits, out.wasmInference.logits),
    loss: Math.abs(out.smallStep.webgpu.loss - out.smallStep.wasm.loss),
    grads: Object.fromEntries(
      CHECKED.map((k) => {
        const g = out.smallStep.wasm.grads[k];
        return [k, maxAbs(out.smallStep.webgpu.grads[k], g) / Math.max(1e-30, g.reduce((m, v) => Math.max(m, Math.abs(v)), 0))];
      }),
    ),
  };
  console.log(`wasm check: logits ${out.inference.logits.map((v) => v.toFixed(5)).join(', ')} (webgpu) vs ${out.wasmInference.logits.map((v) => v.toFixed(5)).join(', ')} (wasm), max |diff| ${out.check.logits.toExponential(2)}; small step loss diff ${out.check.loss.toExponential(2)}, gradients max relative diff ${Math.max(...Object.values(out.check.grads)).toExponential(2)}`);
  if (!(out.check.logits < 1e-3 && out.check.loss < 1e-4 && Math.max(...Object.values(out.check.grads)) < 1e-3)) {
    console.log('MISMATCH: webgpu and wasm disagree beyond 1e-3');
    process.exitCode = 1;
  }
}
out.totalSeconds = (performance.now() - started) / 1000;
const file = process.env.MST_GPU_OUT ?? join(root, 'runs', `bench-gpu-${out.date.replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(out, null, 1));
console.log(`total ${out.totalSeconds.toFixed(0)} s; figures written to ${file}`);
process.exit(process.exitCode ?? 0);
