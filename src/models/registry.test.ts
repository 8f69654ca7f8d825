import * as tf from '@tensorflow/tfjs';
import { createModel, MODEL_REGISTRY, predictVolume } from './registry';
import { MedicalSliceTransformer } from './medical_slice_transformer';
import { ResNet3D } from './resnet3d';
import type { TransformerFusion } from './fusions/transformer_fusion';

describe('model registry', () => {
  it('lists the architectures of the issue, with a clear error for an unknown one', () => {
    for (const name of ['mst-dinov2-s', 'mst-dinov2-b', 'mst-dinov2-s-reg', 'mst-resnet18', 'resnet3d-18', 'resnet3d-50', 'resnet3d-101']) {
      expect(MODEL_REGISTRY.has(name)).toBe(true);
    }
    expect(() => createModel('mst-vit')).toThrow(/unknown architecture 'mst-vit'; expected one of mst-dinov2-s, mst-dinov2-b/);
  });

  it("mst-resnet18 has ResNetSliceTrans's keys: model.* without fc, 16 heads of 512-d features", () => {
    const model = createModel('mst-resnet18', { numClasses: 3 }) as MedicalSliceTransformer;
    const shapes = model.stateDictShapes();
    const keys = Object.keys(shapes);
    expect(keys).toContain('cls_token');
    expect(keys).toContain('model.conv1.weight');
    expect(keys).toContain('model.layer4.1.bn2.running_var');
    expect(keys.filter((k) => k.startsWith('model.fc') || k.startsWith('encoder.'))).toEqual([]);
    expect(shapes['slice_fusion.layers.0.self_attn.in_proj_weight']).toEqual([1536, 512]);
    expect(shapes['linear.weight']).toEqual([3, 512]);
    expect((model.fusion as TransformerFusion).transformer.layers.items[0].selfAttn.numHeads).toBe(16);
    model.dispose();
  });

  it('predictVolume runs a 3D ResNet on one [D, H, W] volume in eval mode and leaks nothing', async () => {
    const net = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 4, 8, 8], numClasses: 2, seed: 1 });
    const volume = tf.randomNormal([4, 16, 16], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const { logits, probabilities } = await predictVolume(net, volume);
    expect(tf.memory().numTensors).toBe(before);
    expect(logits).toHaveLength(2);
    expect(probabilities[0] + probabilities[1]).toBeCloseTo(1, 6);
    expect(net.training).toBe(true);
    const flat = tf.zeros([16, 16]);
    await expect(predictVolume(net, flat)).rejects.toThrow(/expected one volume \[D, H, W\], got \[16, 16\]/);
    tf.dispose([volume, flat]);
    net.dispose();
  });
});
