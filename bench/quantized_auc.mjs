// The test AUC of the demo's model (`mst-ts demo`: a small MST trained on the synthetic chest task,
// 200 held-out cases) with its weights stored as float32, float16, bfloat16 and int8
// (encodeSafetensors' dtype option) and read back: what quantising the weights costs.
// usage: node bench/quantized_auc.mjs [EPOCHS]   (default: the demo's; ~3 min on two idle cores)
import * as tf from '@tensorflow/tfjs';
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const work = mkdtempSync(join(root, 'node_modules', '.cache', 'mst-quantized-auc-'));
// The demo's training run lives in the CLI sources, which the package does not export: bundled here.
await build({
  stdin: {
    contents: `export { trainFromConfig } from './src/cli/train'; export { DEMO_CONFIG } from './src/cli/demo'; export * from './src/index';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  external: ['@tensorflow/*', 'onnxruntime-node', 'webgpu'],
  outfile: join(work, 'lib.mjs'),
  logLevel: 'error',
});
const lib = await import(pathToFileURL(join(work, 'lib.mjs')).href);
await lib.setBackend('wasm');
const out = join(mkdtempSync(join(tmpdir(), 'mst-quantized-auc-')), 'demo');
const epochs = process.argv[2] ? Number(process.argv[2]) : lib.DEMO_CONFIG.epochs;
const t0 = performance.now();
const result = await lib.trainFromConfig({ ...lib.DEMO_CONFIG, outDir: out, epochs, progress: false });
const trainS = (performance.now() - t0) / 1000;
const { model, test } = result;
model.eval();

async function scores() {
  const s = [];
  for (let i = 0; i < test.length; i++) {
    const sample = await test.get(i);
    const volume = tf.tensor3d(sample.data, sample.shape);
    s.push((await model.predict(volume)).probabilities[1]);
    volume.dispose();
  }
  return s;
}

const labels = result.predictions.labels;
const original = model.stateDict();
const rows = [];
for (const dtype of ['float32', 'float16', 'bfloat16', 'int8']) {
  const bytes = await lib.encodeSafetensors(original, undefined, { dtype });
  const loaded = await lib.loadSafetensors(bytes);
  model.loadStateDict(loaded);
  lib.disposeStateDict(loaded);
  const s = await scores();
  rows.push({ dtype, bytes: bytes.byteLength, auc: lib.auc(labels, s), scores: s });
}
const ref = rows[0];
console.log(`${new Date().toISOString()}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; demo model trained ${epochs} epochs in ${trainS.toFixed(0)} s; ${labels.length} test cases; training run's own test AUC ${result.predictions.auc.toFixed(4)}`);
console.log('| weights | file KiB | test AUC | AUC change | max score change |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const maxChange = Math.max(...r.scores.map((v, i) => Math.abs(v - ref.scores[i])));
  console.log(`| ${r.dtype} | ${(r.bytes / 1024).toFixed(0)} | ${r.auc.toFixed(4)} | ${(r.auc - ref.auc >= 0 ? '+' : '') + (r.auc - ref.auc).toFixed(4)} | ${maxChange.toExponential(1)} |`);
}
lib.disposeStateDict(original);
model.dispose();
rmSync(dirname(out), { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
