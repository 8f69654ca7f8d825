// Shared by bench/explain.mjs and bench/explain_methods.mjs: the library, the two models with their
// volumes and plain forward passes, and the interleaved timing of explanations against that forward.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { median } from './common.mjs';

/**
 * The library (MST_BENCH_LIB, default ../../dist/index.js) on the wasm backend, or null (after
 * saying why) where the build lacks what the explanation benchmarks call.
 */
export async function loadExplainLib() {
  const here = dirname(fileURLToPath(import.meta.url));
  const lib = await import(pathToFileURL(process.env.MST_BENCH_LIB ?? join(here, '..', '..', 'dist', 'index.js')).href);
  const needed = ['setBackend', 'createModel', 'explainVolume', 'disposeExplanation'];
  const missing = needed.filter((k) => typeof lib[k] !== 'function');
  if (missing.length) {
    console.log(`This build does not export ${missing.join(', ')}; nothing to measure.`);
    return null;
  }
  await lib.setBackend('wasm');
  return lib;
}

/**
 * A model in evaluation mode (seed 1, two classes), a random volume (seed 7) and one plain forward
 * of it: MST-DINOv2-S on `slices` slices of 224 px (`kind` 'mst') or a 3D ResNet-18 on `shape`
 * (`kind` 'resnet'). `explain(options)` makes a run of explainVolume on it; `dispose()` frees all.
 */
export function explainCase(lib, kind, { slices = 8, shape = [32, 112, 112] } = {}) {
  if (kind === 'mst') {
    const model = lib.createModel('mst-dinov2-s', { numClasses: 2, seed: 1 }).eval();
    const volume = tf.randomNormal([slices, 224, 224], 0, 1, 'float32', 7);
    const forward = async () => {
      const batch = tf.expandDims(volume, 0);
      const { logits } = model.forward(batch);
      await logits.data();
      tf.dispose([batch, logits]);
    };
    return withExplain(lib, { name: 'MST-DINOv2-S', model, volume, forward, dispose: () => (volume.dispose(), model.dispose()) });
  }
  const model = lib.createModel('resnet3d-18', { numClasses: 2, seed: 1 }).eval();
  const volume = tf.randomNormal(shape, 0, 1, 'float32', 7);
  const input = tf.reshape(volume, [1, ...shape, 1]);
  const forward = async () => {
    const logits = model.forward(input);
    await logits.data();
    logits.dispose();
  };
  return withExplain(lib, { name: 'ResNet3D-18', model, volume, forward, dispose: () => (tf.dispose([input, volume]), model.dispose()) });
}

function withExplain(lib, c) {
  return { ...c, explain: (options) => async () => lib.disposeExplanation(await lib.explainVolume(c.model, c.volume, options)) };
}

async function seconds(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/**
 * Median seconds of `forward` and of each of `runs` after one warm-up of each, alternating within
 * each of `repeats` rounds so that load drift on a shared machine affects both sides of a ratio
 * alike; `leak` is the tensors left over by the timed rounds.
 */
export async function timeAgainstForward(forward, runs, repeats) {
  await forward(); // warm-up: kernels, caches
  for (const run of runs) await run();
  const before = tf.memory().numTensors;
  const f = [];
  const t = runs.map(() => []);
  for (let i = 0; i < repeats; i++) {
    f.push(await seconds(forward));
    for (const [k, run] of runs.entries()) t[k].push(await seconds(run));
  }
  return { forward: median(f), runs: t.map(median), leak: tf.memory().numTensors - before };
}
