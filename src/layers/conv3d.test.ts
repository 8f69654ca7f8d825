import * as tf from '@tensorflow/tfjs';
import { Conv3d } from './conv3d';
import { Rng } from '../utils/rng';
import { maxAbsDiff } from '../../test/helpers';

type T3 = [number, number, number];
interface Case {
  x: [number, number, number, number, number];
  out: number;
  k: T3;
  s: T3;
  p: T3;
  bias: boolean;
}

function data(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.29 + seed) + 0.2 * Math.cos(i * 0.71 * seed));
}

/** tfjs's own conv3d (after explicit padding) and its gradients on the cpu backend. */
async function reference(c: Case, xd: Float32Array, wd: Float32Array, bd: Float32Array, rd: Float32Array, rShape: number[]) {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return tf.tidy(() => {
      const x = tf.tensor5d(xd, c.x);
      const w = tf.tensor5d(wd, [...c.k, c.x[4], c.out]);
      const b = tf.tensor1d(bd);
      const r = tf.tensor(rd, rShape);
      const fwd = (a: tf.Tensor, f: tf.Tensor) => {
        const padded = tf.pad(a, [[0, 0], [c.p[0], c.p[0]], [c.p[1], c.p[1]], [c.p[2], c.p[2]], [0, 0]]) as tf.Tensor5D;
        const y = tf.conv3d(padded, f as tf.Tensor5D, c.s, 'valid');
        return c.bias ? tf.add(y, b) : y;
      };
      const [gx, gw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(fwd(a, f), r)))([x, w]);
      return { y: fwd(x, w).dataSync().slice(), gx: gx.dataSync().slice(), gw: gw.dataSync().slice() };
    });
  } finally {
    await tf.setBackend(previous);
  }
}

const cases: Case[] = [
  { x: [1, 5, 6, 7, 2], out: 3, k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1], bias: true },
  { x: [2, 6, 7, 6, 3], out: 4, k: [3, 3, 3], s: [2, 2, 2], p: [1, 1, 1], bias: false },
  { x: [1, 7, 6, 6, 2], out: 3, k: [1, 1, 1], s: [2, 2, 2], p: [0, 0, 0], bias: true },
  { x: [1, 8, 9, 9, 1], out: 4, k: [7, 7, 7], s: [2, 2, 2], p: [3, 3, 3], bias: false },
  { x: [1, 5, 8, 7, 2], out: 2, k: [3, 5, 1], s: [3, 1, 2], p: [0, 2, 0], bias: true },
];

describe('Conv3d', () => {
  it.each(cases)('matches tfjs conv3d and its cpu gradients for %j', async (c) => {
    const conv = new Conv3d(c.x[4], c.out, { kernelSize: c.k, stride: c.s, padding: c.p, bias: c.bias, rng: new Rng(3) });
    const xd = data(c.x.reduce((a, b) => a * b), 1);
    const wd = (conv.weight.dataSync() as Float32Array).slice();
    const bd = conv.bias ? (conv.bias.dataSync() as Float32Array).slice() : new Float32Array(c.out);
    const outSize = [1, 2, 3].map((a) => Math.floor((c.x[a] + 2 * c.p[a - 1] - c.k[a - 1]) / c.s[a - 1]) + 1);
    const rShape = [c.x[0], ...outSize, c.out];
    const rd = data(rShape.reduce((a, b) => a * b), 2);
    const ref = await reference(c, xd, wd, bd, rd, rShape);

    const before = tf.memory().numTensors;
    const x = tf.tensor5d(xd, c.x);
    const r = tf.tensor(rd, rShape);
    const y = conv.forward(x);
    expect(y.shape).toEqual(rShape);
    expect(maxAbsDiff(y, ref.y)).toBeLessThan(1e-4);
    const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(conv.forward(a), r)))(x);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(conv.forward(x), r)) as tf.Scalar, [conv.weight]);
    expect(maxAbsDiff(gx, ref.gx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[conv.weight.name], ref.gw)).toBeLessThan(1e-4);
    tf.dispose([x, r, y, gx, value, grads[conv.weight.name]]);
    expect(tf.memory().numTensors).toBe(before);
    conv.dispose();
  });

  it('keeps PyTorch names and shapes and draws Kaiming fan-out weights when asked', () => {
    const conv = new Conv3d(16, 32, { kernelSize: 3, padding: 1, bias: false, init: 'kaiming-normal-fan-out', rng: new Rng(1) });
    expect(conv.stateDictShapes()).toEqual({ weight: [32, 16, 3, 3, 3] });
    const std = tf.tidy(() => Math.sqrt(tf.moments(conv.weight).variance.dataSync()[0]));
    // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / (32 * 27)).
    expect(std).toBeCloseTo(Math.sqrt(2 / (32 * 27)), 3);
    conv.dispose();
  });

  it('names expected and given shapes on bad input', () => {
    const conv = new Conv3d(2, 3, { kernelSize: 3 });
    tf.tidy(() => {
      expect(() => conv.forward(tf.zeros([1, 4, 4, 4]))).toThrow(/expected input \[B, D, H, W, C\], got shape \[1, 4, 4, 4\]/);
      expect(() => conv.forward(tf.zeros([1, 4, 4, 4, 5]))).toThrow(/expected 2 channels/);
      expect(() => conv.forward(tf.zeros([1, 2, 4, 4, 2]))).toThrow(/smaller than the kernel/);
    });
    conv.dispose();
  });
});
