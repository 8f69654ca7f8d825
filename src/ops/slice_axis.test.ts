import * as tf from '@tensorflow/tfjs';
import { sliceAxis } from './slice_axis';
import { maxAbsDiff } from '../../test/helpers';

describe('sliceAxis', () => {
  it('takes strided cells of any axis of a rank-5 tensor, with the gradient scattering back', () => {
    const x = tf.reshape(tf.range(0, 2 * 7 * 3 * 2 * 2), [2, 7, 3, 2, 2]);
    const y = sliceAxis(x, 1, 1, 3, 2);
    const want = tf.stridedSlice(x, [0, 1, 0, 0, 0], [2, 6, 3, 2, 2], [1, 2, 1, 1, 1]);
    expect(y.shape).toEqual([2, 3, 3, 2, 2]);
    expect(maxAbsDiff(y, want)).toBe(0);
    const g = tf.grad((a: tf.Tensor) => tf.sum(sliceAxis(a, 3, 1, 1)))(x);
    expect(tf.tidy(() => tf.sum(g).dataSync()[0])).toBe(2 * 7 * 3 * 2);
    tf.dispose([x, y, want, g]);
  });

  it('names the axis and range when cells fall outside', () => {
    tf.tidy(() => expect(() => sliceAxis(tf.zeros([1, 5, 1]), 1, 1, 3, 2)).toThrow(/cells 1\.\.5 \(step 2\) are outside axis 1 of size 5/));
  });
});
