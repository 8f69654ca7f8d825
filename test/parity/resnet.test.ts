import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { loadSafetensors } from '../../src/io/safetensors';
import { BatchNorm3d } from '../../src/layers/batch_norm';
import { resnet2d18, resnet2d34, resnet2d50 } from '../../src/models/resnet2d';
import { resnet3d101, resnet3d152, resnet3d18, resnet3d34, resnet3d50, type ResNet3D } from '../../src/models/resnet3d';
import { disposeStateDict, type Module, type StateDict } from '../../src/nn/module';
import { stateDictFromSpecFile } from '../fixture_weights';
import { FULL, fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/resnet_ref.py (torchvision's resnet18 and our PyTorch
// rewrite of MONAI's ResNet, itself checked there against torchvision).

function loaded<M extends Module>(model: M, spec: string): M {
  const sd = stateDictFromSpecFile('resnet', spec);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model;
}

function input(spec: string): tf.Tensor {
  const sd = stateDictFromSpecFile('resnet', spec);
  return sd.input;
}

const counts = JSON.parse(fs.readFileSync(fixturePath('resnet', 'param_counts.json'), 'utf8')) as Record<string, { numClasses: number; params: number }>;

describe('ResNet parameter counts equal PyTorch', () => {
  // skipInit: counting needs no random weights (and 101/152 hold 340-470 MB, so only in FULL).
  const cases3d: [string, (o: { numClasses: number; skipInit: boolean }) => ResNet3D][] = [
    ['resnet3d18', resnet3d18],
    ['resnet3d34', resnet3d34],
    ['resnet3d50', resnet3d50],
    ...(FULL ? ([['resnet3d101', resnet3d101], ['resnet3d152', resnet3d152]] as [string, typeof resnet3d18][]) : []),
  ];
  it.each(cases3d)('%s (MONAI, 1 channel, 2 classes)', (name, factory) => {
    const net = factory({ numClasses: counts[name].numClasses, skipInit: true });
    expect(net.numParameters()).toBe(counts[name].params);
    net.dispose();
  });

  const cases2d = [
    ['resnet2d18', resnet2d18],
    ['resnet2d34', resnet2d34],
    ['resnet2d50', resnet2d50],
  ] as const;
  it.each(cases2d)('%s (torchvision, with and without fc)', (name, factory) => {
    const withFc = factory({ skipInit: true });
    expect(withFc.numParameters()).toBe(counts[name].params);
    withFc.dispose();
    const noFc = factory({ feedForward: false, skipInit: true });
    expect(noFc.numParameters()).toBe(counts[`${name}_nofc`].params);
    noFc.dispose();
  });
});

describe.each([
  ['resnet3d18', resnet3d18],
  ['resnet3d50', resnet3d50],
] as const)('%s equals MONAI in eval mode', (name, factory) => {
  let ref: StateDict;
  let net: ResNet3D;
  let x: tf.Tensor;
  beforeAll(async () => {
    ref = await loadSafetensors(fixturePath('resnet', `${name}.safetensors`));
    net = loaded(factory({ numClasses: 3, skipInit: true }), `${name}_spec.json`).eval();
    x = input(`${name}_input_spec.json`);
  });
  afterAll(() => {
    disposeStateDict(ref);
    net.dispose();
    x.dispose();
  });

  it('matches logits and layer4 features to 1e-4 on a [1, 16, 64, 64, 1] volume, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const { logits, intermediates } = net.forwardWithIntermediates(x, ['layer4']);
    expect(logits.shape).toEqual([1, 3]);
    expect(intermediates.layer4.shape).toEqual(ref.layer4.shape);
    expect(maxAbsDiff(logits, ref.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(intermediates.layer4, ref.layer4)).toBeLessThan(1e-4);
    tf.dispose([logits, intermediates.layer4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same logits from the head alone on the reference layer4 features', () => {
    const before = tf.memory().numTensors;
    const head = net.forwardHead(ref.layer4);
    expect(maxAbsDiff(head, ref.logits)).toBeLessThan(1e-4);
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("has PyTorch's state-dict keys in PyTorch's order with PyTorch's shapes", () => {
    const spec = JSON.parse(fs.readFileSync(fixturePath('resnet', `${name}_spec.json`), 'utf8')) as { tensors: Record<string, { shape: number[] }> };
    expect(net.stateDictKeys()).toEqual(Object.keys(spec.tensors));
    const shapes = net.stateDictShapes();
    for (const [k, e] of Object.entries(spec.tensors)) expect([k, shapes[k]]).toEqual([k, e.shape]);
  });
});

describe('resnet2d18 equals torchvision resnet18 with fc = Identity', () => {
  it('matches pooled features of two 224x224 images to 2e-5 through the SliceEncoder interface', async () => {
    const ref = await loadSafetensors(fixturePath('resnet', 'resnet2d18.safetensors'));
    const net = loaded(resnet2d18({ feedForward: false, skipInit: true }), 'resnet2d18_spec.json').eval();
    const images = input('resnet2d18_input_spec.json') as tf.Tensor4D;
    expect(net.featureSize).toBe(512);
    expect(net.inChannels).toBe(3);
    const before = tf.memory().numTensors;
    const { features } = net.encode(images);
    expect(features.shape).toEqual([2, 512]);
    expect(maxAbsDiff(features, ref.features)).toBeLessThan(2e-5);
    features.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(images);
    disposeStateDict(ref);
    net.dispose();
  });
});

describe('BatchNorm3d in training mode equals PyTorch', () => {
  it('normalises with batch statistics and updates the running statistics', async () => {
    const ref = await loadSafetensors(fixturePath('resnet', 'batch_norm3d_train.safetensors'));
    const bn = loaded(new BatchNorm3d(6), 'batch_norm3d_spec.json').train();
    const x = input('batch_norm3d_input_spec.json');
    const y = bn.forward(x);
    expect(maxAbsDiff(y, ref.output)).toBeLessThan(1e-6);
    expect(maxAbsDiff(bn.runningMean, ref.running_mean)).toBeLessThan(1e-7);
    expect(maxAbsDiff(bn.runningVar, ref.running_var)).toBeLessThan(2e-7);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    tf.dispose([x, y]);
    disposeStateDict(ref);
    bn.dispose();
  });
});
