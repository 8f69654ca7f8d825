import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { ResNet3D } from '../models/resnet3d';
import { disposeExplanation, explainVolume } from './explain_volume';
import { gradCamPlusPlus } from './grad_cam_pp';

describe('explainVolume', () => {
  const mst = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 24, depth: 2, numHeads: 2, imgSize: 28, seed: 1 }), numClasses: 3, heads: 4, seed: 2 }).eval();
  const resnet = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 4, 8, 8], numClasses: 2, seed: 3 }).eval();
  const volume = tf.randomNormal([3, 28, 28], 0, 1, 'float32', 5);
  afterAll(() => {
    mst.dispose();
    resnet.dispose();
    volume.dispose();
  });

  it('returns every MST map with its shape; slice and plane maps sum to 1', async () => {
    mst.forward(tf.zeros([1, 1, 28, 28])).logits.dispose(); // caches the positional embedding
    const before = tf.memory().numTensors;
    for (const method of ['attention', 'rollout'] as const) {
      const e = await explainVolume(mst, volume, { method });
      expect(e.shapes).toEqual({ sliceAttention: [3], planeAttention: [3, 2, 2], saliency: [3, 2, 2], saliencyUpsampled: [3, 28, 28] });
      expect(e.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const [sliceSum, planeSums] = tf.tidy(() => [tf.sum(e.sliceAttention as tf.Tensor).dataSync()[0], Array.from(tf.sum(e.planeAttention as tf.Tensor, [1, 2]).dataSync())]);
      expect(sliceSum as number).toBeCloseTo(1, 5);
      (planeSums as number[]).forEach((s) => expect(s).toBeCloseTo(1, 5));
      disposeExplanation(e);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains a ResNet3D with Grad-CAM++ by default, for a chosen class', async () => {
    const before = tf.memory().numTensors;
    const e = await explainVolume(resnet, volume, { targetClass: 1 });
    expect(e.method).toBe('gradcam++');
    expect(e.targetClass).toBe(1);
    expect(e.saliencyUpsampled?.shape).toEqual([3, 28, 28]);
    // Min-max normalised over a map that varies (an all-zero map would be a failed explanation),
    // and the very map gradCamPlusPlus gives for that class.
    const [min, max] = tf.tidy(() => [tf.min(e.saliency).dataSync()[0], tf.max(e.saliency).dataSync()[0]]);
    expect([min, max]).toEqual([0, 1]);
    const batch = tf.reshape(volume, [1, 3, 28, 28]);
    const direct = gradCamPlusPlus(resnet, batch, { targetClass: 1 });
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(tf.reshape(direct.cam, e.saliency.shape), e.saliency))).dataSync()[0])).toBeLessThan(1e-6);
    tf.dispose([batch, direct.cam, direct.scores]);
    disposeExplanation(e);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names what is wrong: method, class, layer, volume', async () => {
    const before = tf.memory().numTensors;
    await expect(explainVolume(mst, volume, { method: 'gradcam' })).rejects.toThrow(/method 'gradcam' does not apply to this model; expected 'attention' or 'rollout'/);
    await expect(explainVolume(mst, volume, { targetClass: 3 })).rejects.toThrow(/targetClass 3 is out of range: the model has 3 classes \(0..2\)/);
    await expect(explainVolume(resnet, volume, { targetClass: 2 })).rejects.toThrow(/target class 2 is out of range: the network has 2 classes/);
    await expect(explainVolume(resnet, volume, { layer: 'layer9' })).rejects.toThrow(/unknown layer 'layer9'; expected one of conv1, bn1, relu, maxpool, layer1.0/);
    const batch = tf.zeros([1, 3, 28, 28]);
    await expect(explainVolume(mst, batch)).rejects.toThrow(/expected one volume \[D, H, W\], got shape \[1, 3, 28, 28\]/);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
