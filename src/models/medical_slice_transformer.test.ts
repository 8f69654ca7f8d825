import * as tf from '@tensorflow/tfjs';
import { Linear } from '../layers/linear';
import { Module } from '../nn/module';
import { Rng } from '../utils/rng';
import { MedicalSliceTransformer } from './medical_slice_transformer';
import type { EncodeOptions, SliceEncoder, SliceEncoding } from './slice_encoder';

/** Mean-pooled pixels through a Linear; `returns` lets a test make it lie about its feature size. */
class PoolEncoder extends Module implements SliceEncoder {
  readonly inChannels = 3;
  readonly fc: Linear;
  lastInput: number[] = [];

  constructor(readonly featureSize: number, private readonly returns = featureSize) {
    super();
    this.fc = this.registerModule('fc', new Linear(3, returns, { rng: new Rng(3) }));
  }

  encode(images: tf.Tensor4D, _options: EncodeOptions = {}): SliceEncoding {
    this.lastInput = images.shape;
    return { features: tf.tidy(() => this.fc.forward(tf.mean(images, [1, 2]))) as tf.Tensor2D };
  }
}

describe('MedicalSliceTransformer', () => {
  it('repeats gray slices to RGB and takes [B, D, H, W] and [B, D, H, W, 1] alike', async () => {
    const enc = new PoolEncoder(24);
    const model = new MedicalSliceTransformer({ encoder: enc, numClasses: 2, seed: 1 }).eval();
    const x4 = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 7);
    const x5 = tf.expandDims(x4, -1);
    const a = model.forward(x4).logits;
    expect(enc.lastInput).toEqual([6, 4, 5, 3]);
    const b = model.forward(x5).logits;
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([x4, x5, a, b]);
    model.dispose();
  });

  it('predict reads logits and softmax probabilities asynchronously and leaks nothing', async () => {
    const model = new MedicalSliceTransformer({ encoder: new PoolEncoder(24), numClasses: 3, seed: 2 });
    const volume = tf.randomNormal([4, 6, 6], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    const { logits, probabilities } = await model.predict(volume);
    expect(tf.memory().numTensors).toBe(before);
    expect(logits).toHaveLength(3);
    const z = logits.map((l) => Math.exp(l - Math.max(...logits)));
    const sum = z.reduce((s, v) => s + v, 0);
    probabilities.forEach((p, i) => expect(p).toBeCloseTo(z[i] / sum, 6));
    // predict leaves the module's training mode as it was.
    expect(model.training).toBe(true);
    volume.dispose();
    model.dispose();
  });

  it('average fusion with a mask averages only the unpadded slices', async () => {
    const model = new MedicalSliceTransformer({ encoder: new PoolEncoder(8), numClasses: 2, sliceFusion: 'average' });
    const x = tf.randomNormal([1, 3, 2, 2], 0, 1, 'float32', 9);
    const mask = tf.tensor2d([[false, false, true]], [1, 3], 'bool');
    const first2 = tf.slice(x, [0, 0, 0, 0], [1, 2, 2, 2]);
    const masked = model.forward(x, { keyPaddingMask: mask }).logits;
    const cut = model.forward(first2).logits;
    expect(Array.from(await masked.data()).map((v) => v.toFixed(5))).toEqual(Array.from(await cut.data()).map((v) => v.toFixed(5)));
    tf.dispose([x, mask, first2, masked, cut]);
    model.dispose();
  });

  it('freezeEncoder excludes only the encoder from training', () => {
    const model = new MedicalSliceTransformer({ encoder: new PoolEncoder(24), numClasses: 2, freezeEncoder: true });
    expect(model.numParameters({ trainableOnly: true })).toBe(model.numParameters() - (3 * 24 + 24));
    model.dispose();
  });

  it('names what it expected and what it got for bad input', async () => {
    const model = new MedicalSliceTransformer({ encoder: new PoolEncoder(24), numClasses: 2 });
    const cases: [tf.Tensor, RegExp][] = [
      [tf.zeros([3, 4, 4]), /expected volumes \[B, D, H, W\] or \[B, D, H, W, C\], got shape \[3, 4, 4\] \(rank 3\)/],
      [tf.zeros([1, 2, 4, 4], 'int32'), /expected float32 volumes, got int32/],
      [tf.zeros([1, 0, 4, 4]), /at least one volume, slice and pixel, got shape \[1, 0, 4, 4\]/],
      [tf.zeros([1, 2, 4, 4, 2]), /takes 3 channels \(or 1, repeated\), got 2/],
    ];
    for (const [x, message] of cases) {
      expect(() => model.forward(x)).toThrow(message);
      x.dispose();
    }
    const x = tf.zeros([1, 2, 4, 4]);
    const badMask = tf.zeros([1, 3], 'bool');
    expect(() => model.forward(x, { keyPaddingMask: badMask })).toThrow(/expected a bool keyPaddingMask \[1, 2\], got bool \[1, 3\]/);
    const flat = tf.zeros([4, 4]);
    await expect(model.predict(flat)).rejects.toThrow(/predict: expected one volume \[D, H, W\] or \[D, H, W, C\], got \[4, 4\]/);
    tf.dispose([x, badMask, flat]);
    model.dispose();
  });

  it('refuses an encoder whose features do not match its declared size, and bad options', () => {
    const before = tf.memory().numTensors;
    const liar = new MedicalSliceTransformer({ encoder: new PoolEncoder(24, 20), numClasses: 2 });
    const x = tf.zeros([1, 2, 4, 4]);
    expect(() => liar.forward(x)).toThrow(/encoder returned features \[2, 20\] for 2 slices, but declares featureSize 24/);
    x.dispose();
    liar.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const enc = new PoolEncoder(20);
    expect(() => new MedicalSliceTransformer({ encoder: enc, numClasses: 2, heads: 3 })).toThrow(/heads must divide the width 20, got 3/);
    expect(() => new MedicalSliceTransformer({ encoder: enc, numClasses: 0 })).toThrow(/numClasses must be a positive integer, got 0/);
    expect(() => new MedicalSliceTransformer({ encoder: enc, numClasses: 2, sliceFusion: 'max' as 'average' })).toThrow(/unknown slice fusion 'max'; registered: transformer, transformer-adpe, linear, average/);
    expect(() => new MedicalSliceTransformer({ encoder: enc, numClasses: 2, sliceFusion: 'average', positionalEmbedding: 'learned' })).toThrow(
      /positionalEmbedding 'learned' needs a transformer fusion, got 'average'/,
    );
    expect(() => new MedicalSliceTransformer({ encoder: {} as SliceEncoder, numClasses: 2 })).toThrow(/must be a SliceEncoder/);
    const lin = new MedicalSliceTransformer({ encoder: new PoolEncoder(8), numClasses: 2, sliceFusion: 'linear', numSlices: 3 });
    const two = tf.zeros([1, 2, 4, 4]);
    expect(() => lin.forward(two)).toThrow(/'linear' fusion was built for 3 slices, got 2/);
    two.dispose();
    lin.dispose();
    enc.dispose();
  });
});
