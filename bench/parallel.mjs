// Speed-up of MST-DINOv2-S inference with the slice encoder in a SliceEncoderPool (worker_threads,
// one wasm backend each) at 1 and 2 workers, against model.predict on the main thread, one process.
// usage: npm run build && node bench/parallel.mjs [SLICES] [SIZE] [REPEATS]   (defaults 32 224 1)
// MST_DIST names another build folder (default dist).
import * as tf from '@tensorflow/tfjs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { SliceEncoderPool, predictWithPool } = await import(pathToFileURL(join(dist, 'parallel', 'index.js')).href);
const [D, S, repeats] = [Number(process.argv[2] ?? 32), Number(process.argv[3] ?? 224), Number(process.argv[4] ?? 1)];
await setBackend('wasm');
const model = createModel('mst-dinov2-s', { numClasses: 2 });
model.eval();
const volume = tf.randomNormal([D, S, S], 0, 1, 'float32', 1);
const warm = tf.randomNormal([2, S, S], 0, 1, 'float32', 2);
async function time(label, f) {
  await f(warm);
  const times = [];
  let out;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    out = await f(volume);
    times.push((performance.now() - t0) / 1000);
  }
  return { label, seconds: median(times), logits: out.logits };
}
console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log(`MST-DINOv2-S inference, one ${D}x${S}x${S} volume, median of ${repeats}`);
const rows = [await time('main thread (model.predict)', (v) => model.predict(v))];
for (const workers of [1, 2]) {
  const pool = await SliceEncoderPool.create(model.encoder, { workers });
  rows.push(await time(`pool, ${workers} worker${workers > 1 ? 's' : ''}`, (v) => predictWithPool(model, pool, v)));
  await pool.dispose();
}
console.log('| runner | seconds | speed-up vs main thread | max |logit diff| |');
console.log('|---|---|---|---|');
for (const r of rows) {
  const diff = Math.max(...r.logits.map((l, i) => Math.abs(l - rows[0].logits[i])));
  console.log(`| ${r.label} | ${r.seconds.toFixed(2)} | ${(rows[0].seconds / r.seconds).toFixed(2)}x | ${diff.toExponential(1)} |`);
}
