import * as tf from '@tensorflow/tfjs';

// The default backend (wasm with mst-ts's kernels) sums leading axes with native/column_sum.c;
// summing the same numbers as trailing axes of a transposed copy runs tfjs-wasm's own kernel.
describe('wasm Sum over leading axes (native/column_sum.c)', () => {
  it.each([
    [[8224, 384], [0]],
    [[2, 257, 1152], [0, 1]],
    [[5, 3, 7], [0]],
    [[300, 2, 3], [1, 0]],
    [[6, 1], [0]],
  ] as const)('shape %j over axes %j equals the stock kernel bit for bit, keepDims too, leaking nothing', (shape, axes) => {
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 7);
    const before = tf.memory().numTensors;
    const ours = tf.sum(x, [...axes]);
    const perm = [...Array(shape.length).keys()].filter((a) => !(axes as readonly number[]).includes(a)).concat([...axes].sort());
    const t = tf.transpose(x, perm);
    const reduced = [...Array(axes.length).keys()].map((i) => shape.length - axes.length + i);
    const stock = tf.sum(t, reduced);
    expect(ours.shape).toEqual(stock.shape);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(stock.dataSync()));
    const kept = tf.sum(x, [...axes], true);
    expect(kept.shape).toEqual(shape.map((n, i) => ((axes as readonly number[]).includes(i) ? 1 : n)));
    expect(Array.from(kept.dataSync())).toEqual(Array.from(ours.dataSync()));
    tf.dispose([ours, t, stock, kept]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('leaves int32 sums, trailing and whole-tensor sums and negative axes to equal results', () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
    expect(Array.from(tf.sum(x, 0).dataSync())).toEqual([5, 7, 9]);
    const f = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    expect(Array.from(tf.sum(f, -1).dataSync())).toEqual([3, 7, 11, 15]);
    expect(Array.from(tf.sum(f, [-3]).dataSync())).toEqual([6, 8, 10, 12]);
    expect(tf.sum(f).dataSync()[0]).toBe(36);
    tf.dispose([x, f]);
  });
});
