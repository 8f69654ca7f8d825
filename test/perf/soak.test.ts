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

function expectFlat(what: string, a: Reading, b: Reading): void {
  console.log(`${what}: numTensors ${a.tensors} -> ${b.tensors}, wasm heap ${(a.heap / MiB).toFixed(0)} -> ${(b.heap / MiB).toFixed(0)} MiB, RSS ${(a.rss / MiB).toFixed(0)} -> ${(b.rss / MiB).toFixed(0)} MiB`);
  expect(b.tensors).toBe(a.tensors);
  expect(b.heap).toBe(a.heap);
  expect(Math.abs(b.rss - a.rss) / a.rss).toBeLessThan(0.05);
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
    for (let i = 0; i < 100; i++) await model.predict(volume);
    const a = read();
    for (let i = 0; i < 1000; i++) await model.predict(volume);
    expectFlat('1,000 predictions', a, read());
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
    for (let i = 0; i < 200; i++) await step();
    const a = read();
    const trail: number[] = [];
    for (let i = 0; i < 100; i++) {
      await step();
      if (i % 20 === 19) trail.push(Math.round(process.memoryUsage().rss / MiB));
    }
    console.log(`RSS every 20 steps: ${trail.join(', ')} MiB`);
    expectFlat('100 training steps', a, read());
    x.dispose();
    opt.dispose();
    model.dispose();
  }, 600000);
});
