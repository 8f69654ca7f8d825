import * as tf from '@tensorflow/tfjs';
import { keyPaddingBias, scaledDotProductAttention } from './attention';
import { maxAbsDiff } from '../../test/helpers';

function seeded(shape: number[], seed: number, scale = 1): tf.Tensor4D {
  return tf.randomUniform(shape as [number, number, number, number], -scale, scale, "float32", seed);
}

/** softmax(q k^T / sqrt(d)) v written with tfjs's own ops. */
function naive(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias?: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    let s = tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[3]));
    if (bias) s = tf.add(s, bias);
    const p = tf.softmax(s);
    return [tf.matMul(p, v), p];
  });
}

describe('scaledDotProductAttention', () => {
  it('equals softmax(q k^T / sqrt(d)) v and returns row-stochastic weights', () => {
    const q = seeded([2, 3, 5, 8], 1, 3);
    const k = seeded([2, 3, 7, 8], 2, 3);
    const v = seeded([2, 3, 7, 8], 3);
    const { output, weights } = scaledDotProductAttention(q, k, v, { returnWeights: true });
    const [o, p] = naive(q, k, v);
    expect(output.shape).toEqual([2, 3, 5, 8]);
    expect(weights?.shape).toEqual([2, 3, 5, 7]);
    expect(maxAbsDiff(output, o)).toBeLessThan(1e-6);
    expect(maxAbsDiff(weights as tf.Tensor, p)).toBeLessThan(1e-6);
    const rowSums = tf.sum(weights as tf.Tensor, -1);
    expect(maxAbsDiff(rowSums, tf.onesLike(rowSums))).toBeLessThan(1e-6);
    tf.dispose([q, k, v, output, weights as tf.Tensor, o, p, rowSums]);
  });

  it('gives padded keys zero weight through keyPaddingBias', () => {
    const q = seeded([2, 1, 4, 4], 4);
    const k = seeded([2, 1, 4, 4], 5);
    const v = seeded([2, 1, 4, 4], 6);
    const mask = keyPaddingBias(tf.tensor2d([[0, 0, 0, 1], [0, 1, 1, 1]]) as tf.Tensor2D);
    expect(Array.from(mask.dataSync())).toEqual([0, 0, 0, -Infinity, 0, -Infinity, -Infinity, -Infinity]);
    const { output, weights } = scaledDotProductAttention(q, k, v, { mask, returnWeights: true });
    const w = (weights as tf.Tensor).arraySync() as number[][][][];
    expect(w[0][0].every((row) => row[3] === 0)).toBe(true);
    expect(w[1][0].every((row) => row[0] === 1)).toBe(true);
    const [o] = naive(q, k, v, mask);
    expect(maxAbsDiff(output, o)).toBeLessThan(1e-6);
    tf.dispose([q, k, v, mask, output, weights as tf.Tensor, o]);
  });

  it('has the gradient of the naive formulation', () => {
    const q = seeded([1, 2, 5, 4], 7, 2);
    const k = seeded([1, 2, 5, 4], 8, 2);
    const v = seeded([1, 2, 5, 4], 9);
    const w = seeded([1, 2, 5, 4], 10);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(scaledDotProductAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D).output, w)),
    )([q, k, v]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(naive(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D)[0], w)),
    )([q, k, v]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i], ref[i])).toBeLessThan(1e-5);
    tf.dispose([q, k, v, w, ...ours, ...ref]);
  });

  it('rejects q, k, v of different batch or width and leaks nothing', () => {
    const q = tf.zeros([1, 2, 5, 4]) as tf.Tensor4D;
    const k = tf.zeros([1, 2, 5, 3]) as tf.Tensor4D;
    expect(() => scaledDotProductAttention(q, k, k)).toThrow(/expected q \[B, heads, Tq, d\].*\[1, 2, 5, 3\]/);
    const before = tf.memory().numTensors;
    const { output } = scaledDotProductAttention(q, q, q);
    output.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([q, k]);
  });
});
