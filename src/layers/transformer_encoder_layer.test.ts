import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';
import { LayerNorm } from './layer_norm';
import { MultiheadAttention } from './multihead_attention';
import { TransformerEncoder } from './transformer_encoder';
import { TransformerEncoderLayer } from './transformer_encoder_layer';

describe('TransformerEncoderLayer', () => {
  it('applies seeded dropout while training only: equal seeds give equal outputs', async () => {
    const make = () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.5, rng: new Rng(4) });
    const a = make();
    const b = make();
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const ya = a.forward(x).output;
    const yb = b.forward(x).output;
    const yc = a.forward(x).output;
    expect(Array.from(await ya.data())).toEqual(Array.from(await yb.data()));
    // The next call draws new masks.
    expect(Array.from(await ya.data())).not.toEqual(Array.from(await yc.data()));
    a.eval();
    b.eval();
    const ea = a.forward(x).output;
    const eb = a.forward(x).output;
    expect(Array.from(await ea.data())).toEqual(Array.from(await eb.data()));
    tf.dispose([ya, yb, yc, ea, eb]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });

  it('refuses bad options and inputs with what it expected and got', () => {
    expect(() => new TransformerEncoderLayer(10, 3)).toThrow(/embedDim must be a positive multiple of numHeads, got embedDim 10 and numHeads 3/);
    expect(() => new TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(/activation must be 'relu' or 'gelu', got 'tanh'/);
    expect(() => new TransformerEncoderLayer(8, 2, { dropout: 1 })).toThrow(/dropout must lie in \[0, 1\), got 1/);
    const layer = new TransformerEncoderLayer(8, 2);
    const x = tf.zeros([2, 5, 6]);
    expect(() => layer.forward(x)).toThrow(/expected input \[B, T, 8\], got \[2, 5, 6\]/);
    x.dispose();
    expect(() => new TransformerEncoder([layer, new TransformerEncoderLayer(4, 2)])).toThrow(/every layer must have width 8, got one of width 4/);
    expect(() => new TransformerEncoder([layer], new LayerNorm(4, 1e-5))).toThrow(/final norm must have size 8, got 4/);
    expect(() => new TransformerEncoder([])).toThrow(/at least one layer/);
    layer.dispose();
  });
});

describe('MultiheadAttention input checks', () => {
  it('names the expected layout, dtype and mask', () => {
    const mha = new MultiheadAttention(8, 2);
    const cases: [() => unknown, RegExp][] = [
      [() => mha.forward(tf.zeros([5, 8])), /query: expected \[B, T, E\], got shape \[5, 8\] \(rank 2\)/],
      [() => mha.forward(tf.zeros([1, 5, 8], 'int32')), /query: expected dtype float32, got int32/],
      [() => mha.forward(tf.zeros([1, 5, 4])), /expected query of shape \[B, T, 8\], got \[1, 5, 4\]/],
      [() => mha.forward(tf.zeros([1, 5, 8]), { keyPaddingMask: tf.zeros([1, 4], 'bool') }), /keyPaddingMask: expected shape \[1, 5\], got \[1, 4\]/],
      [() => mha.forward(tf.zeros([1, 5, 8]), { keyPaddingMask: tf.zeros([1, 5]) }), /keyPaddingMask must be bool \(true = ignore\), got float32/],
      [() => mha.forward(tf.zeros([1, 5, 8]), { key: tf.zeros([2, 5, 8]) }), /disagree on batch or length/],
    ];
    for (const [run, message] of cases) tf.tidy(() => expect(run).toThrow(message));
    mha.dispose();
  });
});
