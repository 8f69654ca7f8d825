import * as tf from '@tensorflow/tfjs';
import { batchMatMul, batchMatMulTransposeB, transposeLast2 } from './batch_matmul';
import { maxAbsDiff } from '../../test/helpers';

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

describe('batchMatMul', () => {
  it('equals tf.matMul on rank 2, 3 and 4 operands', () => {
    for (const [a, b] of [
      [[5, 4], [4, 3]],
      [[2, 5, 4], [2, 4, 3]],
      [[2, 3, 5, 4], [2, 3, 4, 7]],
    ]) {
      const x = seeded(a, 1);
      const y = seeded(b, 2);
      const got = batchMatMul(x, y);
      const want = tf.matMul(x, y);
      expect(got.shape).toEqual(want.shape);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      tf.dispose([x, y, got, want]);
    }
  });

  it('has the gradient of tf.matMul', () => {
    const a = seeded([2, 3, 5, 4], 3);
    const b = seeded([2, 3, 4, 6], 4);
    const w = seeded([2, 3, 5, 6], 5);
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(batchMatMul(x, y), w)))([a, b]);
    const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
    expect(maxAbsDiff(ours[0], ref[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[1], ref[1])).toBeLessThan(1e-5);
    tf.dispose([a, b, w, ...ours, ...ref]);
  });

  it('rejects mismatched operands with the shapes in the message', () => {
    const a = tf.zeros([2, 5, 4]);
    const b = tf.zeros([3, 4, 2]);
    expect(() => batchMatMul(a, b)).toThrow(/\[2, 5, 4\] and \[3, 4, 2\]/);
    tf.dispose([a, b]);
  });
});

describe('batchMatMulTransposeB', () => {
  it('equals a @ b^T and has the matching gradient', () => {
    const a = seeded([2, 3, 5, 4], 6);
    const b = seeded([2, 3, 7, 4], 7);
    const w = seeded([2, 3, 5, 7], 8);
    const want = tf.matMul(a, b, false, true);
    const got = batchMatMulTransposeB(a, b);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(batchMatMulTransposeB(x, y), w)))([a, b]);
    const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), w)))([a, b]);
    expect(maxAbsDiff(ours[0], ref[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(ours[1], ref[1])).toBeLessThan(1e-5);
    tf.dispose([a, b, w, want, got, ...ours, ...ref]);
  });

  it('leaks no tensors', () => {
    const a = seeded([1, 2, 3, 4], 9);
    const before = tf.memory().numTensors;
    const t = transposeLast2(a);
    const y = batchMatMulTransposeB(a, a);
    tf.dispose([t, y]);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
