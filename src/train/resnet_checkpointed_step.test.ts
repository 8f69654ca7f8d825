import * as tf from '@tensorflow/tfjs';
import { ResNet, type ResNetOptions } from '../models/resnet';
import { leanVariableGrads } from '../ops/lean_backprop';
import { crossEntropy } from './losses';
import { resnetCheckpointedGradients } from './resnet_checkpointed_step';
import { Trainer } from './trainer';
import { blockCheckpointing } from './gradient_strategy';
import type { VolumeDataset } from '../data/dataset';
import { Rng } from '../utils/rng';

function smallResNet(extra: Partial<ResNetOptions> = {}): ResNet {
  return new ResNet({
    block: 'bottleneck', layers: [2, 1, 1, 1], spatialDims: 3, nInputChannels: 1, blockInplanes: [4, 4, 8, 8],
    conv1TStride: [1, 2, 2], numClasses: 2, seed: 3, ...extra,
  }).train();
}

function maxGradDiff(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const k of Object.keys(a)) worst = Math.max(worst, tf.tidy(() => tf.max(tf.abs(tf.sub(a[k], b[k]))).dataSync()[0]));
  return worst;
}

function buffersOf(model: ResNet): Float32Array[] {
  return model.namedBuffers().filter(([, v]) => v.dtype === 'float32').map(([, v]) => v.dataSync() as Float32Array);
}

describe('resnetCheckpointedGradients', () => {
  it.each([['bottleneck'], ['basic']] as const)('equals plain tf.variableGrads of a %s 3D ResNet in training mode to 1e-5, running statistics included', (block) => {
    const model = smallResNet({ block });
    const x = tf.randomNormal([2, 6, 16, 16, 1], 0, 1, 'float32', 5);
    const labels = [0, 1];
    const start = model.namedBuffers().map(([, v]) => tf.clone(v));
    const plain = tf.variableGrads(() => crossEntropy(model.forward(x), labels) as tf.Scalar, model.trainableVariables());
    const afterPlain = buffersOf(model);
    model.namedBuffers().forEach(([, v], i) => v.assign(start[i]));
    const before = tf.memory().numTensors;
    const ours = resnetCheckpointedGradients(model, x, labels);
    expect(Math.abs(ours.loss.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-6);
    expect(maxGradDiff(ours.grads, plain.grads)).toBeLessThan(1e-5);
    buffersOf(model).forEach((b, i) => b.forEach((v, j) => expect(Math.abs(v - afterPlain[i][j])).toBeLessThan(1e-6)));
    tf.dispose([ours.loss, ours.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, plain.value, plain.grads, start]);
    model.dispose();
  });

  it('accepts [B, D, H, W], a partial variable list, and rejects a wrong label count', () => {
    const model = smallResNet();
    const x = tf.randomNormal([2, 4, 16, 16], 0, 1, 'float32', 6);
    const fcOnly = model.fc ? [model.fc.weight] : [];
    const before = tf.memory().numTensors;
    const r = resnetCheckpointedGradients(model, x, [1, 0], { varList: fcOnly });
    expect(Object.keys(r.grads)).toEqual([fcOnly[0].name]);
    tf.dispose([r.loss, r.grads]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => resnetCheckpointedGradients(model, x, [1])).toThrow(/expected 2 labels/);
    x.dispose();
    model.dispose();
  });
});

describe('Trainer checkpointResNetBlocks', () => {
  it('trains the same as without', async () => {
    const data: VolumeDataset = {
      length: 4,
      labels: [0, 1, 0, 1],
      ids: ['a', 'b', 'c', 'd'],
      get: async (i: number) => {
        const r = new Rng(20 + i);
        const voxels = Float32Array.from({ length: 4 * 16 * 16 }, () => r.normal() + (i % 2) * 0.5);
        return { id: `case${i}`, data: voxels, shape: [4, 16, 16], spacing: [1, 1, 1], label: i % 2 };
      },
    };
    const losses: number[][] = [];
    for (const checkpointed of [false, true]) {
      const model = smallResNet();
      const trainer = new Trainer({ model, train: data, epochs: 2, lr: 1e-3, batchSize: 2, seed: 3, gradients: checkpointed ? blockCheckpointing() : undefined });
      const fit = await trainer.fit();
      losses.push(fit.history.map((h) => h.trainLoss));
      trainer.dispose();
      model.dispose();
    }
    losses[1].forEach((l, i) => expect(l).toBeCloseTo(losses[0][i], 5));
  });
});

describe('leanVariableGrads', () => {
  it('gives exactly the gradients of tf.variableGrads and leaks nothing', () => {
    const model = smallResNet();
    const x = tf.randomNormal([2, 4, 16, 16, 1], 0, 1, 'float32', 7);
    const f = (): tf.Scalar => crossEntropy(model.forward(x), [0, 1]) as tf.Scalar;
    const plain = tf.variableGrads(f, model.trainableVariables());
    const before = tf.memory().numTensors;
    const lean = leanVariableGrads(f, model.trainableVariables());
    expect(lean.value.dataSync()[0]).toBe(plain.value.dataSync()[0]);
    expect(maxGradDiff(lean.grads, plain.grads)).toBe(0);
    tf.dispose([lean.value, lean.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, plain.value, plain.grads]);
    model.dispose();
  });
});
