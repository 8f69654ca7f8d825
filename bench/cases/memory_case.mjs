// One training step of MST-DINOv2-S (batch 1, AdamW) in its own process, for bench/memory.mjs.
// usage: node bench/cases/memory_case.mjs MODE SLICES SIZE [CHUNK]
//   MODE 'plain' (tf.variableGrads of the whole forward) or 'checkpointed' (checkpointedGradients).
import * as tf from '@tensorflow/tfjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// MST_DIST names another build folder (default dist).
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel, AdamW, crossEntropy, checkpointedGradients } = await import(pathToFileURL(join(dist, 'index.js')).href);

const [mode, slicesText, sizeText, chunkText] = process.argv.slice(2);
const [D, S, chunkSize] = [Number(slicesText), Number(sizeText), Number(chunkText ?? 16)];
await setBackend('wasm');
const model = createModel('mst-dinov2-s', { numClasses: 2 });
model.train();
const opt = new AdamW(model.namedParameters(), { lr: 1e-5 });
const x = tf.randomNormal([1, D, S, S, 1], 0, 1, 'float32', 1);
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const { loss, grads } =
  mode === 'plain'
    ? (({ value, grads: g }) => ({ loss: value, grads: g }))(tf.variableGrads(() => crossEntropy(model.forward(x).logits, [1]), opt.variables()))
    : checkpointedGradients(model, x, [1], { chunkSize, varList: opt.variables() });
opt.step(grads);
const lossValue = (await loss.data())[0];
tf.dispose([loss, grads]);
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    mode, slices: D, size: S, chunkSize, seconds, loss: lossValue,
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    // wasm linear memory only grows, so its size is the step's peak heap.
    wasmHeapMiB: tf.backend().wasm.HEAPU8.length / 2 ** 20,
  }),
);
