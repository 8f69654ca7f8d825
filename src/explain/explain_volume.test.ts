import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { ResNet2D } from '../models/resnet2d';
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

  it('runs every method that applies, each map with its shape, with noise smoothing and flips, leaving nothing behind', async () => {
    const before = tf.memory().numTensors;
    for (const method of ['transformer-attribution', 'gradient-attention'] as const) {
      const e = await explainVolume(mst, volume, { method, targetClass: 2 });
      expect(e.targetClass).toBe(2);
      expect(e.shapes).toEqual({ sliceAttention: [3], planeAttention: [3, 2, 2], saliency: [3, 2, 2], saliencyUpsampled: [3, 28, 28] });
      disposeExplanation(e);
    }
    const occ = await explainVolume(mst, volume, { method: 'occlusion', window: [1, 14, 14], batchSize: 6 });
    expect(occ.shapes).toEqual({ saliency: [3, 28, 28], saliencyUpsampled: [3, 28, 28] });
    disposeExplanation(occ);
    for (const method of ['gradcam', 'hirescam', 'layercam', 'xgradcam', 'eigencam', 'scorecam', 'occlusion'] as const) {
      const e = await explainVolume(resnet, volume, { method });
      expect(e.method).toBe(method);
      expect(e.shapes.saliencyUpsampled).toEqual([3, 28, 28]);
      const max = tf.tidy(() => tf.max(e.saliency).dataSync()[0]);
      expect(max === 1 || max === 0).toBe(true);
      disposeExplanation(e);
    }
    // Smoothing explains the clean volume's class in every noisy copy; flips and noise compose.
    const plain = await explainVolume(resnet, volume, { method: 'layercam' });
    const smooth = await explainVolume(resnet, volume, { method: 'layercam', smooth: { samples: 2, noise: 0.05, seed: 1 }, tta: true });
    expect(smooth.targetClass).toBe(plain.predictedClass);
    expect(smooth.logits).toBeUndefined();
    const same = await explainVolume(resnet, volume, { method: 'layercam', smooth: { samples: 1, noise: 0 } });
    expect(Array.from(same.saliency.dataSync())).toEqual(Array.from(plain.saliency.dataSync()));
    [plain, smooth, same].forEach(disposeExplanation);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs the CAM family on an MST with a CNN slice encoder, weighted by slice attention', async () => {
    const cnn = new MedicalSliceTransformer({ encoder: new ResNet2D({ block: 'basic', layers: [1, 1, 1, 1], feedForward: false, seed: 4 }), numClasses: 2, seed: 5 }).eval();
    const before = tf.memory().numTensors;
    for (const options of [{ method: 'xgradcam' }, { method: 'eigencam', layer: 'layer3' }, { method: 'scorecam', maxForwardPasses: 3, batchSize: 2 }] as const) {
      const e = await explainVolume(cnn, volume, options);
      const g = options.method === 'eigencam' ? 2 : 1; // layer3 of 28 px is 2 x 2, layer4 1 x 1
      expect(e.shapes).toEqual({ sliceAttention: [3], planeAttention: [3, g, g], saliency: [3, g, g], saliencyUpsampled: [3, 28, 28] });
      disposeExplanation(e);
    }
    await expect(explainVolume(cnn, volume, { method: 'gradient-attention' })).rejects.toThrow(/an MST with a CNN slice encoder \(no attention inside the encoder\)/);
    expect(tf.memory().numTensors).toBe(before);
    cnn.dispose();
  });

  it('names what is wrong: method, class, layer, volume', async () => {
    const before = tf.memory().numTensors;
    await expect(explainVolume(mst, volume, { method: 'gradcam' })).rejects.toThrow(
      /method 'gradcam' does not apply to this model, an MST with an attention encoder \(no convolutional feature maps\); expected one of 'attention', 'rollout', 'transformer-attribution', 'gradient-attention', 'occlusion'/,
    );
    await expect(explainVolume(mst, volume, { method: 'scorecam' })).rejects.toThrow(/method 'scorecam' does not apply to this model, an MST with an attention encoder \(no convolutional feature maps\)/);
    await expect(explainVolume(resnet, volume, { method: 'transformer-attribution' })).rejects.toThrow(/method 'transformer-attribution' does not apply to this model, a convolutional network; expected one of 'gradcam\+\+', 'gradcam'/);
    await expect(explainVolume(mst, volume, { targetClass: 3 })).rejects.toThrow(/targetClass 3 is out of range: the model has 3 classes \(0..2\)/);
    await expect(explainVolume(resnet, volume, { targetClass: 2 })).rejects.toThrow(/target class 2 is out of range: the network has 2 classes/);
    await expect(explainVolume(resnet, volume, { layer: 'layer9' })).rejects.toThrow(/unknown layer 'layer9'; expected one of conv1, bn1, relu, maxpool, layer1.0/);
    const batch = tf.zeros([1, 3, 28, 28]);
    await expect(explainVolume(mst, batch)).rejects.toThrow(/expected one volume \[D, H, W\] or \[D, H, W, 3\] \(the model's input channels\), got shape \[1, 3, 28, 28\]/);
    const batch5 = tf.zeros([1, 3, 28, 28, 3]);
    await expect(explainVolume(mst, batch5)).rejects.toThrow(/expected one volume \[D, H, W\] \(or \[D, H, W, C\] with channels\), got shape \[1, 3, 28, 28, 3\]/);
    batch5.dispose();
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
