// ONNX benchmark (issue 8): MST-DINOv2-S inference on one 32x224x224 volume, mst-ts on its Node
// default backend (wasm with the native kernels on every core where they load, else one thread; and the slice encoder on a pool of MST_BENCH_WORKERS worker
// threads, default 2) against the same model exported with model.exportOnnx and run by
// onnxruntime-node (MST_BENCH_ORT_THREADS, default 2 intra-op threads), in one process. Prints
// the medians of MST_BENCH_REPEATS (default 3) timed runs after one warm-up each, their ratio, and
// the largest logit difference between the two runtimes. Needs `npm run build` first.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './cases/common.mjs';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel, nativeKernelsInfo } = await import(pathToFileURL(join(dist, 'index.js')).href);
let ort;
try {
  ort = await import('onnxruntime-node');
} catch {
  console.log('onnxruntime-node is not installed (ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm i onnxruntime-node): nothing to compare.');
  process.exit(0);
}

const repeats = Number(process.env.MST_BENCH_REPEATS ?? 3);
const threads = Number(process.env.MST_BENCH_ORT_THREADS ?? 2);
const [D, H, W] = [32, 224, 224];
const GFLOP = 392; // MST-DINOv2-S forward on 32x224x224

await setBackend('wasm');
const model = createModel('mst-dinov2-s', { numClasses: 2 }).eval();
const file = join(tmpdir(), `mst-bench-${process.pid}.onnx`);
let t0 = performance.now();
await model.exportOnnx(file, { imageSize: [H, W] });
const exportS = (performance.now() - t0) / 1000;
const sizeMiB = fs.statSync(file).size / 2 ** 20;
t0 = performance.now();
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const loadS = (performance.now() - t0) / 1000;
fs.rmSync(file);

const x = tf.randomNormal([1, D, H, W], 0, 1, 'float32', 1);
const data = await x.data();
const feeds = { volume: new ort.Tensor('float32', data, [1, D, H, W]) };

const tfjsTimes = [];
let tfjsLogits;
for (let r = 0; r <= repeats; r++) {
  const start = performance.now();
  const logits = model.forward(x).logits;
  tfjsLogits = await logits.data();
  logits.dispose();
  if (r > 0) tfjsTimes.push((performance.now() - start) / 1000);
}
const { SliceEncoderPool, predictWithPool } = await import(pathToFileURL(join(dist, 'parallel', 'index.js')).href);
const workers = Number(process.env.MST_BENCH_WORKERS ?? 2);
const pool = await SliceEncoderPool.create(model.encoder, { workers });
const volume = tf.reshape(x, [D, H, W]);
const poolTimes = [];
let poolLogits;
for (let r = 0; r <= repeats; r++) {
  const start = performance.now();
  poolLogits = (await predictWithPool(model, pool, volume)).logits;
  if (r > 0) poolTimes.push((performance.now() - start) / 1000);
}
await pool.dispose();
volume.dispose();
const ortTimes = [];
let ortLogits;
for (let r = 0; r <= repeats; r++) {
  const start = performance.now();
  ortLogits = (await session.run(feeds)).logits.data;
  if (r > 0) ortTimes.push((performance.now() - start) / 1000);
}
await session.release();
x.dispose();
model.dispose();

const diff = Math.max(...Array.from(tfjsLogits, (v, i) => Math.abs(v - ortLogits[i])), ...poolLogits.map((v, i) => Math.abs(v - ortLogits[i])));
const [a, b, c] = [median(tfjsTimes), median(ortTimes), median(poolTimes)];
console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log(`export ${exportS.toFixed(1)} s (${sizeMiB.toFixed(1)} MiB .onnx), onnxruntime session load ${loadS.toFixed(1)} s; max |logit difference| ${diff.toExponential(1)}`);
console.log('| MST-DINOv2-S, 1x32x224x224 | median s | runs s | GFLOP/s |');
console.log('|---|---|---|---|');
const native = nativeKernelsInfo();
const inProcess = native ? `native ${native.isa} kernels on ${native.threads} threads` : '1 thread';
console.log(`| mst-ts (tfjs ${tf.version.tfjs}, wasm, ${inProcess}) | ${a.toFixed(2)} | ${tfjsTimes.map((t) => t.toFixed(2)).join(', ')} | ${(GFLOP / a).toFixed(1)} |`);
console.log(`| mst-ts, slice encoder on ${workers} worker threads | ${c.toFixed(2)} | ${poolTimes.map((t) => t.toFixed(2)).join(', ')} | ${(GFLOP / c).toFixed(1)} |`);
console.log(`| onnxruntime-node ${ort.env?.versions?.common ?? ''} (${threads} threads) | ${b.toFixed(2)} | ${ortTimes.map((t) => t.toFixed(2)).join(', ')} | ${(GFLOP / b).toFixed(1)} |`);
console.log(`ratio mst-ts / onnxruntime: ${(a / b).toFixed(2)} (${inProcess}), ${(c / b).toFixed(2)} (${workers} workers)`);
