import * as tf from '@tensorflow/tfjs';
import { SlicePositionalEmbedding, SliceTransformer } from './slice_transformer';
import { Rng } from '../utils/rng';

describe('SlicePositionalEmbedding', () => {
  it('sinusoidal: sin in even and cos in odd columns, with no slice cap', async () => {
    const pe = new SlicePositionalEmbedding('sinusoidal', 8);
    const t = pe.forward(300);
    expect(t.shape).toEqual([300, 8]);
    const v = await t.data();
    expect(Array.from(v.slice(0, 8))).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(v[5 * 8]).toBeCloseTo(Math.sin(5), 6);
    expect(v[5 * 8 + 3]).toBeCloseTo(Math.cos(5 / Math.pow(10000, 2 / 8)), 6);
    expect(pe.stateDictKeys()).toEqual([]);
    t.dispose();
  });

  it('learned: rows 0..D-1 of the table up to its length, as nn.Embedding', async () => {
    const pe = new SlicePositionalEmbedding('learned', 3, 4, new Rng(5));
    expect(pe.stateDictShapes()).toEqual({ weight: [4, 3] });
    const table = await (pe.weight as tf.Variable).data();
    const t = pe.forward(2);
    expect(Array.from(await t.data())).toEqual(Array.from(table.slice(0, 6)));
    t.dispose();
    pe.dispose();
  });

  it('learned: longer volumes get the table resampled linearly with the end rows kept', async () => {
    const pe = new SlicePositionalEmbedding('learned', 1, 3, new Rng(5));
    (pe.weight as tf.Variable).assign(tf.tensor2d([[0], [10], [30]]));
    const t = pe.forward(5);
    expect(Array.from(await t.data())).toEqual([0, 5, 10, 20, 30]);
    t.dispose();
    pe.dispose();
  });

  it('rejects a bad kind or slice count', () => {
    expect(() => new SlicePositionalEmbedding('rope' as 'learned', 4)).toThrow(/expected 'learned' or 'sinusoidal', got 'rope'/);
    const pe = new SlicePositionalEmbedding('sinusoidal', 4);
    expect(() => pe.forward(0)).toThrow(/positive slice count, got 0/);
  });
});

describe('SliceTransformer', () => {
  it('takes more slices than a learned table holds', () => {
    const st = new SliceTransformer({ dModel: 24, heads: 12, positionalEmbedding: 'learned', maxSlices: 4 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([1, 7, 24], 0, 1, 'float32', 1);
    const { features } = st.forward(x);
    expect(features.shape).toEqual([1, 24]);
    tf.dispose([x, features]);
    expect(tf.memory().numTensors).toBe(before);
    st.dispose();
  });

  it('returns only the last layer for attention true and every layer for "all"', () => {
    const st = new SliceTransformer({ dModel: 16, heads: 4, numLayers: 2 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 3, 16], 0, 1, 'float32', 2);
    const last = st.forward(x, { attention: true });
    const all = st.forward(x, { attention: 'all' });
    expect(last.attentions?.map((a) => a.shape)).toEqual([[2, 4, 4, 4]]);
    expect(all.attentions?.length).toBe(2);
    // Softmax rows sum to one.
    const rowSums = tf.tidy(() => tf.sum((last.attentions as tf.Tensor[])[0], -1));
    expect(Math.max(...Array.from(rowSums.dataSync()).map((s) => Math.abs(s - 1)))).toBeLessThan(1e-5);
    tf.dispose([x, rowSums, last.features, all.features, ...(last.attentions ?? []), ...(all.attentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    st.dispose();
  });

  it('names what it expected and what it got for bad input', () => {
    expect(() => new SliceTransformer({ dModel: 48, heads: 5 })).toThrow(/width 48 must be divisible by the number of heads, got heads = 5/);
    const st = new SliceTransformer({ dModel: 16, heads: 4 });
    const wrongWidth = tf.zeros([1, 3, 12]);
    const noSlices = tf.zeros([1, 0, 16]);
    const rank2 = tf.zeros([3, 16]);
    const ints = tf.zeros([1, 3, 16], 'int32');
    const badMask = tf.zeros([1, 2], 'bool');
    const floatMask = tf.zeros([1, 3]);
    const x = tf.zeros([1, 3, 16]);
    expect(() => st.forward(wrongWidth)).toThrow(/features have size 12 but the transformer width is 16/);
    expect(() => st.forward(noSlices)).toThrow(/at least one slice/);
    expect(() => st.forward(rank2)).toThrow(/expected slice features \[B, D, 16\], got shape \[3, 16\]/);
    expect(() => st.forward(ints)).toThrow(/expected float32 slice features, got int32/);
    expect(() => st.forward(x, { keyPaddingMask: badMask })).toThrow(/expected keyPaddingMask \[1, 3\], got \[1, 2\]/);
    expect(() => st.forward(x, { keyPaddingMask: floatMask })).toThrow(/must be bool/);
    expect(() => st.forward(x, { attention: 'some' as 'all' })).toThrow(/attention: expected/);
    tf.dispose([wrongWidth, noSlices, rank2, ints, badMask, floatMask, x]);
    st.dispose();
  });
});
