import * as tf from '@tensorflow/tfjs';
import { SlicePositionalEmbedding } from './slice_positional_embedding';
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
