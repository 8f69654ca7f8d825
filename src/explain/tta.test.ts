import * as tf from '@tensorflow/tfjs';
import { FLIP_COMBINATIONS, testTimeAugmentation } from './tta';

describe('testTimeAugmentation', () => {
  it('runs the 8 flips in the authors\' order', () => {
    expect(FLIP_COMBINATIONS).toEqual([[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
  });

  it('flips each map back, so a map that follows the input averages to itself', () => {
    const volume = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => i), [2, 3, 4]);
    const before = tf.memory().numTensors;
    let calls = 0;
    const r = testTimeAugmentation(volume, (v) => {
      calls++;
      // A map equal to the (flipped) input, a per-slice map, and probabilities that depend on the flip.
      return {
        probabilities: tf.tensor1d([calls, 0]),
        maps: { same: tf.clone(v), perSlice: tf.sum(v, [1, 2]) },
      };
    });
    expect(calls).toBe(8);
    expect(Array.from(r.maps.same.dataSync())).toEqual(Array.from(volume.dataSync()));
    expect(Array.from(r.maps.perSlice.dataSync())).toEqual([66, 210]);
    expect(Array.from(r.probabilities.dataSync())).toEqual([4.5, 0]);
    tf.dispose([r.probabilities, r.maps.same, r.maps.perSlice]);
    expect(tf.memory().numTensors).toBe(before);
    volume.dispose();
  });

  it('refuses a batch and flip axes beyond the volume', () => {
    const x = tf.zeros([1, 2, 2, 2, 1]);
    const pass = () => ({ probabilities: tf.zeros([2]), maps: {} });
    expect(() => testTimeAugmentation(x, pass)).toThrow(/expected a volume \[D, H, W\] or \[D, H, W, C\], got shape \[1, 2, 2, 2, 1\]/);
    const v = tf.zeros([2, 2, 2]);
    expect(() => testTimeAugmentation(v, pass, { flips: [[3]] })).toThrow(/flip axes must be among 0, 1, 2/);
    tf.dispose([x, v]);
  });
});
