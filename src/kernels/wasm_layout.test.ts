import * as tf from '@tensorflow/tfjs';
import { simplifyPermutation } from './wasm_layout';

/** Plain-JS transpose by index arithmetic. */
function referenceTranspose(data: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const r = shape.length;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((a) => shape[a]);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Array<number>(size);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < size; o++) {
    let rem = o;
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d];
      rem = Math.floor(rem / outShape[d]);
    }
    let src = 0;
    for (let d = 0; d < r; d++) src += idx[d] * strides[perm[d]];
    out[o] = data[src];
  }
  return out;
}

describe('wasm Transpose, Unpack and Slice kernels', () => {
  it('runs on the wasm backend', () => {
    expect(tf.getBackend()).toBe(process.env.MST_TEST_BACKEND ?? 'wasm');
  });

  it.each([
    [[2, 9, 3, 2, 5], [2, 0, 3, 1, 4]],
    [[2, 3, 9, 5], [0, 2, 1, 3]],
    [[4, 19, 13], [0, 2, 1]],
    [[37, 21], [1, 0]],
    [[64, 48], [1, 0]],
    [[3, 36, 22], [0, 2, 1]],
    [[3, 1, 4, 1, 5], [4, 1, 0, 3, 2]],
    [[2, 3, 4, 5], [3, 2, 1, 0]],
    [[2, 3, 4, 5, 2, 3], [5, 0, 4, 1, 3, 2]],
    [[6, 1], [1, 0]],
  ])('transposes %j by %j as index arithmetic does, float32 and int32', (shape, perm) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: size }, (_, i) => i * 1.5 - 7);
    for (const dtype of ['float32', 'int32'] as const) {
      const x = tf.tensor(dtype === 'int32' ? values.map(Math.round) : values, shape, dtype);
      const y = tf.transpose(x, perm);
      expect(y.shape).toEqual(perm.map((a) => shape[a]));
      expect(Array.from(y.dataSync())).toEqual(referenceTranspose(x.dataSync(), shape, perm));
      tf.dispose([x, y]);
    }
  });

  it('unstacks along every axis', () => {
    const shape = [3, 4, 5];
    const x = tf.tensor(Array.from({ length: 60 }, (_, i) => i), shape);
    const data = x.dataSync();
    for (let axis = 0; axis < 3; axis++) {
      const parts = tf.unstack(x, axis);
      expect(parts).toHaveLength(shape[axis]);
      parts.forEach((p, k) => {
        const perm = [axis, ...[0, 1, 2].filter((a) => a !== axis)];
        const all = referenceTranspose(data, shape, perm);
        const n = p.size;
        expect(Array.from(p.dataSync())).toEqual(all.slice(k * n, (k + 1) * n));
      });
      tf.dispose(parts);
    }
    x.dispose();
  });

  it('transposes gradients through tf.grad as before', () => {
    const x = tf.tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const w = tf.tensor(Array.from({ length: 24 }, (_, i) => (i % 5) - 2), [4, 3, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [2, 1, 0]), w)))(x);
    expect(Array.from(g.dataSync())).toEqual(referenceTranspose(w.dataSync(), [4, 3, 2], [2, 1, 0]));
    tf.dispose([x, w, g]);
  });

  it('simplifies permutations: size-1 axes dropped, adjacent axes merged', () => {
    expect(simplifyPermutation([2, 257, 3, 6, 64], [2, 0, 3, 1, 4])).toEqual({ shape: [2, 257, 3, 6, 64], perm: [2, 0, 3, 1, 4] });
    expect(simplifyPermutation([2, 6, 257, 64], [0, 2, 1, 3])).toEqual({ shape: [2, 6, 257, 64], perm: [0, 2, 1, 3] });
    expect(simplifyPermutation([4, 5, 6], [0, 1, 2])).toEqual({ shape: [120], perm: [0] });
    expect(simplifyPermutation([4, 5, 6], [2, 0, 1])).toEqual({ shape: [20, 6], perm: [1, 0] });
    expect(simplifyPermutation([3, 1, 4], [1, 2, 0])).toEqual({ shape: [3, 4], perm: [1, 0] });
  });

  it.each([
    [[7], [2], [4]],
    [[4, 6], [1, 0], [2, 6]],
    [[4, 6], [0, 2], [4, 3]],
    [[3, 5, 4], [1, 2, 0], [2, 3, 4]],
    [[2, 3, 4, 5], [1, 0, 1, 2], [1, 3, 2, 3]],
    [[2, 3, 4, 5, 6], [0, 1, 0, 2, 0], [2, 2, 4, 2, 6]],
    [[2, 3, 4, 5, 3, 2], [1, 1, 2, 0, 1, 1], [1, 2, 2, 5, 2, 1]],
    [[3, 4], [0, 0], [3, 4]],
    [[3, 4], [1, 1], [0, 2]],
  ])('slices %j from %j size %j as index arithmetic does, float32 and int32', (shape, begin, size) => {
    const total = shape.reduce((a, b) => a * b, 1);
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const count = size.reduce((a, b) => a * b, 1);
    const expected: number[] = [];
    for (let o = 0; o < count; o++) {
      let rem = o;
      let src = 0;
      for (let d = shape.length - 1; d >= 0; d--) {
        src += (begin[d] + (rem % size[d])) * strides[d];
        rem = Math.floor(rem / size[d]);
      }
      expected.push(src * 2 - 5);
    }
    for (const dtype of ['float32', 'int32'] as const) {
      const x = tf.tensor(Array.from({ length: total }, (_, i) => i * 2 - 5), shape, dtype);
      const y = tf.slice(x, begin, size);
      expect(y.shape).toEqual(size);
      expect(y.dtype).toBe(dtype);
      expect(Array.from(y.dataSync())).toEqual(expected);
      tf.dispose([x, y]);
    }
  });

  it('slices with -1 sizes and bool tensors', () => {
    const x = tf.tensor([[1, 2, 3], [4, 5, 6]]);
    const y = tf.slice(x, [0, 1], [-1, -1]);
    expect(y.arraySync()).toEqual([[2, 3], [5, 6]]);
    const b = tf.slice(tf.tensor([true, false, true], [3], 'bool'), [1], [2]);
    expect(Array.from(b.dataSync())).toEqual([0, 1]);
    tf.dispose([x, y, b]);
  });
});
