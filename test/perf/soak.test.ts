/**
 * Soak (`npm run test:full` only): 1,000 predictions and 100 AdamW training steps in one process,
 * through the public API. After a warm-up, tfjs's tensor count must not move, the wasm heap
 * (which can only grow) must not grow, and the resident set must stay within 5 %.
 */
import * as tf from '@tensorflow/tfjs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { AdamW, crossEntropy, DinoVisionTransformer, MedicalSliceTransformer } from '../../src/index';
import { FULL } from '../helpers';

const MiB = 2 ** 20;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bytes of the wasm backend's heap (WebAssembly memory never shrinks: growth is what counts). */
function wasmHeap(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

interface Reading {
  tensors: number;
  heap: number;
  rss: number;
}

function read(): Reading {
  gc();
  return { tensors: tf.memory().numTensors, heap: wasmHeap(), rss: process.memoryUsage().rss };
}

const median3 = (xs: number[]): number => [...xs].sort((p, q) => p - q)[1];

/**
 * Runs `steps` after `warmup`, reading memory (after a full GC) ten times on the way. Tensors and
 * the wasm heap must not move at all; the resident set is compared as the median of the first three
 * readings against the median of the last three, since on a loaded machine a single reading lands
 * wherever the allocator happens to be (a JS heap that is flat after GC still moves RSS by several %).
 */
async function expectFlat(what: string, step: () => Promise<void>, warmup: number, steps: number): Promise<void> {
  for (let i = 0; i < warmup; i++) await step();
  const readings = [read()];
  for (let i = 1; i <= steps; i++) {
    await step();
    if (i % (steps / 10) === 0) readings.push(read());
  }
  const [a, b] = [readings[0], readings[readings.length - 1]];
  const rss0 = median3(readings.slice(0, 3).map((r) => r.rss));
  const rss1 = median3(readings.slice(-3).map((r) => r.rss));
  console.log(`${what}: numTensors ${a.tensors} -> ${b.tensors}, wasm heap ${(a.heap / MiB).toFixed(0)} -> ${(b.heap / MiB).toFixed(0)} MiB, RSS ${readings.map((r) => (r.rss / MiB).toFixed(0)).join(', ')} MiB`);
  expect(b.tensors).toBe(a.tensors);
  expect(b.heap).toBe(a.heap);
  expect(Math.abs(rss1 - rss0) / rss0).toBeLessThan(0.05);
}

function smallMst(): MedicalSliceTransformer {
  const encoder = new DinoVisionTransformer({ embedDim: 32, depth: 2, numHeads: 2, patchSize: 7, imgSize: 28, seed: 1 });
  return new MedicalSliceTransformer({ encoder, numClasses: 2, seed: 2, heads: 4 });
}

(FULL ? describe : describe.skip)('soak', () => {
  it('1,000 predictions keep numTensors and the wasm heap flat and RSS within 5 %', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = smallMst();
    const volume = tf.randomNormal([8, 28, 28], 0, 1, 'float32', 1);
    await expectFlat('1,000 predictions', async () => void (await model.predict(volume)), 100, 1000);
    volume.dispose();
    model.dispose();
  }, 600000);

  it('100 training steps keep numTensors and the wasm heap flat and RSS within 5 %', async () => {
    const model = smallMst();
    const opt = new AdamW(model.namedParameters(), { lr: 1e-4 });
    const x = tf.randomNormal([2, 8, 28, 28], 0, 1, 'float32', 2);
    const step = async (): Promise<void> => {
      const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x).logits, [0, 1]) as tf.Scalar, opt.variables());
      opt.step(grads);
      await value.data();
      tf.dispose([value, grads]);
    };
    // V8's old space and the allocator's arenas take longer to settle under training's larger
    // and more varied allocations than under inference.
    await expectFlat('100 training steps', step, 200, 100);
    x.dispose();
    opt.dispose();
    model.dispose();
  }, 600000);
});
