import * as tf from '@tensorflow/tfjs';
import { PatchEmbed } from './patch_embed';
import { Rng } from '../utils/rng';
import { maxAbsDiff } from '../../test/helpers';

describe('PatchEmbed', () => {
  it('equals a stride-p conv2d and keeps PyTorch conv names and shapes', () => {
    const pe = new PatchEmbed({ patchSize: 14, inChannels: 3, embedDim: 8, rng: new Rng(1) });
    expect(pe.stateDictShapes()).toEqual({ 'proj.weight': [8, 3, 14, 14], 'proj.bias': [8] });
    const x = tf.randomUniform([2, 28, 42, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const got = pe.forward(x);
    const conv = tf.tidy(() => tf.reshape(tf.add(tf.conv2d(x, pe.proj.weight as tf.Tensor4D, 14, 'valid'), pe.proj.bias), [2, 6, 8]));
    expect(got.shape).toEqual([2, 6, 8]);
    expect(maxAbsDiff(got, conv)).toBeLessThan(1e-5);
    tf.dispose([x, got, conv]);
    pe.dispose();
  });

  it('trains on the default backend: weight gradient equals patches^T dY', () => {
    const p = 2;
    const pe = new PatchEmbed({ patchSize: p, inChannels: 3, embedDim: 4, rng: new Rng(2) });
    const xData = Float32Array.from({ length: 4 * 6 * 3 }, (_, i) => Math.sin(i));
    const x = tf.tensor4d(xData, [1, 4, 6, 3]);
    const rData = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.cos(i));
    const r = tf.tensor3d(rData, [1, 6, 4]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(pe.forward(x), r)) as tf.Scalar, [pe.proj.weight, pe.proj.bias]);
    // dW[kh, kw, c, e] = sum over patches of x[patch, kh, kw, c] * r[patch, e]
    const want = new Float32Array(p * p * 3 * 4);
    for (let gi = 0; gi < 2; gi++)
      for (let gj = 0; gj < 3; gj++)
        for (let kh = 0; kh < p; kh++)
          for (let kw = 0; kw < p; kw++)
            for (let c = 0; c < 3; c++)
              for (let e = 0; e < 4; e++) {
                const xv = xData[((gi * p + kh) * 6 + gj * p + kw) * 3 + c];
                want[((kh * p + kw) * 3 + c) * 4 + e] += xv * rData[(gi * 3 + gj) * 4 + e];
              }
    expect(maxAbsDiff(grads[pe.proj.weight.name], want)).toBeLessThan(1e-5);
    const biasWant = [0, 1, 2, 3].map((e) => [0, 1, 2, 3, 4, 5].reduce((s, i) => s + rData[i * 4 + e], 0));
    expect(maxAbsDiff(grads[pe.proj.bias.name], biasWant)).toBeLessThan(1e-5);
    tf.dispose([x, r, ...Object.values(grads)]);
    pe.dispose();
  });

  it('names the patch size when the image is not divisible by it, and checks rank and channels', () => {
    const pe = new PatchEmbed({ patchSize: 14, inChannels: 3, embedDim: 4 });
    const odd = tf.zeros([1, 225, 224, 3]) as tf.Tensor4D;
    expect(() => pe.forward(odd)).toThrow(/multiples of the patch size 14, got 225x224/);
    const gray = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
    expect(() => pe.forward(gray)).toThrow(/expected 3 channels/);
    const r3 = tf.zeros([28, 28, 3]) as unknown as tf.Tensor4D;
    expect(() => pe.forward(r3)).toThrow(/images \[N, H, W, C\], got shape \[28, 28, 3\]/);
    tf.dispose([odd, gray, r3]);
    pe.dispose();
  });
});
