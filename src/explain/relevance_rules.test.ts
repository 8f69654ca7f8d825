import * as tf from '@tensorflow/tfjs';
import { clsRelevanceRow, tokenShare } from './attention_relevance';
import { lrpAdd, lrpLinear, lrpMatMul, safeDiv } from './relevance_rules';

const sum = (t: tf.Tensor) => tf.tidy(() => tf.sum(t).dataSync()[0]);

describe('relevance propagation rules (Chefer et al. 2021)', () => {
  it('divides safely and splits a Linear\'s relevance over the positive contributions only', () => {
    expect(Array.from(safeDiv(tf.tensor([1, 2]), tf.tensor([0, 4])).dataSync())).toEqual([0, 0.5]);
    // x = [1, -2], W = [[2, -1], [1, 1]] ([in, out]): output 0 gets +2 from x0 and -2 from x1 (ignored),
    // output 1 gets -1 and -2 (none positive: no relevance passes).
    const x = tf.tensor2d([[1, -2]]);
    const w = tf.tensor2d([[2, -1], [1, 1]]);
    const r = lrpLinear(x, w, tf.tensor2d([[3, 5]]));
    expect(Array.from(r.dataSync())).toEqual([3, 0]);
    tf.dispose([x, w, r]);
  });

  it('conserves relevance through a skip connection and an attention product, per item', () => {
    const u = tf.tensor3d([[[1, 2]], [[3, 1]]]);
    const v = tf.tensor3d([[[3, 2]], [[1, -1]]]);
    const rOut = tf.tensor3d([[[1, 1]], [[2, 0]]]);
    const [ru, rv] = lrpAdd(u, v, rOut);
    // Item 0: raw shares u/(u+v) = [1/4, 1/2] and [3/4, 1/2], sums 0.75 and 1.25 of 2.
    expect(Array.from(ru.dataSync()).slice(0, 2).map((a) => +a.toFixed(6))).toEqual([0.25, 0.5]);
    expect(sum(tf.slice(ru, [1], [1])) + sum(tf.slice(rv, [1], [1]))).toBeCloseTo(2, 6);
    const a = tf.tensor4d([0.2, 0.8, 0.6, 0.4], [1, 1, 2, 2]);
    const b = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
    const r = tf.ones([1, 1, 2, 3]);
    const [ra, rb] = lrpMatMul(a, b, r);
    expect(ra.shape).toEqual([1, 1, 2, 2]);
    expect(sum(ra) + sum(rb)).toBeCloseTo(6, 5);
    tf.dispose([u, v, rOut, ru, rv, a, b, r, ra, rb]);
  });

  it('rolls the class token\'s row through (I + mean_h (g x)^+) from the last block down', () => {
    // One block, one head, tokens [CLS, p1, p2]: A_bar row 0 = relu(g * x) row 0 = [0, 0.5, 0].
    const g = tf.tensor4d([1, 1, -1, 0, 0, 0, 0, 0, 0], [1, 1, 3, 3]);
    const x = tf.tensor4d([0.2, 0.5, 0.3, 0, 0, 0, 0, 0, 0], [1, 1, 3, 3]);
    const row = clsRelevanceRow([g], [x]);
    expect(Array.from(row.dataSync()).map((v) => +v.toFixed(6))).toEqual([1.2, 0.5, 0]);
    expect(Array.from(tokenShare(row, 1).dataSync())).toEqual([1, 0]);
    expect(() => clsRelevanceRow([g], [])).toThrow(/one gradient and one weight per block, got 1 and 0/);
    tf.dispose([g, x, row]);
  });
});
