import * as tf from '@tensorflow/tfjs';
import { linearAxisWeights, trilinearPlan, trilinearUpsample } from './trilinear_upsample';

describe('trilinearUpsample', () => {
  it('interpolates one axis with half-pixel centres and clamps at the borders', () => {
    const x = tf.tensor3d([0, 1], [1, 1, 2]);
    const y = trilinearUpsample(x, { size: [1, 1, 4] });
    expect(Array.from(y.dataSync())).toEqual([0, 0.25, 0.75, 1]);
    tf.dispose([x, y]);
  });

  it('uses 1 / scaleFactor as the step unless told to recompute it, as PyTorch', () => {
    // in 3, scale 2.5 -> out floor(7.5) = 7; step 0.4, not 3 / 7.
    expect(trilinearPlan([3, 3, 3], { scaleFactor: 2.5 })).toEqual({ outShape: [7, 7, 7], steps: [0.4, 0.4, 0.4] });
    expect(trilinearPlan([3, 3, 3], { scaleFactor: 2.5, recomputeScaleFactor: true }).steps[0]).toBeCloseTo(3 / 7, 12);
    const w = linearAxisWeights(3, 7, 0.4);
    // src(6) = 6.5 * 0.4 - 0.5 = 2.1 -> i0 = 2, i1 = 2 (clamped).
    expect(w.i0[6]).toBe(2);
    expect(w.i1[6]).toBe(2);
    expect(w.w1[1]).toBeCloseTo(0.1, 6);
  });

  it('is separable: a trilinear map of a product is the product of 1-D maps', () => {
    const d = [1, 3], h = [2, 5, 4], w = [0, 7];
    const data: number[] = [];
    for (const a of d) for (const b of h) for (const c of w) data.push(a * b * c);
    const x = tf.tensor3d(data, [2, 3, 2]);
    const y = trilinearUpsample(x, { size: [3, 5, 4] });
    const up = (v: number[], n: number) => {
      const ww = linearAxisWeights(v.length, n, v.length / n);
      return Array.from({ length: n }, (_, i) => ww.w0[i] * v[ww.i0[i]] + ww.w1[i] * v[ww.i1[i]]);
    };
    const [ud, uh, uw] = [up(d, 3), up(h, 5), up(w, 4)];
    const expected: number[] = [];
    for (const a of ud) for (const b of uh) for (const c of uw) expected.push(a * b * c);
    const got = y.dataSync();
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 4));
    tf.dispose([x, y]);
  });

  it('accepts a channels-last batch and leaks no tensors', () => {
    const x = tf.ones([2, 2, 2, 2, 3]);
    const before = tf.memory().numTensors;
    const y = trilinearUpsample(x, { scaleFactor: [1, 2, 3] });
    expect(y.shape).toEqual([2, 2, 4, 6, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
  });

  it('rejects a bad rank and a missing size', () => {
    const x = tf.zeros([2, 2]);
    expect(() => trilinearUpsample(x, { size: [1, 1, 1] })).toThrow(/expected a volume \[D, H, W\]/);
    const v = tf.zeros([2, 2, 2]);
    expect(() => trilinearUpsample(v, {})).toThrow(/exactly one of size or scaleFactor/);
    tf.dispose([x, v]);
  });
});
