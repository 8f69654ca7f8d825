// The 3D ResNet's data movement on the wasm backend: the same ResNet3D-50 forward with mst-ts's
// native depth-tap and max-pool kernels (native/depth_taps.c, native/max_pool.c; MST_R3D_KERNELS
// picks: taps, pool or taps,pool, the default) and with them unregistered (tfjs-wasm's Pad, Slice,
// Concat and Maximum), alternating in one process, so load affects both alike. Prints medians and ratio.
// usage: npm run build && node bench/r3d_conv.mjs [SLICES] [SIZE] [REPEATS]   (defaults 16 112 3; MST_DIST)
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './cases/common.mjs';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', process.env.MST_DIST ?? 'dist');
const { setBackend, resnet3d50, logitsOf } = await import(pathToFileURL(join(dist, 'index.js')).href);
const [D, S, R] = [Number(process.argv[2] ?? 16), Number(process.argv[3] ?? 112), Number(process.argv[4] ?? 3)];
await setBackend('wasm');
const model = resnet3d50({ numClasses: 2, conv1TStride: [1, 2, 2] }).eval();
const x = tf.randomNormal([1, D, S, S, 1], 0, 1, 'float32', 1);
const groups = { taps: ['MstDepthTaps', 'MstDepthTapsGrad'], pool: ['MstMaxPool3D', 'MstMaxPool3DGrad'] };
const picked = (process.env.MST_R3D_KERNELS ?? 'taps,pool').split(',');
const kernels = picked.flatMap((g) => groups[g] ?? []).map((name) => tf.getKernel(name, 'wasm'));
if (kernels.some((k) => !k)) throw new Error('the native kernels are not registered: rebuild (npm run build)');
const setNative = (on) => {
  for (const k of kernels) {
    const present = tf.getKernel(k.kernelName, 'wasm');
    if (on && !present) tf.registerKernel(k);
    if (!on && present) tf.unregisterKernel(k.kernelName, 'wasm');
  }
};
const forward = async () => {
  const t0 = performance.now();
  const y = tf.tidy(() => logitsOf(model.forward(x)));
  const v = await y.data();
  y.dispose();
  return { s: (performance.now() - t0) / 1000, v };
};
console.log(`ResNet3D-50 forward 1x${D}x${S}x${S}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const times = { native: [], stock: [] };
let maxDiff = 0;
setNative(true);
await forward();
for (let r = 0; r < R; r++) {
  setNative(true);
  const a = await forward();
  setNative(false);
  const b = await forward();
  times.native.push(a.s);
  times.stock.push(b.s);
  maxDiff = Math.max(maxDiff, ...a.v.map((v, i) => Math.abs(v - b.v[i])));
}
setNative(true);
const [n, s] = [median(times.native), median(times.stock)];
console.log(`native ${picked.join('+')} ${n.toFixed(2)} s, tfjs ops ${s.toFixed(2)} s: ${(s / n).toFixed(2)}x; logits max |diff| ${maxDiff.toExponential(1)}; load ${loadavg()[0].toFixed(1)}`);
