import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';
import { attentionRollout } from './rollout';

/** Full-matrix rollout on plain arrays: the definition, for one image. */
function naiveRollout(blocks: number[][][][], fuse: (v: number[]) => number, prefix: number): number[] {
  const t = blocks[0][0].length;
  let r: number[][] = Array.from({ length: t }, (_, i) => Array.from({ length: t }, (_, j) => (i === j ? 1 : 0)));
  for (const heads of blocks) {
    const a = Array.from({ length: t }, (_, i) => Array.from({ length: t }, (_, j) => fuse(heads.map((h) => h[i][j])) + (i === j ? 1 : 0)));
    a.forEach((row) => {
      const s = row.reduce((p, v) => p + v, 0);
      row.forEach((_, j) => (row[j] /= s));
    });
    r = a.map((row) => Array.from({ length: t }, (_, j) => row.reduce((p, v, k) => p + v * r[k][j], 0)));
  }
  const cls = r[0].slice(prefix);
  const s = cls.reduce((p, v) => p + v, 0);
  return cls.map((v) => v / s);
}

function randomAttention(rng: Rng, heads: number, t: number): number[][][] {
  return Array.from({ length: heads }, () =>
    Array.from({ length: t }, () => {
      const row = Array.from({ length: t }, () => rng.uniform() + 0.01);
      const s = row.reduce((p, v) => p + v, 0);
      return row.map((v) => v / s);
    }),
  );
}

describe('attentionRollout', () => {
  const rng = new Rng(7);
  const blocks = [0, 1, 2].map(() => randomAttention(rng, 3, 6)); // 3 blocks, 3 heads, T = 2 + 4
  const fusions = { mean: (v: number[]) => v.reduce((p, x) => p + x, 0) / v.length, max: (v: number[]) => Math.max(...v), min: (v: number[]) => Math.min(...v) };

  it.each(Object.keys(fusions) as (keyof typeof fusions)[])('matches the full-matrix definition with %s head fusion', (fusion) => {
    const tensors = blocks.map((b) => tf.tensor4d([b]));
    const before = tf.memory().numTensors;
    const r = attentionRollout(tensors, 2, [2, 2], { headFusion: fusion });
    expect(r.shape).toEqual([1, 2, 2]);
    const expected = naiveRollout(blocks, fusions[fusion], 2);
    const got = r.dataSync();
    expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(tensors);
  });

  it('refuses an unknown fusion and an inconsistent grid', () => {
    const a = tf.ones([1, 1, 5, 5]);
    expect(() => attentionRollout([a], 1, [2, 2], { headFusion: 'median' as 'mean' })).toThrow(/headFusion must be 'mean', 'max' or 'min', got 'median'/);
    expect(() => attentionRollout([a], 2, [2, 2])).toThrow(/5 tokens do not split into 2 prefix tokens and a 2x2 grid/);
    a.dispose();
  });
});
