import * as tf from '@tensorflow/tfjs';
import { MaxPool2d, MaxPool3d } from './max_pool';
import { maxAbsDiff } from '../../test/helpers';

/** Max pooling by loops, skipping out-of-range cells as PyTorch's -inf padding does. */
function naivePool3d(x: number[][][][], k: number, s: number, p: number): number[][][] {
  const [d, h, w] = [x.length, x[0].length, x[0][0].length];
  const out = (n: number) => Math.floor((n + 2 * p - k) / s) + 1;
  const res: number[][][] = [];
  for (let a = 0; a < out(d); a++) {
    res.push([]);
    for (let b = 0; b < out(h); b++) {
      res[a].push([]);
      for (let c = 0; c < out(w); c++) {
        let m = -Infinity;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++)
            for (let l = 0; l < k; l++) {
              const [z, y, xx] = [a * s - p + i, b * s - p + j, c * s - p + l];
              if (z >= 0 && z < d && y >= 0 && y < h && xx >= 0 && xx < w) m = Math.max(m, x[z][y][xx][0]);
            }
        res[a][b].push(m);
      }
    }
  }
  return res;
}

describe('MaxPool3d', () => {
  it('pads with -inf as PyTorch (kernel 3, stride 2, padding 1) on all-negative input', () => {
    const pool = new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 });
    const x = tf.tidy(() => tf.sub(tf.randomUniform([1, 5, 6, 7, 1], 0, 1, 'float32', 3), 2));
    const before = tf.memory().numTensors;
    const y = pool.forward(x);
    expect(y.shape).toEqual([1, 3, 3, 4, 1]);
    const want = naivePool3d((x.arraySync() as number[][][][][])[0], 3, 2, 1);
    expect(maxAbsDiff(y, want.flat(2))).toBe(0);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('routes the gradient to the maxima', () => {
    const pool = new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 });
    // Values decrease with the index, so each window's maximum is its first cell: per axis the two
    // windows are {pad, 0, 1} and {1, 2, pad}, whose maxima are cells 0 and 1.
    const x = tf.tensor5d(Array.from({ length: 27 }, (_, i) => -i), [1, 3, 3, 3, 1]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(pool.forward(a)))(x);
    const want = new Float32Array(27);
    for (const z of [0, 1]) for (const y of [0, 1]) for (const w of [0, 1]) want[z * 9 + y * 3 + w] = 1;
    expect(maxAbsDiff(g, want)).toBe(0);
    tf.dispose([x, g]);
  });

  it('rejects padding above half the kernel and undersized input', () => {
    expect(() => new MaxPool3d({ kernelSize: 2, padding: 2 })).toThrow(/at most half the kernel size/);
    tf.tidy(() => expect(() => new MaxPool3d({ kernelSize: 3 }).forward(tf.zeros([1, 2, 4, 4, 1]))).toThrow(/smaller than the window/));
  });
});

describe('MaxPool2d', () => {
  it('equals the 3D pool on a depth-1 volume', () => {
    const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 4);
    const a = new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }).forward(x);
    const b = tf.tidy(() => tf.squeeze(new MaxPool3d({ kernelSize: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1] }).forward(tf.expandDims(x, 1)), [1]));
    expect(a.shape).toEqual([2, 4, 3, 3]);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
  });
});

describe('native max pooling on wasm', () => {
  const names = ['MstMaxPool3D', 'MstMaxPool3DGrad'];
  it('equals the composed form, values and gradients, in 2D and 3D (wasm only)', () => {
    if (tf.getBackend() !== 'wasm') return;
    const cases: [tf.Tensor, MaxPool2d | MaxPool3d][] = [
      [tf.randomNormal([2, 5, 9, 7, 3], 0, 1, 'float32', 1), new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 })],
      [tf.randomNormal([1, 4, 6, 6, 2], -3, 1, 'float32', 2), new MaxPool3d({ kernelSize: [1, 3, 2], stride: [1, 2, 1] })],
      [tf.randomNormal([2, 11, 10, 4], 0, 1, 'float32', 3), new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 })],
    ];
    const kernels = names.map((n) => tf.getKernel(n, 'wasm'));
    expect(kernels.every((k) => k)).toBe(true);
    for (const [x, pool] of cases) {
      const run = (): tf.Tensor[] => {
        const y = pool.forward(x);
        const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool.forward(a), dy)))(x);
        dy.dispose();
        return [y, dx];
      };
      const native = run();
      names.forEach((n) => tf.unregisterKernel(n, 'wasm'));
      let composed: tf.Tensor[];
      try {
        composed = run();
      } finally {
        kernels.forEach((k) => tf.registerKernel(k as tf.KernelConfig));
      }
      // Values exactly; gradients up to the order of sums where windows overlap.
      expect(maxAbsDiff(native[0], composed[0])).toBe(0);
      expect(maxAbsDiff(native[1], composed[1])).toBeLessThan(1e-6);
      tf.dispose([x, native, composed]);
    }
  });

  it('routes each window to its first maximum in (d, h, w) order among ties (PyTorch), across blocks of 64 channels', () => {
    if (tf.getBackend() !== 'wasm') return;
    // Rounded values tie often; 70 channels cross the kernel's channel block.
    const [B, D, H, W, C] = [1, 3, 5, 5, 70];
    const x = tf.tidy(() => tf.round(tf.randomNormal([B, D, H, W, C], 0, 1.5, 'float32', 5)));
    const pool = new MaxPool3d({ kernelSize: 3, stride: 2, padding: 1 });
    const dy = tf.tidy(() => tf.randomNormal(pool.forward(x).shape, 0, 1, 'float32', 6));
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool.forward(a), dy)))(x);
    const xs = x.dataSync();
    const gs = dy.dataSync();
    const [, Do, Ho, Wo] = dy.shape;
    const want = new Float32Array(xs.length);
    const at = (z: number, y: number, w: number, c: number) => ((z * H + y) * W + w) * C + c;
    for (let oz = 0; oz < Do; oz++)
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++)
          for (let c = 0; c < C; c++) {
            let best = -1;
            for (let tz = 0; tz < 3; tz++)
              for (let ty = 0; ty < 3; ty++)
                for (let tx = 0; tx < 3; tx++) {
                  const [z, y, w] = [2 * oz + tz - 1, 2 * oy + ty - 1, 2 * ox + tx - 1];
                  if (z < 0 || z >= D || y < 0 || y >= H || w < 0 || w >= W) continue;
                  if (best < 0 || xs[at(z, y, w, c)] > xs[best]) best = at(z, y, w, c);
                }
            want[best] += gs[((oz * Ho + oy) * Wo + ox) * C + c];
          }
    expect(maxAbsDiff(dx, want)).toBe(0);
    tf.dispose([x, dy, dx]);
  });
});
