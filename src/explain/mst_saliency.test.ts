import * as tf from '@tensorflow/tfjs';
import { clsPatchRows, combineSliceAndPlane, mstSaliency, planeAttentionMap, sliceAttentionMap } from './mst_saliency';

describe('MST saliency', () => {
  it('renormalises the CLS -> slice row per head and averages the heads', () => {
    // Two heads over D = 2 slices: rows (after dropping CLS) [0.2, 0.6] -> [0.25, 0.75] and [0.3, 0.3] -> [0.5, 0.5].
    const full = tf.tensor4d([[[[0.2, 0.2, 0.6], [1, 0, 0], [1, 0, 0]], [[0.4, 0.3, 0.3], [1, 0, 0], [1, 0, 0]]]]);
    const rows = tf.tensor3d([[[0.2, 0.6], [0.3, 0.3]]]);
    const expected = [0.375, 0.625];
    for (const input of [full, rows]) {
      const s = sliceAttentionMap(input);
      expect(s.shape).toEqual([1, 2]);
      const got = s.dataSync();
      expect(got[0]).toBeCloseTo(expected[0], 6);
      expect(got[1]).toBeCloseTo(expected[1], 6);
      s.dispose();
    }
    tf.dispose([full, rows]);
  });

  it('zeroes the first patch before renormalising when asked, as the authors', () => {
    const rows = tf.tensor4d([[[[0.4, 0.1, 0.2, 0.3]]]]); // [B=1, D=1, heads=1, P=4]
    const paper = planeAttentionMap(rows, [2, 2]);
    const authors = planeAttentionMap(rows, [2, 2], { zeroFirstPatch: true });
    expect(paper.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(paper.dataSync())).toEqual(Array.from(new Float32Array([0.4, 0.1, 0.2, 0.3])));
    const a = authors.dataSync();
    [0, 1 / 6, 2 / 6, 3 / 6].forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    tf.dispose([rows, paper, authors]);
  });

  it('takes CLS -> patch rows from full maps, skipping registers', () => {
    // T = 1 CLS + 1 register + 4 patches.
    const attn = tf.tensor4d(Array.from({ length: 36 }, (_, i) => i), [1, 1, 6, 6]);
    const r = clsPatchRows(attn, 2);
    expect(Array.from(r.dataSync())).toEqual([2, 3, 4, 5]);
    tf.dispose([attn, r]);
  });

  it('multiplies slice by plane attention and upsamples to the volume, leaking nothing', () => {
    const slice = tf.tensor3d([[[0.5, 1.5]]]); // [1, heads=1, D=2] -> [0.25, 0.75]
    const plane = tf.tensor4d([[[[1, 1, 1, 1]], [[1, 0, 0, 3]]]]); // [1, D=2, heads=1, P=4]
    const before = tf.memory().numTensors;
    const s = mstSaliency({ sliceAttention: slice, planeAttention: plane, gridSize: [2, 2] }, { outputShape: [2, 4, 4] });
    expect(Array.from(s.saliency.dataSync())).toEqual(Array.from(new Float32Array([0.0625, 0.0625, 0.0625, 0.0625, 0.1875, 0, 0, 0.5625])));
    expect(s.saliencyUpsampled?.shape).toEqual([2, 4, 4]);
    // Corner voxels keep the corner values (border clamping).
    expect(s.saliencyUpsampled?.dataSync()[31]).toBeCloseTo(0.5625, 6);
    tf.dispose([s.sliceAttention, s.planeAttention, s.saliency, s.saliencyUpsampled as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([slice, plane]);
  });

  it('refuses mismatched shapes with a clear message', () => {
    const slice = tf.ones([3]);
    const plane = tf.ones([2, 2, 2]);
    expect(() => combineSliceAndPlane(slice, plane)).toThrow(/expected slice attention \[D\] and a per-slice map \[D, h, w\], got \[3\] and \[2, 2, 2\]/);
    const rows = tf.ones([1, 2, 1, 5]);
    expect(() => planeAttentionMap(rows, [2, 2])).toThrow(/for a 2x2 grid, got shape \[1, 2, 1, 5\]/);
    tf.dispose([slice, plane, rows]);
  });
});
