import * as tf from '@tensorflow/tfjs';
import { Conv2d } from './conv2d';
import { Rng } from '../utils/rng';
import { maxAbsDiff } from '../../test/helpers';

describe('Conv2d', () => {
  it('pads symmetrically as PyTorch and adds the bias', () => {
    const conv = new Conv2d(2, 3, { kernelSize: [3, 5], stride: [2, 1], padding: [1, 2], rng: new Rng(4) });
    expect(conv.stateDictShapes()).toEqual({ weight: [3, 2, 3, 5], bias: [3] });
    const x = tf.randomUniform([2, 7, 6, 2], -1, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const y = conv.forward(x);
    const want = tf.tidy(() => tf.add(tf.conv2d(tf.pad(x, [[0, 0], [1, 1], [2, 2], [0, 0]]) as tf.Tensor4D, conv.weight as tf.Tensor4D, [2, 1], 'valid'), conv.bias as tf.Tensor));
    expect(y.shape).toEqual([2, 4, 6, 3]);
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-5);
    tf.dispose([y, want]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    conv.dispose();
  });

  it('trains on the default backend: the bias gradient is the summed output gradient', () => {
    const conv = new Conv2d(3, 4, { kernelSize: 3, padding: 1, rng: new Rng(6) });
    const x = tf.randomUniform([1, 5, 5, 3], -1, 1, 'float32', 7);
    const { grads } = tf.variableGrads(() => tf.sum(conv.forward(x)) as tf.Scalar);
    expect(maxAbsDiff(grads[conv.bias!.name], [25, 25, 25, 25])).toBeLessThan(1e-4);
    expect(grads[conv.weight.name].shape).toEqual([3, 3, 3, 4]);
    tf.dispose([x, ...Object.values(grads)]);
    conv.dispose();
  });

  it('draws PyTorch default weights within 1/sqrt(fanIn)', () => {
    const conv = new Conv2d(4, 8, { kernelSize: 3, rng: new Rng(8) });
    const bound = 1 / Math.sqrt(4 * 9);
    const m = tf.tidy(() => tf.max(tf.abs(conv.weight)).dataSync()[0]);
    expect(m).toBeLessThanOrEqual(bound);
    expect(m).toBeGreaterThan(0.9 * bound);
    conv.dispose();
  });

  it('rejects bad input and options with clear errors', () => {
    expect(() => new Conv2d(1, 1, { kernelSize: 0 })).toThrow(/kernelSize: expected integers >= 1, got 0/);
    const conv = new Conv2d(3, 2, { kernelSize: 1 });
    tf.tidy(() => {
      expect(() => conv.forward(tf.zeros([4, 4, 3]))).toThrow(/expected input \[N, H, W, C\]/);
      expect(() => conv.forward(tf.zeros([1, 4, 4, 1]))).toThrow(/expected 3 channels/);
      expect(() => conv.forward(tf.zeros([1, 4, 4, 3], 'int32'))).toThrow(/float32/);
    });
    conv.dispose();
  });
});
