// Issue 4's explanation benchmark (after `npm run build`): the cost of an explanation against a
// plain forward of the same model on the same volume, on the default Node backend (wasm).
// - MST-DINOv2-S: explainVolume (attention from the same pass, the paper's map, upsampled to the
//   volume) vs forward without attention. Target <= 1.5x.
// - 3D ResNet-18: Grad-CAM and Grad-CAM++ at layer4 (forward to layer4, tail with gradients,
//   upsampled) vs forward. Target <= 3.5x.
// Env: MST_BENCH_REPEATS (timed runs after one warm-up, default 3), MST_BENCH_SLICES (MST slices,
// default 8, 224 px), MST_BENCH_RESNET_SHAPE (default 32x112x112), MST_BENCH_ONLY (mst or resnet),
// MST_BENCH_LIB (library module, default ../dist/index.js).
import * as tf from '@tensorflow/tfjs';
import { explainCase, loadExplainLib, timeAgainstForward } from './cases/explain_case.mjs';

const lib = await loadExplainLib();
if (!lib) process.exit(0);
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 3);
const slices = Number(process.env.MST_BENCH_SLICES ?? 8);
const shape = (process.env.MST_BENCH_RESNET_SHAPE ?? '32x112x112').split('x').map(Number);
const only = process.env.MST_BENCH_ONLY ?? '';

console.log(`${new Date().toISOString()}, node ${process.version}, backend ${tf.getBackend()}, ${repeats} timed runs (medians), forward and explanations interleaved`);
console.log('| model | volume | forward s | explanation | explanation s | ratio | target | numTensors leak |');
console.log('|---|---|---|---|---|---|---|---|');

async function row(kind, methods, target) {
  const c = explainCase(lib, kind, { slices, shape });
  const t = await timeAgainstForward(c.forward, methods.map((method) => c.explain({ method })), repeats);
  for (const [k, label] of methods.entries()) {
    console.log(`| ${c.name} | [${c.volume.shape.join(', ')}] | ${t.forward.toFixed(2)} | ${label} | ${t.runs[k].toFixed(2)} | ${(t.runs[k] / t.forward).toFixed(2)}x | <= ${target}x | ${t.leak} |`);
  }
  c.dispose();
}

if (only !== 'resnet') await row('mst', ['attention', 'rollout'], 1.5);
if (only !== 'mst') await row('resnet', ['gradcam', 'gradcam++'], 3.5);
