import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer, dinov2Config, dinov2StateDictShapes } from './dinov2';

function tiny(numRegisters = 0): DinoVisionTransformer {
  return new DinoVisionTransformer({ embedDim: 32, depth: 2, numHeads: 4, imgSize: 70, numRegisters, seed: 1 });
}

describe('DinoVisionTransformer', () => {
  it('encodes a stack to class-token features with grid, prefix count and attention of the last block', () => {
    const m = tiny(4);
    const x = tf.randomUniform([3, 42, 56, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    const enc = m.encode(x, { attention: 'last' });
    expect(enc.features.shape).toEqual([3, 32]);
    expect(enc.gridSize).toEqual([3, 4]);
    expect(enc.numPrefixTokens).toBe(5);
    expect(enc.attentions?.map((a) => a.shape)).toEqual([[3, 4, 17, 17]]);
    const f = m.forwardFeatures(x, { attention: 'all' });
    expect(f.clsToken.shape).toEqual([3, 32]);
    expect(f.regTokens.shape).toEqual([3, 4, 32]);
    expect(f.patchTokens.shape).toEqual([3, 12, 32]);
    expect(f.attentions).toHaveLength(2);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(f.clsToken, enc.features))));
    expect(d.dataSync()[0]).toBe(0);
    tf.dispose([x, d, enc.features, ...(enc.attentions ?? []), f.clsToken, f.regTokens, f.patchTokens, ...(f.attentions ?? [])]);
    m.dispose();
  });

  it('leaves tf.memory().numTensors unchanged after a forward pass and frees everything on dispose', () => {
    const start = tf.memory().numTensors;
    const m = tiny();
    const x = tf.zeros([1, 28, 28, 3]) as tf.Tensor4D;
    m.encode(x).features.dispose(); // the first pass caches the resized positional embedding
    const before = tf.memory().numTensors;
    const enc = m.encode(x, { attention: 'all' });
    tf.dispose([enc.features, ...(enc.attentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('gives every parameter a gradient on the default backend', () => {
    const m = tiny(2);
    const x = tf.randomUniform([2, 28, 42, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    const vars = m.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const f = m.forwardFeatures(x);
      return tf.add(tf.sum(tf.square(f.clsToken)), tf.add(tf.sum(f.patchTokens), tf.sum(f.regTokens))) as tf.Scalar;
    }, vars);
    // mask_token is unused in inference, as in PyTorch (its gradient stays zero).
    const withGrad = m.namedParameters().filter(([, v]) => grads[v.name] !== undefined && tf.tidy(() => tf.any(tf.notEqual(grads[v.name], 0)).dataSync()[0]) === 1);
    expect(withGrad.map(([n]) => n).sort()).toEqual(m.stateDictKeys().filter((k) => k !== 'mask_token').sort());
    tf.dispose([x, value, ...Object.values(grads)]);
    m.dispose();
  });

  it('rejects images whose size is not a multiple of 14, wrong channels, rank or dtype', () => {
    const m = tiny();
    const cases: [tf.Tensor, RegExp][] = [
      [tf.zeros([1, 30, 28, 3]), /multiples of the patch size 14, got 30x28/],
      [tf.zeros([1, 28, 28, 1]), /expected images \[N >= 1, H, W, 3\], got \[1, 28, 28, 1\]/],
      [tf.zeros([28, 28, 3]), /expected images \[N, H, W, 3\], got shape \[28, 28, 3\]/],
      [tf.zeros([1, 28, 28, 3], 'int32'), /expected dtype float32, got int32/],
    ];
    for (const [x, re] of cases) expect(() => m.encode(x as tf.Tensor4D)).toThrow(re);
    expect(() => m.encode(cases[0][0] as tf.Tensor4D, { attention: 'first' as never })).toThrow(/'none', 'last' or 'all', got 'first'/);
    tf.dispose(cases.map(([x]) => x));
    m.dispose();
  });
});

describe('DinoVisionTransformer masks', () => {
  it('replaces masked patch embeddings by mask_token, as prepare_tokens_with_masks', () => {
    const m = tiny();
    // The positional embedding resized to the 2x2 grid is cached by the first call.
    tf.tidy(() => void m.forwardFeatures(tf.zeros([1, 28, 28, 3]) as tf.Tensor4D));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      m.maskToken.assign(tf.randomNormal([1, m.embedDim], 0, 1, 'float32', 3));
      const a = tf.randomNormal([1, 28, 28, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const b = tf.randomNormal([1, 28, 28, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const all = tf.ones([1, 4]) as tf.Tensor2D;
      // Every patch masked: the image no longer matters.
      const fa = m.forwardFeatures(a, { masks: all });
      const fb = m.forwardFeatures(b, { masks: all });
      expect(tf.max(tf.abs(tf.sub(fa.clsToken, fb.clsToken))).dataSync()[0]).toBeLessThan(1e-6);
      // No patch masked: the same as no masks.
      const none = m.forwardFeatures(a, { masks: tf.zeros([1, 4]) as tf.Tensor2D });
      const plain = m.forwardFeatures(a);
      expect(tf.max(tf.abs(tf.sub(none.patchTokens, plain.patchTokens))).dataSync()[0]).toBe(0);
      // One patch masked changes the tokens.
      const one = m.forwardFeatures(a, { masks: tf.tensor2d([[0, 1, 0, 0]]) });
      expect(tf.max(tf.abs(tf.sub(one.patchTokens, plain.patchTokens))).dataSync()[0]).toBeGreaterThan(1e-3);
      expect(() => m.forwardFeatures(a, { masks: tf.ones([1, 3]) as tf.Tensor2D })).toThrow('expected masks [1, 4] (images, patches), got [1, 3]');
    });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('dinov2StateDictShapes', () => {
  it('matches a built model, LayerScale and SwiGLU keys included', () => {
    const cfg = { ...dinov2Config('vitg14_reg'), embedDim: 48, depth: 2, numHeads: 3, imgSize: 28 };
    const m = new DinoVisionTransformer(cfg);
    expect(m.stateDictShapes()).toEqual(dinov2StateDictShapes(cfg));
    expect(m.stateDictShapes()['blocks.1.mlp.w12.weight']).toEqual([256, 48]);
    expect(Array.from(m.blocks.items[0].ls1?.gamma.dataSync().slice(0, 2) ?? [])).toEqual([1, 1]);
    m.dispose();
  });
});
