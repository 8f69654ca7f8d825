import * as tf from '@tensorflow/tfjs';
import { linearQuantile, localisationMetrics, pointingGame, sliceCorrectness, thresholdSegmentation, topKIndices } from './localisation';

const shape = [2, 2, 3] as const;
// Lesion: voxels (1, 0, 1) and (1, 0, 2).
const mask = { data: [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], shape };

describe('localisation metrics', () => {
  it('computes quantiles as numpy (linear interpolation)', () => {
    expect(linearQuantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(linearQuantile([0, 10], 0.999)).toBeCloseTo(9.99, 12);
  });

  it('ranks slices and scores slice correctness with top-k', () => {
    expect(topKIndices([0.1, 0.5, 0.2], 2)).toEqual([1, 2]);
    expect(sliceCorrectness([0.6, 0.4], mask, 1)).toBe(false);
    expect(sliceCorrectness([0.6, 0.4], mask, 2)).toBe(true);
  });

  it('plays the pointing game', () => {
    const hit = { data: [0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0], shape };
    const miss = { data: [9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], shape };
    expect(pointingGame(hit, mask)).toBe(true);
    expect(pointingGame(miss, mask)).toBe(false);
  });

  it('thresholds above the quantile and gives Dice and IoU per class', () => {
    // Top two values at (1,0,2) (in the lesion) and (0,0,0) (outside); q = 10/11 keeps exactly them.
    const map = { data: [8, 0, 0, 0, 0, 0, 0, 1, 9, 0, 0, 0], shape };
    const r = thresholdSegmentation(map, mask, 9 / 11);
    // Predicted {0, 8}, true {7, 8}: foreground Dice 2*1/(2+2) = 0.5, IoU 1/3.
    expect(r.dice).toBeCloseTo(0.5, 12);
    expect(r.iou).toBeCloseTo(1 / 3, 12);
    // Background: predicted 10, true 10, both 9: Dice 18/20, IoU 9/11.
    expect(r.diceMean).toBeCloseTo((0.9 + 0.5) / 2, 12);
    expect(r.iouMean).toBeCloseTo((9 / 11 + 1 / 3) / 2, 12);
  });

  it('gives NaN Dice for an empty mask and refuses a mask of another shape', async () => {
    const empty = { data: new Array(12).fill(0), shape };
    expect(thresholdSegmentation({ data: Array.from({ length: 12 }, (_, i) => i), shape }, empty).dice).toBeNaN();
    const map = tf.zeros([2, 2, 3]);
    const bad = tf.zeros([2, 3, 2]);
    await expect(localisationMetrics(map, [1, 0], bad)).rejects.toThrow(/the mask must have the map's shape \[2, 2, 3\], got \[2, 3, 2\]/);
    tf.dispose([map, bad]);
  });

  it('bundles all metrics from tensors', async () => {
    const map = tf.tensor3d([0, 0, 0, 0, 0, 0, 0, 2, 9, 0, 0, 0], [2, 2, 3]);
    const m = await localisationMetrics(map, tf.tensor1d([0.3, 0.7]), tf.tensor3d(mask.data, [2, 2, 3]));
    expect(m).toMatchObject({ sliceCorrect: true, lesionCorrect: true, peak: [1, 0, 2], topSlices: [1] });
    // Without slice attention the map's per-slice sums rank the slices.
    const bySum = await localisationMetrics(map, null, mask);
    expect(bySum.topSlices).toEqual([1]);
    map.dispose();
  });
});
