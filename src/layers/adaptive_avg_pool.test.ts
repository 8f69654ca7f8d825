import * as tf from '@tensorflow/tfjs';
import { AdaptiveAvgPool2d, AdaptiveAvgPool3d, adaptiveAvgPool } from './adaptive_avg_pool';
import { maxAbsDiff } from '../../test/helpers';

describe('adaptiveAvgPool', () => {
  it('averages every spatial cell for output size 1', () => {
    const x = tf.randomNormal([2, 3, 4, 5, 6], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const y = new AdaptiveAvgPool3d(1).forward(x);
    const want = tf.mean(x, [1, 2, 3], true);
    expect(y.shape).toEqual([2, 1, 1, 1, 6]);
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-6);
    tf.dispose([y, want]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("uses PyTorch's overlapping bins floor(i n / o) .. ceil((i + 1) n / o) for 5 -> 3", () => {
    // Bins of 0..4 for o = 3: [0, 1], [1, 2, 3], [3, 4].
    const x = tf.tensor4d([0, 1, 2, 3, 4], [1, 1, 5, 1]);
    const y = new AdaptiveAvgPool2d([1, 3]).forward(x);
    expect(maxAbsDiff(y, [0.5, 2, 3.5])).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });

  it('rejects a wrong rank or output size', () => {
    tf.tidy(() => {
      expect(() => adaptiveAvgPool(tf.zeros([2, 3, 4]), [1, 1])).toThrow(/expected \[B, S1, S2, C\]/);
      expect(() => adaptiveAvgPool(tf.zeros([2, 3, 4, 1]), [0, 1])).toThrow(/positive integers/);
    });
  });
});
