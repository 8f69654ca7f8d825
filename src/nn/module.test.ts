import * as tf from '@tensorflow/tfjs';
import { Module, ModuleList, disposeStateDict } from './module';
import { Linear } from '../layers/linear';
import { LayerNorm } from '../layers/layer_norm';
import { Rng } from '../utils/rng';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { maxAbsDiff } from '../../test/helpers';

class Block extends Module {
  readonly fc = this.registerModule('fc', new Linear(3, 2, { rng: new Rng(1) }));
  readonly norm = this.registerModule('norm', new LayerNorm(2, 1e-5));
}

class Net extends Module {
  readonly blocks = this.registerModule('blocks', new ModuleList([new Block(), new Block()]));
  readonly scale = this.registerParameter('scale', tf.ones([2]));
}

describe('Module', () => {
  it('names parameters by dotted paths in registration order', () => {
    const net = new Net();
    expect(net.stateDictKeys()).toEqual([
      'scale',
      'blocks.0.fc.weight', 'blocks.0.fc.bias', 'blocks.0.norm.weight', 'blocks.0.norm.bias',
      'blocks.1.fc.weight', 'blocks.1.fc.bias', 'blocks.1.norm.weight', 'blocks.1.norm.bias',
    ]);
    expect(net.stateDictShapes()['blocks.0.fc.weight']).toEqual([2, 3]);
    expect(net.numParameters()).toBe(2 + 2 * (6 + 2 + 2 + 2));
    net.dispose();
  });

  it('round-trips a state dict in PyTorch layout and transposes linear weights once', async () => {
    const net = new Net();
    const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const sd = net.stateDict();
    sd['blocks.1.fc.weight'].dispose();
    sd['blocks.1.fc.weight'] = w;
    net.loadStateDict(sd);
    expect(Array.from(await net.blocks.items[1].fc.weight.data())).toEqual([1, 4, 2, 5, 3, 6]);
    const back = net.stateDict();
    expect(Array.from(await back['blocks.1.fc.weight'].data())).toEqual([1, 2, 3, 4, 5, 6]);
    disposeStateDict(sd);
    disposeStateDict(back);
    net.dispose();
  });

  it('lists missing, unexpected and mis-shaped keys and assigns nothing on error', async () => {
    const net = new Net();
    const before = await net.scale.data();
    const sd = net.stateDict();
    sd['blocks.0.fc.weight'].dispose();
    sd['blocks.0.fc.weight'] = tf.zeros([3, 2]);
    sd['extra.weight'] = tf.zeros([1]);
    sd['scale'].dispose();
    sd['scale'] = tf.fill([2], 7);
    sd['blocks.1.norm.bias'].dispose();
    delete sd['blocks.1.norm.bias'];
    expect(() => net.loadStateDict(sd)).toThrow(
      /mis-shaped keys: blocks\.0\.fc\.weight: expected \[2,3\], got \[3,2\][\s\S]*missing keys: blocks\.1\.norm\.bias[\s\S]*unexpected keys: extra\.weight/,
    );
    expect(Array.from(await net.scale.data())).toEqual(Array.from(before));
    disposeStateDict(sd);
    net.dispose();
  });

  it('loads non-strictly and reports what it skipped', () => {
    const net = new Net();
    const sd = { scale: tf.fill([2], 3), other: tf.zeros([1]) };
    const result = net.loadStateDict(sd, { strict: false });
    expect(result.unexpectedKeys).toEqual(['other']);
    expect(result.missingKeys).toHaveLength(8);
    disposeStateDict(sd);
    net.dispose();
  });

  it('freezes, counts trainable parameters and switches modes', () => {
    const net = new Net();
    net.blocks.items[0].freeze();
    expect(net.numParameters({ trainableOnly: true })).toBe(2 + 12);
    expect(net.trainableVariables()).toHaveLength(5);
    net.eval();
    expect(net.blocks.items[1].norm.training).toBe(false);
    net.dispose();
  });

  it('reports valid names for an unknown submodule', () => {
    const net = new Net();
    expect(() => net.getSubmodule('blocks.2')).toThrow(/no module 'blocks\.2'; valid names: blocks, blocks\.0/);
    net.dispose();
  });

  it("frees a child's own tensors through its dispose (DINOv2's positional-embedding cache inside an MST)", () => {
    const before = tf.memory().numTensors;
    const encoder = new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, patchSize: 4, imgSize: 16, inChannels: 1, seed: 0 });
    const mst = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 1 });
    // A slice size other than imgSize fills the interpolated positional-embedding cache.
    tf.tidy(() => { mst.forward(tf.zeros([1, 2, 8, 8])); });
    expect(tf.memory().numTensors).toBeGreaterThan(before + mst.stateDictKeys().length);
    mst.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Linear', () => {
  it('matches x W^T + b and its gradients match the autograd of plain ops', () => {
    const fc = new Linear(4, 3, { rng: new Rng(3) });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 7);
    const n0 = tf.memory().numTensors;
    const f = (): tf.Scalar => tf.sum(tf.square(fc.forward(x)));
    const { value, grads } = tf.variableGrads(f, [fc.weight, fc.bias!]);
    const ref = tf.variableGrads(
      () => tf.sum(tf.square(tf.add(tf.matMul(x, fc.weight), fc.bias!))),
      [fc.weight, fc.bias!],
    );
    expect(Math.abs(value.arraySync() - ref.value.arraySync())).toBeLessThan(1e-4);
    for (const k of Object.keys(grads)) {
      expect(maxAbsDiff(grads[k], ref.grads[k])).toBeLessThan(1e-4);
    }
    tf.dispose([value, ref.value, ...Object.values(grads), ...Object.values(ref.grads)]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose(x);
    fc.dispose();
  });

  it('names the expected input size', () => {
    const fc = new Linear(4, 3);
    const x = tf.zeros([2, 5]);
    expect(() => fc.forward(x)).toThrow('Linear: expected last axis of size 4, got shape [2, 5]');
    x.dispose();
    fc.dispose();
  });
});
