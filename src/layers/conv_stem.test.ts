import * as tf from '@tensorflow/tfjs';
import { ConvStem } from './conv_stem';
import { DinoVisionTransformer, dinov2ParameterCount, dinov2StateDictShapes, type DinoVisionTransformerOptions } from '../models/dinov2';
import { Rng } from '../utils/rng';
import { maxAbsDiff } from '../../test/helpers';

describe('ConvStem', () => {
  it('is 3x3 conv (padding 1) + BatchNorm + ReLU per stage, with PyTorch key names and shapes', () => {
    const stem = new ConvStem({ inChannels: 1, channels: [4, 6], strides: [2, 1], rng: new Rng(1) }).eval();
    expect(stem.stride).toBe(2);
    expect(stem.stateDictShapes()).toEqual({
      'convs.0.weight': [4, 1, 3, 3],
      'convs.0.bias': [4],
      'convs.1.weight': [6, 4, 3, 3],
      'convs.1.bias': [6],
      'norms.0.weight': [4],
      'norms.0.bias': [4],
      'norms.0.running_mean': [4],
      'norms.0.running_var': [4],
      'norms.0.num_batches_tracked': [],
      'norms.1.weight': [6],
      'norms.1.bias': [6],
      'norms.1.running_mean': [6],
      'norms.1.running_var': [6],
      'norms.1.num_batches_tracked': [],
    });
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([3, 8, 10, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const got = stem.forward(x);
    // The same computation from tfjs's own conv2d ('same' padding equals padding 1 for 3x3 at
    // stride 1; at stride 2 on even sizes tfjs pads 0 before and 1 after, so pad explicitly).
    const want = tf.tidy(() => {
      let y: tf.Tensor4D = x;
      stem.convs.items.forEach((conv, i) => {
        const padded = tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D;
        const c = tf.add(tf.conv2d(padded, conv.weight as tf.Tensor4D, conv.stride, 'valid'), conv.bias as tf.Tensor);
        const bn = stem.norms.items[i];
        const norm = tf.div(tf.sub(c, bn.runningMean), tf.sqrt(tf.add(bn.runningVar, bn.eps)));
        y = tf.relu(tf.add(tf.mul(norm, bn.weight as tf.Tensor), bn.bias as tf.Tensor)) as tf.Tensor4D;
      });
      return y;
    });
    expect(got.shape).toEqual([3, 4, 5, 6]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, got, want]);
    expect(tf.memory().numTensors).toBe(before);
    stem.dispose();
  });

  it('trains on the default backend (wasm has no Conv2DBackpropFilter): finite, non-zero gradients for every weight', () => {
    const stem = new ConvStem({ inChannels: 1, channels: [4, 8], rng: new Rng(3) });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const vars = stem.namedParameters().map(([, v]) => v);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(stem.forward(x), 0.5))) as tf.Scalar, vars);
    expect(Object.keys(grads)).toHaveLength(8);
    for (const g of Object.values(grads)) {
      const d = g.dataSync();
      expect(d.every(Number.isFinite)).toBe(true);
      expect(d.some((v) => v !== 0)).toBe(true);
    }
    tf.dispose([x, value, grads]);
    expect(tf.memory().numTensors).toBe(before);
    stem.dispose();
  });

  it('rejects bad stages and sizes with clear errors', () => {
    expect(() => new ConvStem({ inChannels: 1, channels: [] })).toThrow(/at least one/);
    expect(() => new ConvStem({ inChannels: 1, channels: [4], strides: [2, 2] })).toThrow(/one stride per convolution/);
    const stem = new ConvStem({ inChannels: 1, channels: [4, 4] });
    const x = tf.zeros([1, 10, 10, 1]) as tf.Tensor4D;
    expect(() => stem.forward(x)).toThrow(/multiples of 4/);
    x.dispose();
    stem.dispose();
  });
});

describe('DinoVisionTransformer with a conv stem', () => {
  const options: DinoVisionTransformerOptions = {
    embedDim: 16,
    depth: 1,
    numHeads: 2,
    patchSize: 8,
    imgSize: 16,
    inChannels: 1,
    convStem: { channels: [4, 8], strides: [2, 2] },
    seed: 5,
  };

  it('keeps the patch grid and DINOv2 keys, adds stem.* and counts parameters as it builds them', () => {
    const vit = new DinoVisionTransformer(options);
    const shapes = vit.stateDictShapes();
    expect(shapes['patch_embed.proj.weight']).toEqual([16, 8, 2, 2]);
    expect(shapes['stem.convs.0.weight']).toEqual([4, 1, 3, 3]);
    expect(Object.keys(shapes).filter((k) => !k.startsWith('stem.')).sort()).toEqual(
      Object.keys(new DinoVisionTransformer({ ...options, convStem: undefined }).stateDictShapes()).sort(),
    );
    expect(dinov2StateDictShapes(options)).toEqual(shapes);
    expect(dinov2ParameterCount(options)).toBe(vit.numParameters());
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const { features, attentions, gridSize } = vit.eval().encode(x, { attention: 'last' });
    expect(features.shape).toEqual([2, 16]);
    expect(gridSize).toEqual([2, 2]);
    expect(attentions?.[0].shape).toEqual([2, 2, 5, 5]);
    tf.dispose([x, features, attentions ?? []]);
    expect(tf.memory().numTensors).toBe(before);
    vit.dispose();
  });

  it('refuses a stem whose stride does not divide the patch size', () => {
    expect(() => new DinoVisionTransformer({ ...options, convStem: { channels: [4], strides: [3] } })).toThrow(/must divide the patch size 8/);
  });
});
