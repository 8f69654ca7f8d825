import * as tf from '@tensorflow/tfjs';
import { BasicBlock, Bottleneck, Downsample, shortcutA } from './resnet_blocks';
import { Rng } from '../utils/rng';
import { maxAbsDiff } from '../../test/helpers';

describe('shortcutA', () => {
  it('keeps every stride-th cell and appends zero channels', () => {
    const x = tf.tensor4d(Array.from({ length: 5 * 5 * 2 }, (_, i) => i), [1, 5, 5, 2]);
    const y = shortcutA(x, 3, 2);
    expect(y.shape).toEqual([1, 3, 3, 3]);
    const want: number[] = [];
    for (const h of [0, 2, 4]) for (const w of [0, 2, 4]) want.push((h * 5 + w) * 2, (h * 5 + w) * 2 + 1, 0);
    expect(maxAbsDiff(y, want)).toBe(0);
    const g = tf.grad((a: tf.Tensor) => tf.sum(shortcutA(a, 3, 2)))(x);
    expect(tf.tidy(() => tf.sum(g).dataSync()[0])).toBe(18);
    tf.dispose([x, y, g]);
  });
});

describe('residual blocks', () => {
  it('register PyTorch names, the downsample last', () => {
    const ds = new Downsample(3, 8, 32, { stride: 2, bias: true });
    const block = new Bottleneck(8, 8, { spatialDims: 3, stride: 2, shortcut: ds, rng: new Rng(1) });
    expect(block.stateDictKeys().filter((k) => k.endsWith('weight'))).toEqual([
      'conv1.weight', 'bn1.weight', 'conv2.weight', 'bn2.weight', 'conv3.weight', 'bn3.weight', 'downsample.0.weight', 'downsample.1.weight',
    ]);
    expect(block.stateDictShapes()['conv3.weight']).toEqual([32, 8, 1, 1, 1]);
    block.dispose();
  });

  it('compute relu(bn2(conv2(relu(bn1(conv1 x)))) + x) for the basic block', () => {
    const block = new BasicBlock(4, 4, { spatialDims: 2, rng: new Rng(2) }).eval();
    const x = tf.randomNormal([1, 5, 5, 4], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const y = block.forward(x);
    const want = tf.tidy(() => tf.relu(tf.add(block.bn2.forward(block.conv2.forward(tf.relu(block.bn1.forward(block.conv1.forward(x))))), x)));
    expect(maxAbsDiff(y, want)).toBe(0);
    tf.dispose([y, want]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    block.dispose();
  });
});
