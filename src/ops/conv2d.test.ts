import * as tf from '@tensorflow/tfjs';
import { conv2dValid } from './conv2d';
import { maxAbsDiff } from '../../test/helpers';

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  out: number;
  s: [number, number];
}

function data(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) + 0.3 * Math.cos(i * 1.13 * seed));
}

/** Forward, dL/dx and dL/dW of L = sum(conv(x, w) * r) with tfjs's own conv2d on another backend. */
async function reference(backend: string, c: Case, xd: Float32Array, wd: Float32Array, rd: Float32Array, rShape: number[]) {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(xd, c.x);
      const w = tf.tensor4d(wd, [...c.k, c.x[3], c.out]);
      const r = tf.tensor(rd, rShape);
      const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(a, b, c.s, 'valid'), r));
      const [gx, gw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([x, w]);
      return { y: tf.conv2d(x, w, c.s, 'valid').dataSync().slice(), gx: gx.dataSync().slice(), gw: gw.dataSync().slice() };
    });
  } finally {
    await tf.setBackend(previous);
  }
}

const cases: Case[] = [
  { x: [2, 7, 6, 3], k: [3, 3], out: 4, s: [1, 1] },
  { x: [2, 9, 8, 3], k: [3, 3], out: 5, s: [2, 2] },
  { x: [1, 10, 11, 2], k: [3, 2], out: 3, s: [2, 3] },
  { x: [2, 6, 6, 4], k: [1, 1], out: 3, s: [1, 1] },
  { x: [2, 7, 8, 4], k: [1, 1], out: 3, s: [2, 2] },
  { x: [1, 13, 12, 3], k: [7, 7], out: 4, s: [2, 2] },
  // More than one 256-deep block of the reduction (K = 3 * 3 * 32, and 612 output pixels for the
  // filter gradient), a partial 8-column panel (20 outputs) and vector packing (channels % 4 = 0).
  { x: [2, 20, 19, 32], k: [3, 3], out: 20, s: [1, 1] },
  { x: [2, 23, 21, 8], k: [3, 3], out: 9, s: [2, 2] },
];

describe('conv2dValid', () => {
  it.each(cases)('matches tfjs conv2d and its cpu gradients for %j', async (c) => {
    const xd = data(c.x.reduce((a, b) => a * b), 1);
    const wd = data(c.k[0] * c.k[1] * c.x[3] * c.out, 2);
    const ho = Math.floor((c.x[1] - c.k[0]) / c.s[0]) + 1;
    const wo = Math.floor((c.x[2] - c.k[1]) / c.s[1]) + 1;
    const rShape = [c.x[0], ho, wo, c.out];
    const rd = data(rShape.reduce((a, b) => a * b), 3);
    const ref = await reference('cpu', c, xd, wd, rd, rShape);

    const before = tf.memory().numTensors;
    const x = tf.tensor4d(xd, c.x);
    const w = tf.tensor4d(wd, [...c.k, c.x[3], c.out]);
    const r = tf.tensor(rd, rShape);
    const y = conv2dValid(x, w, c.s);
    expect(y.shape).toEqual(rShape);
    expect(maxAbsDiff(y, ref.y)).toBeLessThan(1e-4);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dValid(a as tf.Tensor4D, b as tf.Tensor4D, c.s), r));
    const [gx, gw] = tf.grads(f)([x, w]);
    expect(maxAbsDiff(gx, ref.gx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gw, ref.gw)).toBeLessThan(1e-4);
    tf.dispose([x, w, r, y, gx, gw]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives a finite-difference filter gradient on the default backend', () => {
    const x = tf.tensor4d(data(1 * 6 * 5 * 2, 4), [1, 6, 5, 2]);
    const wd = data(3 * 3 * 2 * 2, 5);
    const loss = (w: tf.Tensor) => tf.sum(tf.square(conv2dValid(x, w as tf.Tensor4D, [2, 1])));
    const w = tf.tensor4d(wd, [3, 3, 2, 2]);
    const g = tf.grad(loss)(w);
    const gd = g.dataSync();
    const eps = 1e-2;
    for (const i of [0, 7, 19, 35]) {
      const plus = wd.slice();
      plus[i] += eps;
      const minus = wd.slice();
      minus[i] -= eps;
      const lp = tf.tidy(() => loss(tf.tensor4d(plus, [3, 3, 2, 2])).dataSync()[0]);
      const lm = tf.tidy(() => loss(tf.tensor4d(minus, [3, 3, 2, 2])).dataSync()[0]);
      expect(Math.abs((lp - lm) / (2 * eps) - gd[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(gd[i])));
    }
    tf.dispose([x, w, g]);
  });

  it('runs on the cpu backend too (the kernel is registered per backend)', async () => {
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const x = tf.tensor4d(data(1 * 6 * 6 * 2, 6), [1, 6, 6, 2]);
      const w = tf.tensor4d(data(3 * 3 * 2 * 3, 7), [3, 3, 2, 3]);
      const ours = conv2dValid(x, w, [2, 2]);
      const theirs = tf.conv2d(x, w, 2, 'valid');
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
      tf.dispose([x, w, ours, theirs]);
    } finally {
      await tf.setBackend(previous);
    }
  });

  it('names the expected and given shapes on a channel mismatch', () => {
    tf.tidy(() => {
      expect(() => conv2dValid(tf.zeros([1, 5, 5, 2]) as tf.Tensor4D, tf.zeros([3, 3, 4, 1]) as tf.Tensor4D, [1, 1])).toThrow(/expected input channels 4/);
      expect(() => conv2dValid(tf.zeros([1, 2, 5, 4]) as tf.Tensor4D, tf.zeros([3, 3, 4, 1]) as tf.Tensor4D, [1, 1])).toThrow(/smaller than the kernel 3x3/);
    });
  });
});
