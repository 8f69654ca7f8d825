import * as tf from '@tensorflow/tfjs';
import { ResNet, type ResNetOptions } from './resnet';
import { ResNet3D, resnet3d18 } from './resnet3d';
import { resnet2d18 } from './resnet2d';
import { maxAbsDiff } from '../../test/helpers';

/** A narrow network (widths 8..64) so the tests run in moments. */
function tiny(options: Partial<ResNetOptions> = {}): ResNet {
  return new ResNet({ block: 'basic', layers: [1, 2, 1, 1], spatialDims: 3, nInputChannels: 1, widenFactor: 0.125, numClasses: 3, seed: 1, ...options });
}

describe('ResNet structure', () => {
  it("has MONAI's state-dict names, with a biased shortcut conv, and torchvision's for 2D", () => {
    const net = resnet3d18({ numClasses: 2, skipInit: true });
    const keys = net.stateDictKeys();
    expect(keys.slice(0, 7)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight']);
    expect(keys).toContain('layer2.0.downsample.0.bias');
    expect(keys).toContain('layer4.1.bn2.running_var');
    expect(keys.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
    expect(net.stateDictShapes()['conv1.weight']).toEqual([64, 1, 7, 7, 7]);
    net.dispose();
    const net2d = resnet2d18({ skipInit: true });
    expect(net2d.stateDictKeys()).not.toContain('layer2.0.downsample.0.bias');
    expect(net2d.stateDictShapes()['layer2.0.downsample.0.weight']).toEqual([128, 64, 1, 1]);
    expect(net2d.stateDictShapes()['fc.weight']).toEqual([1000, 512]);
    net2d.dispose();
  });

  it('lists layer names in forward order and resolves stage aliases', () => {
    const net = tiny();
    expect(net.layerNames()).toEqual(['conv1', 'bn1', 'relu', 'maxpool', 'layer1.0', 'layer2.0', 'layer2.1', 'layer3.0', 'layer4.0', 'avgpool', 'fc']);
    tf.tidy(() => expect(() => net.forwardTo('layer5', tf.zeros([1, 8, 8, 8, 1]))).toThrow(/unknown layer 'layer5'; expected one of conv1, .*layer4/));
    net.dispose();
  });

  it('draws Kaiming fan-out conv weights, BN at 1/0 and a zero fc bias as MONAI', () => {
    const net = tiny({ widenFactor: 1, layers: [1, 1, 1, 1] });
    const std = tf.tidy(() => Math.sqrt(tf.moments(net.stages[2].items[0].conv1.weight).variance.dataSync()[0]));
    expect(std).toBeCloseTo(Math.sqrt(2 / (256 * 27)), 3);
    expect(net.fc?.bias?.dataSync().every((v) => v === 0)).toBe(true);
    expect(net.bn1.weight.dataSync().every((v) => v === 1)).toBe(true);
    net.dispose();
  });
});

describe('ResNet forward', () => {
  let net: ResNet;
  let x: tf.Tensor;
  beforeAll(() => {
    net = tiny().eval();
    x = tf.randomNormal([2, 8, 16, 16, 1], 0, 1, 'float32', 2);
  });
  afterAll(() => {
    net.dispose();
    x.dispose();
  });

  it('returns logits and named intermediates that agree with forwardTo and forwardFrom', () => {
    const before = tf.memory().numTensors;
    const { logits, intermediates } = net.forwardWithIntermediates(x, ['layer4', 'layer2.1', 'layer2', 'avgpool']);
    expect(logits.shape).toEqual([2, 3]);
    expect(intermediates.layer4.shape).toEqual([2, 1, 1, 1, 64]);
    expect(intermediates.avgpool.shape).toEqual([2, 64]);
    expect(maxAbsDiff(intermediates.layer2, intermediates['layer2.1'])).toBe(0);
    const plain = net.forward(x);
    const fromLayer2 = net.forwardFrom('layer2', intermediates.layer2);
    const features = net.forwardFeatures(x);
    const head = net.forwardHead(features);
    expect(maxAbsDiff(plain, logits)).toBe(0);
    expect(maxAbsDiff(fromLayer2, logits)).toBeLessThan(1e-5);
    expect(maxAbsDiff(head, logits)).toBeLessThan(1e-5);
    tf.dispose([logits, plain, fromLayer2, features, head, ...Object.values(intermediates)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives Grad-CAM gradients at layer4 through forwardFrom, equal to the fc weights', () => {
    const act = net.forwardTo('layer4', x);
    const score = (a: tf.Tensor) => tf.sum(tf.slice(net.forwardFrom('layer4', a), [0, 1], [2, 1]));
    const g = tf.grad(score)(act);
    expect(g.shape).toEqual(act.shape);
    // The head is avgpool (1 cell) + fc: d score / d a[b, c] = fc.weight[c, 1] (ours [C, classes]).
    const w = tf.tidy(() => tf.slice(net.fc!.weight, [0, 1], [64, 1]).reshape([64]));
    expect(maxAbsDiff(tf.tidy(() => tf.reshape(tf.slice(g, [0, 0, 0, 0, 0], [1, 1, 1, 1, 64]), [64])), w)).toBeLessThan(1e-6);
    tf.dispose([act, g, w]);
  });

  it('accepts [B, D, H, W] volumes in ResNet3D and rejects other layouts clearly', () => {
    const net3d = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], widenFactor: 0.125, numClasses: 2 }).eval();
    const gray = tf.squeeze(x, [4]);
    const before = tf.memory().numTensors;
    const a = net3d.forward(gray);
    const b = net3d.forward(x);
    expect(a.shape).toEqual([2, 2]);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    gray.dispose();
    tf.tidy(() => {
      expect(() => net3d.forward(tf.zeros([8, 8, 8]))).toThrow(/ResNet3D: expected input \[B, D, H, W, 1\] or \[B, D, H, W\], got shape \[8, 8, 8\]/);
      expect(() => net3d.forward(tf.zeros([1, 8, 8, 8, 3]))).toThrow(/expected input \[B, D, H, W, C\] with C = 1/);
    });
    net3d.dispose();
  });
});

describe('ResNet options', () => {
  it("supports MONAI's shortcut 'A', no max pool, per-axis conv1 size/stride and no fc", () => {
    const net = tiny({ shortcutType: 'A', noMaxPool: true, conv1TSize: [3, 7, 7], conv1TStride: [1, 2, 2], feedForward: false }).eval();
    expect(net.stateDictKeys().some((k) => k.includes('downsample'))).toBe(false);
    expect(net.stateDictShapes()['conv1.weight']).toEqual([8, 1, 3, 7, 7]);
    expect(net.layerNames()).not.toContain('maxpool');
    const x = tf.randomNormal([1, 8, 16, 16, 1], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const y = net.forward(x);
    expect(y.shape).toEqual([1, 64]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('trains on the default backend: one step gives gradients for every parameter and updates BN statistics', () => {
    const net = tiny({ block: 'bottleneck', layers: [1, 1, 1, 1] }).train();
    const x = tf.randomNormal([2, 8, 16, 16, 1], 0, 1, 'float32', 4);
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x)) as tf.Scalar);
    const names = net.namedParameters().map(([, v]) => v.name);
    expect(Object.keys(grads).sort()).toEqual(names.sort());
    const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
    expect(norm).toBeGreaterThan(0);
    expect(Number.isFinite(norm)).toBe(true);
    expect(net.bn1.numBatchesTracked.dataSync()[0]).toBe(1);
    tf.dispose([x, labels, value, ...Object.values(grads)]);
    net.dispose();
  });

  it('rejects invalid options with the value given', () => {
    expect(() => tiny({ layers: [1, 1, 1] as unknown as [number, number, number, number] })).toThrow(/layers must be 4 positive integers, got \[1, 1, 1\]/);
    expect(() => tiny({ conv1TSize: [7, 7] })).toThrow(/conv1TSize must be a positive integer or 3 of them, got \[7,7\]/);
    expect(() => tiny({ shortcutType: 'C' as 'A' })).toThrow(/shortcutType must be 'A' or 'B', got 'C'/);
  });
});

describe('ResNet2D as a slice encoder', () => {
  it('encodes [N, H, W, 3] to the pooled features before fc', () => {
    const net = resnet2d18({ skipInit: false, seed: 3 }).eval();
    const images = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { features } = net.encode(images);
    const pooled = net.forwardTo('avgpool', images);
    expect(features.shape).toEqual([2, 512]);
    expect(maxAbsDiff(features, pooled)).toBe(0);
    tf.dispose([features, pooled]);
    expect(tf.memory().numTensors).toBe(before);
    const asked = net.encode(images, { attention: 'last' });
    expect(asked.attentions).toBeUndefined();
    asked.features.dispose();
    images.dispose();
    net.dispose();
  });
});

describe('ResNet3D.predict', () => {
  it('equals the softmax of forward in evaluation mode, restores the mode and leaks nothing', async () => {
    const net = resnet3d18({ numClasses: 3, seed: 4 });
    net.train();
    const volume = tf.randomNormal([6, 16, 16], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const got = await net.predict(volume);
    expect(tf.memory().numTensors).toBe(before);
    expect(net.training).toBe(true);
    net.eval();
    const want = tf.tidy(() => tf.softmax(net.forward(tf.expandDims(volume, 0))).dataSync());
    got.probabilities.forEach((p, i) => expect(p).toBeCloseTo(want[i], 6));
    expect(got.logits).toHaveLength(3);
    await expect(net.predict(tf.zeros([2, 2]))).rejects.toThrow(/ResNet3D\.predict: expected one volume \[D, H, W\] or \[D, H, W, C\], got \[2, 2\]/);
    volume.dispose();
    net.dispose();
  });
});
