// Where the time of MST-DINOv2-S (or, with MST_PROFILE_MODEL=r3d50, the 3D ResNet-50 of
// bench/speed.mjs, batch 1, conv1 stride [1, 2, 2]) goes on the default backend: tf.profile per
// kernel name, for the forward (inference) and for a training step (forward + backward).
// usage: npm run build && node bench/profile.mjs [SLICES] [SIZE]   (defaults 4 224; MST_DIST: build folder)
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel, crossEntropy, resnet3d50, logitsOf, leanVariableGrads } = await import(pathToFileURL(join(dist, 'index.js')).href);
const [D, S] = [Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 224)];
await setBackend(process.env.MST_BENCH_BACKEND ?? 'wasm');
const r3d = process.env.MST_PROFILE_MODEL === 'r3d50';
const model = r3d ? resnet3d50({ numClasses: 2, conv1TStride: [1, 2, 2] }) : createModel('mst-dinov2-s', { numClasses: 2 });
const x = tf.randomNormal([1, D, S, S, 1], 0, 1, 'float32', 1);
console.log(`${r3d ? 'ResNet3D-50' : 'MST-DINOv2-S'}, backend ${tf.getBackend()}, ${D} slices of ${S}x${S}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

async function report(label, f) {
  f(); // warm-up
  const t0 = performance.now();
  const info = await tf.profile(f);
  const wall = performance.now() - t0;
  const byKernel = new Map();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`\n${label}: wall ${(wall / 1000).toFixed(2)} s (profiled), kernels ${(total / 1000).toFixed(2)} s`);
  console.log('| kernel | calls | seconds | share |');
  console.log('|---|---|---|---|');
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`| ${name} | ${e.calls} | ${(e.ms / 1000).toFixed(2)} | ${((100 * e.ms) / total).toFixed(1)}% |`);
  }
}

model.eval();
await report('forward', () => tf.tidy(() => logitsOf(model.forward(x))));
if (process.env.MST_PROFILE_TRAIN !== '0') {
  model.train();
  await report('training step (forward + backward)', () => {
    const { value, grads } = leanVariableGrads(() => crossEntropy(logitsOf(model.forward(x)), [1]));
    tf.dispose([value, grads]);
  });
}
