import * as tf from '@tensorflow/tfjs';
import { BatchNorm2d, BatchNorm3d, batchNormTrain } from './batch_norm';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_SUMS, BN_MOMENTS } from '../kernels/wasm_batch_norm';
import { maxAbsDiff } from '../../test/helpers';

function setStats(bn: BatchNorm2d | BatchNorm3d, c: number): void {
  tf.tidy(() => {
    bn.weight.assign(tf.linspace(0.5, 1.5, c));
    bn.bias.assign(tf.linspace(-0.2, 0.3, c));
    bn.runningMean.assign(tf.linspace(-1, 1, c));
    bn.runningVar.assign(tf.linspace(0.5, 2, c));
  });
}

describe('BatchNorm', () => {
  it('keeps PyTorch keys, with num_batches_tracked as an int buffer', () => {
    const bn = new BatchNorm2d(4);
    expect(bn.stateDictKeys()).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.stateDictShapes().num_batches_tracked).toEqual([]);
    expect(bn.numBatchesTracked.dtype).toBe('int32');
    expect(bn.numParameters()).toBe(8);
    expect(bn.eps).toBe(1e-5);
    expect(bn.momentum).toBe(0.1);
    bn.dispose();
  });

  it('normalises with the running statistics in eval mode', () => {
    const bn = new BatchNorm3d(3).eval();
    setStats(bn, 3);
    const x = tf.randomNormal([2, 2, 3, 3, 3], 0, 2, 'float32', 1);
    const before = tf.memory().numTensors;
    const y = bn.forward(x);
    const want = tf.tidy(() => tf.add(tf.mul(tf.div(tf.sub(x, bn.runningMean), tf.sqrt(tf.add(bn.runningVar, 1e-5))), bn.weight), bn.bias));
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-5);
    tf.dispose([y, want]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    bn.dispose();
  });

  it('in eval mode on wasm runs one kernel, equal bit for bit to the tfjs ops, with and without residual and ReLU', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const bn = new BatchNorm3d(37).eval();
    setStats(bn, 37);
    const x = tf.randomNormal([1, 2, 3, 5, 37], 0, 2, 'float32', 31);
    const r = tf.randomNormal([1, 2, 3, 5, 37], 0, 1, 'float32', 32);
    for (const relu of [false, true]) {
      for (const residual of [undefined, r]) {
        const before = tf.memory().numTensors;
        const profile = await tf.profile(() => bn.forwardFused(x, { relu, residual }));
        expect(profile.kernelNames).toContain(BN_APPLY);
        const y = profile.result as tf.Tensor;
        const want = tf.tidy(() => {
          const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, bn.eps)));
          let z = tf.add(tf.mul(x, scale), tf.sub(bn.bias, tf.mul(bn.runningMean, scale)));
          if (residual) z = tf.add(z, residual);
          return relu ? tf.relu(z) : z;
        });
        expect(maxAbsDiff(y, want)).toBe(0);
        tf.dispose([y, want]);
        expect(tf.memory().numTensors).toBe(before);
      }
    }
    tf.dispose([x, r]);
    bn.dispose();
  });

  it('in eval mode on wasm has the tfjs ops\' gradients: bit for bit for the input and residual (Grad-CAM), to 1e-5 for weight and bias', () => {
    const bn = new BatchNorm3d(37).eval();
    setStats(bn, 37);
    const x = tf.randomNormal([1, 2, 3, 5, 37], 0, 2, 'float32', 33);
    const r = tf.randomNormal([1, 2, 3, 5, 37], 0, 1, 'float32', 34);
    const dy = tf.randomNormal([1, 2, 3, 5, 37], 0, 1, 'float32', 35);
    const before = tf.memory().numTensors;
    const fused = tf.variableGrads(() => tf.sum(tf.mul(bn.forwardFused(x, { relu: true, residual: r }), dy)) as tf.Scalar, [bn.weight, bn.bias]);
    const [dx, dr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn.forwardFused(a, { relu: true, residual: b }), dy)))([x, r]);
    const kernel = tf.getKernel(BN_APPLY, 'wasm') as tf.KernelConfig;
    tf.unregisterKernel(BN_APPLY, 'wasm');
    let composed: { grads: tf.NamedTensorMap; value: tf.Scalar };
    let cdx: tf.Tensor[];
    try {
      composed = tf.variableGrads(() => tf.sum(tf.mul(bn.forwardFused(x, { relu: true, residual: r }), dy)) as tf.Scalar, [bn.weight, bn.bias]);
      cdx = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn.forwardFused(a, { relu: true, residual: b }), dy)))([x, r]);
    } finally {
      tf.registerKernel(kernel);
    }
    expect(maxAbsDiff(dx, cdx[0])).toBe(0);
    expect(maxAbsDiff(dr, cdx[1])).toBe(0);
    for (const v of [bn.weight, bn.bias]) expect(maxAbsDiff(fused.grads[v.name], composed.grads[v.name])).toBeLessThan(1e-5);
    tf.dispose([fused.value, fused.grads, composed.value, composed.grads, dx, dr, cdx]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r, dy]);
    bn.dispose();
  });

  it('the wasm kernels name an operand of the wrong shape or dtype instead of reading past it', () => {
    tf.tidy(() => {
      const x = tf.ones([2, 3, 4]);
      const v = tf.ones([4]);
      const apply = (inputs: Record<string, tf.Tensor>) => () => tf.engine().runKernel(BN_APPLY, { x, mean: v, invStd: v, weight: v, bias: v, ...inputs }, { relu: true });
      expect(apply({ residual: tf.ones([4]) })).toThrow(/residual must be float32 \[2, 3, 4\], got float32 \[4\]/);
      expect(apply({ weight: tf.ones([3]) })).toThrow(/weight must be float32 \[4\], got float32 \[3\]/);
      expect(() => tf.engine().runKernel(BN_MOMENTS, { x: tf.ones([2, 4], 'int32') }, {})).toThrow(/x must be float32, got int32/);
    });
  });

  it('uses batch statistics in training mode and updates the running ones as PyTorch', () => {
    const bn = new BatchNorm2d(2, { momentum: 0.25 }).train();
    // Channel 0 holds 1..8, channel 1 holds 2 * (1..8).
    const vals = Array.from({ length: 8 }, (_, i) => [i + 1, 2 * (i + 1)]).flat();
    const x = tf.tensor4d(vals, [2, 2, 2, 2]);
    const y = bn.forward(x);
    const mean = [4.5, 9];
    const biasedVar = [5.25, 21];
    const got = y.dataSync();
    for (let i = 0; i < 8; i++) {
      for (let c = 0; c < 2; c++) expect(got[i * 2 + c]).toBeCloseTo((vals[i * 2 + c] - mean[c]) / Math.sqrt(biasedVar[c] + 1e-5), 5);
    }
    // running = 0.75 * running + 0.25 * batch, the variance unbiased (n / (n - 1) = 8 / 7).
    expect(maxAbsDiff(bn.runningMean, [0.25 * 4.5, 0.25 * 9])).toBeLessThan(1e-6);
    expect(maxAbsDiff(bn.runningVar, [0.75 + 0.25 * 6, 0.75 + 0.25 * 24])).toBeLessThan(1e-5);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    tf.dispose([x, y]);
    bn.dispose();
  });

  it('loads a state dict without num_batches_tracked strictly, setting it to 0 as PyTorch; nothing else may be missing', () => {
    const bn = new BatchNorm2d(2).train();
    const x = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 3);
    tf.dispose([bn.forward(x), bn.forward(x)]);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(2);
    const before = tf.memory().numTensors;
    const sd = { weight: tf.tensor1d([2, 3]), bias: tf.tensor1d([0.5, -0.5]), running_mean: tf.tensor1d([1, -1]), running_var: tf.tensor1d([4, 9]) };
    expect(bn.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(0);
    expect(bn.numBatchesTracked.dtype).toBe('int32');
    expect(Array.from(bn.runningVar.dataSync())).toEqual([4, 9]);
    const { running_mean: _mean, ...withoutMean } = sd;
    expect(() => bn.loadStateDict(withoutMean)).toThrow('loadStateDict: missing keys: running_mean');
    tf.dispose(Object.values(sd));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    bn.dispose();
  });

  it('passes gradients through batch statistics in training mode', () => {
    const bn = new BatchNorm2d(2).train();
    const x = tf.randomNormal([3, 2, 2, 2], 0, 1, 'float32', 2);
    // sum(y) is constant in x (each channel sums to N * bias), so its input gradient is ~0.
    const g = tf.grad((a: tf.Tensor) => tf.sum(bn.forward(a)))(x);
    expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([x, g]);
    bn.dispose();
  });

  it('names expected and given shapes on bad input', () => {
    const bn = new BatchNorm3d(4);
    tf.tidy(() => {
      expect(() => bn.forward(tf.zeros([1, 2, 2, 4]))).toThrow(/BatchNorm3d: expected \[B, D, H, W, 4\], got shape \[1, 2, 2, 4\]/);
      expect(() => bn.forward(tf.zeros([1, 1, 1, 1, 4]))).toThrow(/more than 1 value per channel/);
    });
    expect(() => new BatchNorm2d(4, { eps: 0 })).toThrow(/eps must be positive/);
    bn.dispose();
  });
});

describe('batchNormTrain', () => {
  it('equals batch norm + residual + ReLU written as tfjs ops, values and gradients to 1e-5', () => {
    const x = tf.randomNormal([2, 3, 4, 5], 0, 2, 'float32', 11);
    const r = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 12);
    const w = tf.randomNormal([5], 1, 0.5, 'float32', 13);
    const b = tf.randomNormal([5], 0, 0.5, 'float32', 14);
    const dy = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 15);
    const reference = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs: tf.Tensor): tf.Tensor => {
      const mean = tf.mean(xs, [0, 1, 2]);
      const c = tf.sub(xs, mean);
      const v = tf.mean(tf.square(c), [0, 1, 2]);
      return tf.relu(tf.add(tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(v, 1e-5))), ws), bs), rs));
    };
    const before = tf.memory().numTensors;
    const ours = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs: tf.Tensor) => {
      const { y, mean, variance } = batchNormTrain(xs, ws, bs, { eps: 1e-5, relu: true, residual: rs });
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, dy));
    })([x, w, b, r]);
    const ref = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs: tf.Tensor) => tf.sum(tf.mul(reference(xs, ws, bs, rs), dy)))([x, w, b, r]);
    ours.forEach((g, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref[i]))).dataSync()[0])).toBeLessThan(1e-5));
    tf.dispose([ours, ref]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r, w, b, dy]);
  });

  it('on wasm runs native/batch_norm.c, equal to the tfjs ops with and without residual and ReLU, moments included', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const shape = [2, 3, 5, 7, 37]; // channels not a multiple of the SIMD width
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 21);
    const r = tf.randomNormal(shape, 0, 1, 'float32', 22);
    const w = tf.randomNormal([37], 1, 0.5, 'float32', 23);
    const b = tf.randomNormal([37], 0, 0.5, 'float32', 24);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 25);
    const axes = [0, 1, 2, 3];
    for (const relu of [false, true]) {
      for (const residual of [false, true]) {
        const reference = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs?: tf.Tensor): tf.Tensor => {
          const { mean, variance } = tf.moments(xs, axes);
          let y = tf.add(tf.mul(tf.mul(tf.sub(xs, mean), tf.rsqrt(tf.add(variance, 1e-5))), ws), bs);
          if (rs) y = tf.add(y, rs);
          return relu ? tf.relu(y) : y;
        };
        const before = tf.memory().numTensors;
        let moments: tf.Tensor[] = [];
        const inputs = residual ? [x, w, b, r] : [x, w, b];
        const run = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs?: tf.Tensor) => {
          const out = batchNormTrain(xs, ws, bs, { eps: 1e-5, relu, residual: rs });
          moments = [out.mean, out.variance];
          return tf.sum(tf.mul(out.y, dy));
        };
        const profile = await tf.profile(() => tf.grads(run)(inputs));
        expect(profile.kernelNames).toEqual(expect.arrayContaining([BN_MOMENTS, BN_APPLY, BN_GRAD_SUMS, BN_GRAD_INPUT]));
        tf.dispose([profile.result as tf.Tensor[], moments]);
        const ours = tf.grads(run)(inputs);
        const ref = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor, rs?: tf.Tensor) => tf.sum(tf.mul(reference(xs, ws, bs, rs), dy)))(inputs);
        const label = `relu ${relu}, residual ${residual}`;
        ours.forEach((g, i) => expect([label, i, tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref[i]))).dataSync()[0]) < 2e-5]).toEqual([label, i, true]));
        const { mean, variance } = tf.moments(x, axes);
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(moments[0], mean))).dataSync()[0])).toBeLessThan(1e-6);
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(moments[1], variance))).dataSync()[0])).toBeLessThan(1e-5);
        tf.dispose([ours, ref, moments, mean, variance]);
        expect(tf.memory().numTensors).toBe(before);
      }
    }
    tf.dispose([x, r, w, b, dy]);
  });
});
