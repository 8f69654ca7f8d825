import * as tf from '@tensorflow/tfjs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { AdamW } from '../../src/train/adamw';
import { checkpointedGradients } from '../../src/train/checkpointed_step';
import { crossEntropy } from '../../src/train/losses';
import { FULL } from '../helpers';

const MiB = 2 ** 20;

// RSS is only comparable when this file has the process to itself, as `npm run test:perf` runs it
// (with MST_FULL=1, in CI and in `npm run test:full`); in the default run other suites' garbage
// moves it by several percent, so there only numTensors is asserted.
const rssBound = (r: { rss: [number, number] }): void => {
  if (FULL) expect(Math.abs(r.rss[1] - r.rss[0]) / r.rss[0]).toBeLessThan(0.05);
};

// A full garbage collection before each RSS reading, so garbage not yet collected is not counted.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A small MST (DINOv2 embed 32, depth 2, 28x28 slices). */
function smallMst(): MedicalSliceTransformer {
  const encoder = new DinoVisionTransformer({ embedDim: 32, depth: 2, numHeads: 2, patchSize: 7, imgSize: 28, seed: 1 });
  return new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 16, seed: 2 });
}

/**
 * Runs `step` `warmup` times (caches, wasm heap growth and JIT settle), then `n` times, and
 * returns the tensor counts and resident set sizes before and after the `n`.
 */
async function measure(step: () => Promise<void>, warmup: number, n: number): Promise<{ tensors: [number, number]; rss: [number, number] }> {
  for (let i = 0; i < warmup; i++) await step();
  const tensors0 = tf.memory().numTensors;
  gc();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < n; i++) await step();
  gc();
  return { tensors: [tensors0, tf.memory().numTensors], rss: [rss0, process.memoryUsage().rss] };
}

describe('no leaks', () => {
  it('100 inference calls keep numTensors flat and RSS within 5%', async () => {
    const model = smallMst();
    const volume = tf.randomNormal([8, 28, 28], 0, 1, 'float32', 1);
    const r = await measure(async () => void (await model.predict(volume)), 30, 100);
    expect(r.tensors[1]).toBe(r.tensors[0]);
    rssBound(r);
    console.log(`inference x100: numTensors ${r.tensors.join(' -> ')}, RSS ${(r.rss[0] / MiB).toFixed(0)} -> ${(r.rss[1] / MiB).toFixed(0)} MiB`);
    volume.dispose();
    model.dispose();
  });

  it('20 AdamW training steps, plain and slice-checkpointed, keep numTensors flat and RSS within 5%', async () => {
    const model = smallMst();
    const opt = new AdamW(model.namedParameters(), { lr: 1e-4 });
    const x = tf.randomNormal([2, 8, 28, 28], 0, 1, 'float32', 2);
    let k = 0;
    const step = async (): Promise<void> => {
      // Alternate the two ways of computing gradients.
      const { loss, grads } =
        k++ % 2 === 0
          ? (({ value, grads: g }) => ({ loss: value, grads: g }))(tf.variableGrads(() => crossEntropy(model.forward(x).logits, [0, 1]) as tf.Scalar, opt.variables()))
          : checkpointedGradients(model, x, [0, 1], { chunkSize: 4, varList: opt.variables() });
      opt.step(grads);
      await loss.data();
      tf.dispose([loss, grads]);
    };
    const r = await measure(step, 20, 20);
    expect(r.tensors[1]).toBe(r.tensors[0]);
    rssBound(r);
    console.log(`training x20: numTensors ${r.tensors.join(' -> ')}, RSS ${(r.rss[0] / MiB).toFixed(0)} -> ${(r.rss[1] / MiB).toFixed(0)} MiB`);
    x.dispose();
    opt.dispose();
    model.dispose();
  });
});
