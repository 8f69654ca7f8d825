// Tape memory of MST-DINOv2-S's slice encoder in training: one forward under a gradient tape on
// 1 and 2 slices (224 x 224), and what it keeps alive for the backward pass (the distinct buffers
// its nodes saved: nothing else outlives the forward), per kernel; then the peak tensor bytes of a
// lean forward + backward (leanVariableGrads; tf.profile counts a buffer shared by several
// tensors once per tensor, so this is an upper bound). The per-slice figures are the differences
// between 2 slices and 1. Memory figures do not depend on the machine's load.
// usage: npm run build && node bench/tape.mjs [SIZE]   (MST_DIST names another build folder)
import * as tf from '@tensorflow/tfjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel, leanVariableGrads } = await import(pathToFileURL(join(dist, 'index.js')).href);
const size = Number(process.argv[2] ?? 224);
await setBackend('wasm');
const model = createModel('mst-dinov2-s', { numClasses: 2 });
model.train();
const encoder = model.encoder;
const vars = encoder.trainableVariables();
const MiB = 2 ** 20;
const engine = tf.engine();

/** Bytes kept alive by one taped forward on `n` slices, in all and by the kernel that saved them. */
function tapeBytes(n) {
  const x = tf.randomNormal([n, size, size, encoder.inChannels], 0, 1, 'float32', 1);
  engine.startTape();
  let y;
  try {
    y = engine.tidy('forward', () => tf.sum(encoder.encode(x).features));
  } finally {
    engine.endTape();
  }
  const tape = engine.state.activeTape ?? [];
  engine.state.activeTape = null;
  const byKernel = new Map();
  const seen = new Set();
  for (const node of tape) {
    for (const t of node.saved ?? []) {
      if (t.isDisposed || seen.has(t.dataId)) continue;
      seen.add(t.dataId);
      byKernel.set(node.kernelName, (byKernel.get(node.kernelName) ?? 0) + t.size * 4);
    }
  }
  const kept = [...byKernel.values()].reduce((a, b) => a + b, 0);
  for (const node of tape) for (const t of node.saved ?? []) t.dispose();
  tf.dispose([x, y]);
  return { kept, byKernel };
}

/** Peak tensor bytes of a lean forward + backward on `n` slices (weights and gradients included). */
async function peakBytes(n) {
  const x = tf.randomNormal([n, size, size, encoder.inChannels], 0, 1, 'float32', 1);
  const info = await tf.profile(() => {
    const { value, grads } = leanVariableGrads(() => tf.sum(encoder.encode(x).features), vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  x.dispose();
  return info.peakBytes;
}

const one = tapeBytes(1);
const two = tapeBytes(2);
const p1 = await peakBytes(1);
const p2 = await peakBytes(2);
console.log(`MST-DINOv2-S slice encoder, ${size} x ${size}, training mode, ${new Date().toISOString()}`);
console.log('| slices | saved on the tape MiB | peak MiB, leanVariableGrads |');
console.log('|---|---|---|');
console.log(`| 1 | ${(one.kept / MiB).toFixed(0)} | ${(p1 / MiB).toFixed(0)} |`);
console.log(`| 2 | ${(two.kept / MiB).toFixed(0)} | ${(p2 / MiB).toFixed(0)} |`);
console.log(`| per slice | **${((two.kept - one.kept) / MiB).toFixed(0)}** | **${((p2 - p1) / MiB).toFixed(0)}** |`);
console.log('\nSaved per slice by kernel (MiB, 2 slices minus 1):');
const rows = [...two.byKernel].map(([k, b]) => [k, (b - (one.byKernel.get(k) ?? 0)) / MiB]).filter(([, m]) => m > 0.5).sort((a, b) => b[1] - a[1]);
console.log(rows.map(([k, m]) => `${k} ${m.toFixed(0)}`).join(', '));
console.log(JSON.stringify({ size, perSliceTapeMiB: (two.kept - one.kept) / MiB, perSlicePeakMiB: (p2 - p1) / MiB }));
