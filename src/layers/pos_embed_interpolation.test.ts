import * as tf from '@tensorflow/tfjs';
import { bicubicResizeMatrix, interpolatePosEmbed, PosEmbedCache, posEmbedResizeMatrices } from './pos_embed_interpolation';
import { maxAbsDiff } from '../../test/helpers';

function rowSums(m: Float32Array, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => m.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0));
}

describe('bicubicResizeMatrix', () => {
  it('is the identity when sizes are equal and no scale factor is given', () => {
    const m = bicubicResizeMatrix(5, 5);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(m[i * 5 + j]).toBeCloseTo(i === j ? 1 : 0, 7);
  });

  it('has rows summing to one, plain and antialiased, up and down', () => {
    for (const [a, b] of [
      [37, 16],
      [37, 50],
      [5, 3],
    ]) {
      for (const antialias of [false, true]) {
        for (const s of rowSums(bicubicResizeMatrix(a, b, { antialias }), b, a)) expect(s).toBeCloseTo(1, 6);
      }
    }
  });

  it('uses 1 / scaleFactor for source coordinates, not the size ratio', () => {
    const bySize = bicubicResizeMatrix(37, 16);
    const byScale = bicubicResizeMatrix(37, 16, { scaleFactor: 16.1 / 37 });
    expect(maxAbsDiff(tf.tensor1d(bySize), byScale)).toBeGreaterThan(1e-3);
  });

  it('rejects non-positive sizes and scale factors', () => {
    expect(() => bicubicResizeMatrix(0, 3)).toThrow(/positive integer sizes, got 0 -> 3/);
    expect(() => bicubicResizeMatrix(3, 3, { scaleFactor: -1 })).toThrow(/positive scaleFactor, got -1/);
  });
});

describe('interpolatePosEmbed', () => {
  it('returns the embedding unchanged for the native grid and checks its shape', () => {
    const pos = tf.randomNormal([1, 1 + 5 * 5, 3], 0, 1, 'float32', 1);
    const same = interpolatePosEmbed(pos, 5, 5, { offset: 0.1, antialias: false });
    expect(maxAbsDiff(same, pos)).toBe(0);
    const bad = tf.zeros([1, 7, 3]);
    expect(() => interpolatePosEmbed(bad, 2, 2, { offset: 0.1, antialias: false })).toThrow(/\[1, 1 \+ M\*M, E\], got \[1, 7, 3\]/);
    tf.dispose([pos, same, bad]);
  });

  it('keeps the class row and resizes the patch rows to a non-square grid', () => {
    const pos = tf.randomNormal([1, 1 + 5 * 5, 3], 0, 1, 'float32', 2);
    const out = interpolatePosEmbed(pos, 3, 4, { offset: 0.1, antialias: false });
    expect(out.shape).toEqual([1, 13, 3]);
    expect(maxAbsDiff(tf.slice(out, [0, 0, 0], [1, 1, 3]), tf.slice(pos, [0, 0, 0], [1, 1, 3]))).toBe(0);
    tf.dispose([pos, out]);
  });

  it('rejects an offset whose output size PyTorch would not make equal to the grid', () => {
    expect(() => posEmbedResizeMatrices(37, 16, 16, { offset: 1.5, antialias: false })).toThrow(/gives 17 rows from 37, not the requested 16/);
  });
});

describe('PosEmbedCache', () => {
  it('computes once per grid, refreshes after assign, and passes gradients to the parameter', () => {
    const pos = tf.variable(tf.randomNormal([1, 1 + 5 * 5, 3], 0, 1, 'float32', 3));
    const cache = new PosEmbedCache({ offset: 0.1, antialias: false });
    const a = cache.get(pos, 3, 4);
    const countAfterFirst = tf.memory().numTensors;
    const b = cache.get(pos, 3, 4);
    expect(tf.memory().numTensors).toBe(countAfterFirst + 1); // only the handed-out clone
    const direct = interpolatePosEmbed(pos, 3, 4, { offset: 0.1, antialias: false });
    expect(maxAbsDiff(b, direct)).toBe(0);
    tf.tidy(() => pos.assign(tf.mul(pos, 2)));
    const c = cache.get(pos, 3, 4);
    const doubled = tf.mul(direct, 2);
    expect(maxAbsDiff(c, doubled)).toBeLessThan(1e-6);

    const w = tf.randomNormal([1, 13, 3], 0, 1, 'float32', 4);
    const viaCache = tf.variableGrads(() => tf.sum(tf.mul(cache.get(pos, 3, 4), w)) as tf.Scalar, [pos]);
    const viaOps = tf.variableGrads(() => tf.sum(tf.mul(interpolatePosEmbed(pos, 3, 4, { offset: 0.1, antialias: false }), w)) as tf.Scalar, [pos]);
    expect(maxAbsDiff(viaCache.grads[pos.name], viaOps.grads[pos.name])).toBeLessThan(1e-5);
    tf.dispose([a, b, c, direct, doubled, w, viaCache.value, viaOps.value, ...Object.values(viaCache.grads), ...Object.values(viaOps.grads)]);
    const beforeDispose = tf.memory().numTensors;
    cache.dispose();
    expect(tf.memory().numTensors).toBe(beforeDispose - 1);
    pos.dispose();
  });
});
