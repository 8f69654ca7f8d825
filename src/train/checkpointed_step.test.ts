import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer, type MedicalSliceTransformerOptions } from '../models/medical_slice_transformer';
import { resnet2d18 } from '../models/resnet2d';
import { checkpointedGradients } from './checkpointed_step';
import { recordForBackward } from '../ops/lean_backprop';
import { crossEntropy } from './losses';
import { Trainer } from './trainer';
import { sliceCheckpointing } from './gradient_strategy';
import type { VolumeDataset } from '../data/dataset';
import { Rng } from '../utils/rng';

/** A small DINOv2 (embed 32, depth 2, 28x28 slices, 4x4 patches of 7 px). */
function smallMst(extra: Partial<MedicalSliceTransformerOptions> = {}): MedicalSliceTransformer {
  const encoder = new DinoVisionTransformer({ embedDim: 32, depth: 2, numHeads: 2, patchSize: 7, imgSize: 28, seed: 1 });
  return new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 16, seed: 2, ...extra });
}

/** max |a - b| over every gradient, after checking both have the same keys. */
function maxGradDiff(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const k of Object.keys(a)) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a[k], b[k]))).dataSync()[0]);
    worst = Math.max(worst, d);
  }
  return worst;
}

describe('checkpointedGradients', () => {
  it('equals plain tf.variableGrads to 1e-5 on a small MST (9 slices, chunks of 4) and leaks nothing', () => {
    const model = smallMst();
    const x = tf.randomNormal([2, 9, 28, 28], 0, 1, 'float32', 3);
    const labels = [0, 1];
    const vars = model.trainableVariables();
    const plain = tf.variableGrads(() => crossEntropy(model.forward(x).logits, labels) as tf.Scalar, vars);
    const before = tf.memory().numTensors;
    const ours = checkpointedGradients(model, x, labels, { chunkSize: 4 });
    expect(Math.abs(ours.loss.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-6);
    expect(maxGradDiff(ours.grads, plain.grads)).toBeLessThan(1e-5);
    // Encoder parameters get gradients too (not only the head).
    expect(Object.keys(ours.grads).length).toBeGreaterThan(20);
    tf.dispose([ours.loss, ours.grads]);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 2; i++) {
      const again = checkpointedGradients(model, x, labels, { chunkSize: 5 });
      tf.dispose([again.loss, again.grads]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, plain.value, plain.grads]);
    model.dispose();
  });

  it('keeps the tapes of the chunks that fit tapeBudgetMiB and recomputes only the others, with equal gradients', () => {
    const model = smallMst();
    const x = tf.randomNormal([2, 9, 28, 28], 0, 1, 'float32', 6);
    const labels = [1, 0];
    const vars = model.trainableVariables();
    const plain = tf.variableGrads(() => crossEntropy(model.forward(x).logits, labels) as tf.Scalar, vars);
    // The tape of one chunk of 4 slices, measured as checkpointedGradients measures it.
    const images = tf.tile(tf.reshape(tf.slice(x, [0, 0, 0, 0], [1, 4, 28, 28]), [4, 28, 28, 1]), [1, 1, 1, 3]) as tf.Tensor4D;
    const probe = recordForBackward(() => model.encoder.encode(images).features, model.encoder.trainableVariables());
    const chunkMiB = probe.savedBytes / 2 ** 20;
    probe.dispose();
    tf.dispose([images, probe.value]);
    const encode = model.encoder.encode.bind(model.encoder);
    let calls = 0;
    model.encoder.encode = (imgs, o) => {
      calls++;
      return encode(imgs, o);
    };
    const before = tf.memory().numTensors;
    // 18 slices in chunks of 4: 5 chunks; budgets for none, two and all of their tapes.
    for (const [budget, encodes] of [[0, 10], [2.5 * chunkMiB, 8], [1024, 5]] as const) {
      calls = 0;
      const r = checkpointedGradients(model, x, labels, { chunkSize: 4, tapeBudgetMiB: budget });
      expect({ budget, encodes: calls }).toEqual({ budget, encodes });
      expect(Math.abs(r.loss.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-6);
      expect(maxGradDiff(r.grads, plain.grads)).toBeLessThan(1e-5);
      tf.dispose([r.loss, r.grads]);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(() => checkpointedGradients(model, x, labels, { tapeBudgetMiB: -1 })).toThrow(/tapeBudgetMiB must be >= 0, got -1/);
    tf.dispose([x, plain.value, plain.grads]);
    model.dispose();
  });

  it('covers the bottleneck, average fusion and a frozen encoder', () => {
    const model = smallMst({ bottleneck: true, sliceFusion: 'average' });
    const x = tf.randomNormal([1, 5, 28, 28, 1], 0, 1, 'float32', 4);
    const plain = tf.variableGrads(() => crossEntropy(model.forward(x).logits, [1]) as tf.Scalar, model.trainableVariables());
    const ours = checkpointedGradients(model, x, [1], { chunkSize: 2 });
    expect(maxGradDiff(ours.grads, plain.grads)).toBeLessThan(1e-5);
    tf.dispose([x, plain.value, plain.grads, ours.loss, ours.grads]);
    model.encoder.freeze();
    const y = tf.randomNormal([1, 3, 28, 28], 0, 1, 'float32', 5);
    const frozen = checkpointedGradients(model, y, [0], { chunkSize: 2 });
    // Only the bottleneck and the head remain: weight and bias of each.
    expect(Object.keys(frozen.grads)).toHaveLength(4);
    tf.dispose([y, frozen.loss, frozen.grads]);
    model.dispose();
  });

  it('restores batch-norm running statistics touched by the no-tape pass', () => {
    const model = new MedicalSliceTransformer({ encoder: resnet2d18({ seed: 1, blockInplanes: [4, 4, 8, 8] }), numClasses: 2, heads: 2, seed: 2 });
    const stats = model.encoder.namedBuffers().filter(([k]) => k.endsWith('running_mean'));
    const x = tf.randomNormal([1, 2, 32, 32], 0, 1, 'float32', 6);
    const once = (): number[] => {
      stats.forEach(([, v]) => v.assign(tf.zerosLike(v)));
      return Array.from(stats[0][1].dataSync());
    };
    once();
    // One chunk of all slices: the running statistics move exactly as in one plain forward.
    const r = checkpointedGradients(model, x, [0], { chunkSize: 2 });
    const afterCheckpointed = Array.from(stats[0][1].dataSync());
    once();
    tf.tidy(() => model.forward(x).logits);
    const afterPlain = Array.from(stats[0][1].dataSync());
    afterCheckpointed.forEach((v, i) => expect(v).toBeCloseTo(afterPlain[i], 6));
    tf.dispose([x, r.loss, r.grads]);
    model.dispose();
  });

  it('Trainer with checkpointChunkSize trains the same as without', async () => {
    const data: VolumeDataset = {
      length: 4,
      labels: [0, 1, 0, 1],
      ids: ['a', 'b', 'c', 'd'],
      get: async (i: number) => {
        const r = new Rng(10 + i);
        const voxels = Float32Array.from({ length: 3 * 28 * 28 }, () => r.normal() + (i % 2) * 0.5);
        return { id: `case${i}`, data: voxels, shape: [3, 28, 28], spacing: [1, 1, 1], label: i % 2 };
      },
    };
    const losses: number[][] = [];
    for (const chunk of [undefined, 2]) {
      const model = smallMst();
      const trainer = new Trainer({ model, train: data, epochs: 2, lr: 1e-3, batchSize: 2, seed: 3, gradients: chunk ? sliceCheckpointing({ chunkSize: chunk }) : undefined });
      const fit = await trainer.fit();
      losses.push(fit.history.map((h) => h.trainLoss));
      trainer.dispose();
      model.dispose();
    }
    losses[1].forEach((l, i) => expect(l).toBeCloseTo(losses[0][i], 5));
  });

  it('names bad input', () => {
    const model = smallMst();
    const x = tf.zeros([1, 2, 28, 28]);
    expect(() => checkpointedGradients(model, x, [0], { chunkSize: 0 })).toThrow(/chunkSize must be a positive integer, got 0/);
    expect(() => checkpointedGradients(model, x, [0, 1])).toThrow(/expected 1 labels, got 2/);
    expect(() => checkpointedGradients(model, tf.zeros([2, 28, 28]) as tf.Tensor, [0])).toThrow(/expected float32 volumes/);
    x.dispose();
    model.dispose();
  });
});
