import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { disposeStateDict } from '../../src/nn/module';
import { leanVariableGrads } from '../../src/ops/lean_backprop';
import { ResNet3D } from '../../src/models/resnet3d';
import { crossEntropy } from '../../src/train/losses';
import { needs } from '../helpers';

// The workers run the built package (dist/parallel/encoder_worker), the reference the sources.
const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const built = fs.existsSync(path.join(dist, 'parallel', 'encoder_worker.cjs'));

describe('data-parallel 3D ResNet gradients (batch norm per shard)', () => {
  if (!needs(built, 'the built package (dist/)', 'npm run build')) {
    it.skip('trains data-parallel', () => undefined);
    return;
  }
  it("equal the mean of each shard's own gradients, and the running statistics become the shards' mean", async () => {
    const model = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 8, 8, 8], numClasses: 2, seed: 3 });
    model.train();
    const x = tf.randomNormal([3, 16, 32, 32], 0, 1, 'float32', 4);
    const labels = [0, 1, 1];
    const start = model.stateDict();
    // Reference: each volume alone from the same starting state, as each worker computes it.
    const shards = [[0, 2], [2, 1]] as const; // 2 workers: ceil(3 / 2) = 2 volumes, then 1
    const expectedGrads = new Map<string, tf.Tensor>();
    const expectedBuffers = new Map<string, tf.Tensor>();
    let expectedLoss = 0;
    for (const [from, n] of shards) {
      model.loadStateDict(start);
      const xs = tf.expandDims(tf.slice(x, [from, 0, 0, 0], [n, -1, -1, -1]), -1);
      const { value, grads } = leanVariableGrads(() => crossEntropy(model.forward(xs) as tf.Tensor, labels.slice(from, from + n)) as tf.Scalar, model.trainableVariables());
      const w = n / 3;
      expectedLoss += w * value.dataSync()[0];
      for (const [name, v] of model.namedParameters()) {
        const g = grads[v.name];
        if (!g) continue;
        const prev = expectedGrads.get(name);
        expectedGrads.set(name, tf.tidy(() => (prev ? tf.add(prev, tf.mul(g, w)) : tf.mul(g, w))));
        prev?.dispose();
      }
      for (const [name, b] of model.namedBuffers()) {
        if (b.dtype !== 'float32') continue;
        const prev = expectedBuffers.get(name);
        expectedBuffers.set(name, tf.tidy(() => (prev ? tf.add(prev, tf.mul(b, w)) : tf.mul(b, w))));
        prev?.dispose();
      }
      tf.dispose([xs, value, grads]);
    }
    model.loadStateDict(start);
    disposeStateDict(start);
    // Loaded once the sources' backend is up (the built package's kernels then see it registered).
    const parallel = require(path.join(dist, 'parallel', 'index.cjs')) as typeof import('../../src/parallel/index');
    const dp = await parallel.DataParallelGradients.create(model, { workers: 2 });
    try {
      const before = tf.memory().numTensors;
      const got = await dp.gradients(model, x, labels);
      expect(Math.abs(got.loss.dataSync()[0] - expectedLoss)).toBeLessThan(1e-6);
      const params = new Map(model.namedParameters());
      expect(Object.keys(got.grads).length).toBe(expectedGrads.size);
      for (const [name, want] of expectedGrads) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(got.grads[params.get(name)!.name], want))).dataSync()[0]);
        expect([name, d < 1e-5]).toEqual([name, true]);
      }
      for (const [name, b] of model.namedBuffers()) {
        if (b.dtype !== 'float32') continue;
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(b, expectedBuffers.get(name)!))).dataSync()[0]);
        expect([name, d < 1e-6]).toEqual([name, true]);
      }
      tf.dispose([got.loss, got.grads]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await dp.dispose();
      tf.dispose([x, ...expectedGrads.values(), ...expectedBuffers.values()]);
      model.dispose();
    }
  });

  /** Loss and gradients (by module path) of shards computed alone from `model`'s current state, weighted by `weights`. */
  function shardReference(model: ResNet3D, x: tf.Tensor, labels: number[], shards: [number, number][], weights: number[], classWeights?: number[]) {
    const start = model.stateDict();
    const grads = new Map<string, tf.Tensor>();
    let loss = 0;
    shards.forEach(([from, n], s) => {
      model.loadStateDict(start);
      const w = weights[s];
      if (w === 0) return;
      const xs = tf.tidy(() => tf.expandDims(tf.slice(x, [from, 0, 0, 0], [n, -1, -1, -1]), -1));
      const { value, grads: g } = leanVariableGrads(() => crossEntropy(model.forward(xs) as tf.Tensor, labels.slice(from, from + n), { weight: classWeights }) as tf.Scalar, model.trainableVariables());
      loss += w * value.dataSync()[0];
      for (const [name, v] of model.namedParameters()) {
        if (!g[v.name]) continue;
        const prev = grads.get(name);
        grads.set(name, tf.tidy(() => (prev ? tf.add(prev, tf.mul(g[v.name], w)) : tf.mul(g[v.name], w))));
        prev?.dispose();
      }
      tf.dispose([xs, value, g]);
    });
    model.loadStateDict(start);
    disposeStateDict(start);
    return { loss, grads };
  }

  function expectClose(model: ResNet3D, got: { loss: tf.Scalar; grads: tf.NamedTensorMap }, want: { loss: number; grads: Map<string, tf.Tensor> }): void {
    expect(Math.abs(got.loss.dataSync()[0] - want.loss)).toBeLessThan(1e-6);
    const params = new Map(model.namedParameters());
    const names = [...want.grads.keys()].map((n) => params.get(n)!.name).sort();
    expect(Object.keys(got.grads).sort()).toEqual(names);
    for (const [name, g] of want.grads) {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(got.grads[params.get(name)!.name], g))).dataSync()[0]);
      expect([name, d < 1e-5]).toEqual([name, true]);
    }
  }

  it('handles fewer volumes than workers, a zero-share first shard, a worker error mid-step and frozen parameters', async () => {
    const model = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 8, 8, 8], numClasses: 2, seed: 7 });
    model.train();
    const x = tf.randomNormal([2, 16, 32, 32], 0, 1, 'float32', 8);
    const x1 = tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]);
    const parallel = require(path.join(dist, 'parallel', 'index.cjs')) as typeof import('../../src/parallel/index');
    const dp = await parallel.DataParallelGradients.create(model, { workers: 3 });
    const refs: Map<string, tf.Tensor>[] = [];
    try {
      const before = tf.memory().numTensors;
      // One volume, three workers: only the first gets a shard.
      const one = shardReference(model, x1, [1], [[0, 1]], [1]);
      refs.push(one.grads);
      const stateBefore = model.stateDict();
      const gotOne = await dp.gradients(model, x1, [1]);
      expectClose(model, gotOne, one);
      tf.dispose([gotOne.loss, gotOne.grads]);
      model.loadStateDict(stateBefore);
      // The first shard's only label weighs 0: the second shard alone makes the step.
      const zero = shardReference(model, x, [0, 1], [[0, 1], [1, 1]], [0, 1], [0, 1]);
      refs.push(zero.grads);
      const gotZero = await dp.gradients(model, x, [0, 1], { classWeights: [0, 1] });
      expectClose(model, gotZero, zero);
      tf.dispose([gotZero.loss, gotZero.grads]);
      model.loadStateDict(stateBefore);
      // A worker fails (a label outside the classes); the next step is whole and right.
      await expect(dp.gradients(model, x, [0, 5])).rejects.toThrow(/label 5 outside the classes/);
      const both = shardReference(model, x, [0, 1], [[0, 1], [1, 1]], [0.5, 0.5]);
      refs.push(both.grads);
      const gotBoth = await dp.gradients(model, x, [0, 1]);
      expectClose(model, gotBoth, both);
      tf.dispose([gotBoth.loss, gotBoth.grads]);
      model.loadStateDict(stateBefore);
      // Frozen parameters get no gradient, as in the single-thread step.
      model.conv1.freeze();
      const frozen = shardReference(model, x, [0, 1], [[0, 1], [1, 1]], [0.5, 0.5]);
      refs.push(frozen.grads);
      expect(frozen.grads.has('conv1.weight')).toBe(false);
      const gotFrozen = await dp.gradients(model, x, [0, 1]);
      expectClose(model, gotFrozen, frozen);
      tf.dispose([gotFrozen.loss, gotFrozen.grads]);
      // Unfrozen again: the workers differentiate conv1 again.
      model.conv1.unfreeze();
      const thawed = shardReference(model, x, [0, 1], [[0, 1], [1, 1]], [0.5, 0.5]);
      refs.push(thawed.grads);
      const gotThawed = await dp.gradients(model, x, [0, 1]);
      expectClose(model, gotThawed, thawed);
      expect(Object.keys(gotThawed.grads)).toContain(model.conv1.weight.name);
      tf.dispose([gotThawed.loss, gotThawed.grads]);
      disposeStateDict(stateBefore);
      tf.dispose(refs.flatMap((m) => [...m.values()]));
      refs.length = 0;
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await dp.dispose();
      tf.dispose([x, x1, ...refs.flatMap((m) => [...m.values()])]);
      model.dispose();
    }
  });

  it('refuses a second call while one is in flight, and a model other than the first call\'s', async () => {
    const make = (seed: number, inplanes = 4) => new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [inplanes, 8, 8, 8], numClasses: 2, seed });
    const model = make(3);
    model.train();
    const x = tf.randomNormal([2, 16, 32, 32], 0, 1, 'float32', 4);
    const parallel = require(path.join(dist, 'parallel', 'index.cjs')) as typeof import('../../src/parallel/index');
    const dp = await parallel.DataParallelGradients.create(model, { workers: 2 });
    const other = make(5, 6);
    try {
      const empty = tf.zeros([0, 16, 32, 32]);
      await expect(dp.gradients(model, empty, [])).rejects.toThrow(/the batch is empty \(volumes \[0, 16, 32, 32\]\)/);
      empty.dispose();
      const first = dp.gradients(model, x, [0, 1]);
      await expect(dp.gradients(model, x, [0, 1])).rejects.toThrow(/a step is already in progress/);
      const done = await first;
      tf.dispose([done.loss, done.grads]);
      // The workers' models are laid out for the first call's model.
      await expect(dp.gradients(other, x, [0, 1])).rejects.toThrow(/the model differs from the one of the first call at 'conv1.weight'/);
      const again = await dp.gradients(model, x, [1, 0]);
      expect(Number.isFinite(again.loss.dataSync()[0])).toBe(true);
      tf.dispose([again.loss, again.grads]);
    } finally {
      await dp.dispose();
      tf.dispose(x);
      model.dispose();
      other.dispose();
    }
  });
});
