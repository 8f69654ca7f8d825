// mst-ts side of bench/speed.mjs: one case per process so peak RSS belongs to that case.
// usage: node bench/cases/speed_case.mjs CASE REPEATS   (same cases and shapes as bench_torch.py)
import * as tf from '@tensorflow/tfjs';
import { setBackend, createModel, AdamW, crossEntropy, resnet3d50 } from '../../dist/index.js';

const [caseName, repeatsText] = process.argv.slice(2);
const repeats = Number(repeatsText ?? 3);
await setBackend(process.env.MST_BENCH_BACKEND ?? 'wasm');
const [D, H, W] = [32, 224, 224];
const model = caseName.startsWith('mst') ? createModel('mst-dinov2-s', { numClasses: 2 }) : resnet3d50({ numClasses: 2, conv1TStride: [1, 2, 2] });
const train = caseName.endsWith('train');
const batch = train ? 2 : 1;
const x = tf.randomNormal([batch, D, H, W, 1], 0, 1, 'float32', 1);
const times = [];
if (train) {
  model.train();
  const opt = new AdamW(model.namedParameters(), { lr: 1e-5 });
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x).logits, [0, 1]), opt.variables());
    opt.step(grads);
    await value.data();
    tf.dispose([value, grads]);
    times.push((performance.now() - t0) / 1000);
  }
} else {
  model.eval();
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const out = tf.tidy(() => model.forward(x).logits);
    await out.data();
    out.dispose();
    times.push((performance.now() - t0) / 1000);
  }
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ case: caseName, times: times.slice(1), peakRssMiB, backend: tf.getBackend() }));
