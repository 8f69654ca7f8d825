import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { camFromWeights } from '../../src/explain/cam_utils';
import { disposeExplanation, explainVolume } from '../../src/explain/explain_volume';
import { gradCam, gradCamWeights } from '../../src/explain/grad_cam';
import { gradCamPlusPlus, gradCamPlusPlusWeights } from '../../src/explain/grad_cam_pp';
import { combineSliceAndPlane, mstSaliency } from '../../src/explain/mst_saliency';
import { attentionRollout } from '../../src/explain/rollout';
import { trilinearUpsample, type TrilinearOptions } from '../../src/explain/trilinear_upsample';
import { loadSafetensors } from '../../src/io/safetensors';
import { DinoVisionTransformer, type DinoVisionTransformerOptions } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { ResNet2D } from '../../src/models/resnet2d';
import { ResNet3D } from '../../src/models/resnet3d';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { stateDictFromSpec, stateDictFromSpecFile, type WeightSpec } from '../fixture_weights';
import { FULL, fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/explain_ref.py (each map computed the authors' way).

describe('trilinearUpsample equals F.interpolate(mode="trilinear", align_corners=False)', () => {
  let inputs: StateDict;
  let ref: StateDict;
  beforeAll(async () => {
    inputs = stateDictFromSpecFile('explain', 'trilinear_inputs.json');
    ref = await loadSafetensors(fixturePath('explain', 'trilinear.safetensors'));
  });
  afterAll(() => {
    disposeStateDict(inputs);
    disposeStateDict(ref);
  });

  it.each<[string, TrilinearOptions]>([
    ['size_up', { size: [5, 7, 9] }],
    ['size_mixed', { size: [4, 28, 2] }],
    ['scale_2_5', { scaleFactor: 2.5 }],
    ['scale_mixed', { scaleFactor: [1.7, 2.0, 3.3] }],
    ['scale_recompute', { scaleFactor: [1.7, 2.0, 3.3], recomputeScaleFactor: true }],
    ['batch_channels', { size: [3, 5, 4] }],
  ])('%s to 1e-5', (name, options) => {
    const x = tf.transpose(inputs[name], [0, 2, 3, 4, 1]); // NCDHW -> NDHWC
    const y = trilinearUpsample(x, options);
    expect(y.shape).toEqual(ref[name].shape);
    expect(maxAbsDiff(y, ref[name])).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });
});

describe('Grad-CAM and Grad-CAM++ equal the authors\' compute_attention_maps', () => {
  let inputs: StateDict;
  let ref: StateDict;
  beforeAll(async () => {
    inputs = stateDictFromSpecFile('explain', 'cam_inputs.json');
    ref = await loadSafetensors(fixturePath('explain', 'cam.safetensors'));
  });
  afterAll(() => {
    disposeStateDict(inputs);
    disposeStateDict(ref);
  });

  it.each(['cam3d', 'cam2d'])('%s: weights and normalised maps to 1e-6', (name) => {
    const act = tf.relu(inputs[`${name}.act`]);
    const grad = inputs[`${name}.grad`];
    const before = tf.memory().numTensors;
    // Grad-CAM's raw map is partly negative here, so the ReLU before normalising is tested.
    expect(ref[`${name}.gradcam.raw`].dataSync().some((v) => v < 0)).toBe(true);
    for (const mode of ['gradcam', 'gradcam++'] as const) {
      const w = mode === 'gradcam' ? gradCamWeights(grad) : gradCamPlusPlusWeights(act, grad, 1e-6);
      const cam = camFromWeights(act, w, 'global');
      expect(maxAbsDiff(w, ref[`${name}.${mode}.weights`])).toBeLessThan(1e-7);
      expect(cam.shape).toEqual(ref[`${name}.${mode}.map`].shape);
      expect(maxAbsDiff(cam, ref[`${name}.${mode}.map`])).toBeLessThan(1e-6);
      tf.dispose([w, cam]);
    }
    expect(tf.memory().numTensors).toBe(before);
    act.dispose();
  });
});

const MST: Record<string, { encoder: DinoVisionTransformerOptions; heads: number }> = {
  dino: { encoder: { embedDim: 32, depth: 2, numHeads: 4, imgSize: 42, layerScaleInit: 1 }, heads: 8 },
  dino_reg: {
    encoder: { embedDim: 48, depth: 2, numHeads: 3, imgSize: 42, numRegisters: 4, interpolateOffset: 0, interpolateAntialias: true, layerScaleInit: 1 },
    heads: 12,
  },
};

function buildMst(name: string): MedicalSliceTransformer {
  const cfg = MST[name];
  const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer(cfg.encoder), numClasses: 2, heads: cfg.heads });
  const sd = stateDictFromSpecFile('explain', `mst_${name}.json`);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model.eval();
}

describe.each(Object.keys(MST))('MST maps (%s) equal the authors\' get_attention_maps and main_predict', (name) => {
  let model: MedicalSliceTransformer;
  let volume: tf.Tensor;
  let ref: StateDict;
  const key = (k: string) => ref[`${name}.${k}`];
  beforeAll(async () => {
    model = buildMst(name);
    const v = stateDictFromSpecFile('explain', 'mst_volume.json');
    volume = v.volume; // [1, D, H, W]
    ref = await loadSafetensors(fixturePath('explain', 'mst.safetensors'));
    // The encoder caches its resized positional embedding on the first call.
    model.forward(volume).logits.dispose();
  });
  afterAll(() => {
    model.dispose();
    volume.dispose();
    disposeStateDict(ref);
  });

  it('slice, plane, combined and upsampled maps to 1e-6, both first-patch variants', () => {
    const before = tf.memory().numTensors;
    const out = model.forward(volume, { attention: 'last' });
    const [, D, H, W] = volume.shape;
    const paper = mstSaliency(out as Parameters<typeof mstSaliency>[0], { outputShape: [D, H, W] });
    const authors = mstSaliency(out as Parameters<typeof mstSaliency>[0], { zeroFirstPatch: true });
    const probs = tf.softmax(out.logits);
    expect(maxAbsDiff(probs, key('probabilities'))).toBeLessThan(1e-6);
    probs.dispose();
    expect(maxAbsDiff(paper.sliceAttention, key('slice_attention'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(paper.planeAttention, key('plane_attention'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(authors.planeAttention, key('plane_attention_zero'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(paper.saliency, key('saliency'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(authors.saliency, key('saliency_zero'))).toBeLessThan(1e-6);
    expect(paper.saliencyUpsampled?.shape).toEqual([D, H, W]);
    expect(maxAbsDiff(paper.saliencyUpsampled as tf.Tensor, key('saliency_up'))).toBeLessThan(1e-6);
    tf.dispose([out.logits, out.sliceAttention, out.planeAttention, ...(out.encoderAttentions ?? [])].filter((t) => t !== undefined) as tf.Tensor[]);
    for (const s of [paper, authors]) tf.dispose([s.sliceAttention, s.planeAttention, s.saliency, s.saliencyUpsampled].filter((t) => t !== undefined) as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attention rollout (mean, max, min) and rollout x slice to 2e-6', () => {
    const out = model.forward(volume, { attention: 'all' });
    const attns = out.encoderAttentions as tf.Tensor4D[];
    expect(attns).toHaveLength(2);
    for (const fusion of ['mean', 'max', 'min'] as const) {
      const r = attentionRollout(attns, out.numPrefixTokens as number, out.gridSize as [number, number], { headFusion: fusion });
      expect(maxAbsDiff(r, key(`rollout_${fusion}`))).toBeLessThan(2e-6);
      if (fusion === 'mean') {
        const s = combineSliceAndPlane(key('slice_attention'), r);
        expect(maxAbsDiff(s, key('rollout_saliency_mean'))).toBeLessThan(2e-6);
        s.dispose();
      }
      r.dispose();
    }
    tf.dispose([out.logits, out.sliceAttention, out.planeAttention, ...attns].filter((t) => t !== undefined) as tf.Tensor[]);
  });

  it('explainVolume: one call gives the same maps, and with TTA the authors\' 8-flip average', async () => {
    const vol = tf.squeeze(volume, [0]);
    const before = tf.memory().numTensors;
    const e = await explainVolume(model, vol);
    expect(e.shapes).toEqual({ sliceAttention: [4], planeAttention: [4, 2, 3], saliency: [4, 2, 3], saliencyUpsampled: [4, 28, 42] });
    expect(maxAbsDiff(e.saliencyUpsampled as tf.Tensor, key('saliency_up'))).toBeLessThan(1e-6);
    expect(Math.max(...e.probabilities.map((p, i) => Math.abs(p - key('probabilities').dataSync()[i])))).toBeLessThan(1e-6);
    disposeExplanation(e);
    const t = await explainVolume(model, vol, { tta: true, zeroFirstPatch: true });
    expect(maxAbsDiff(t.saliency, key('tta_saliency'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(t.saliencyUpsampled as tf.Tensor, key('tta_saliency_up'))).toBeLessThan(1e-6);
    expect(maxAbsDiff(t.sliceAttention as tf.Tensor, key('tta_slice_attention'))).toBeLessThan(1e-6);
    expect(Math.max(...t.probabilities.map((p, i) => Math.abs(p - key('tta_probabilities').dataSync()[i])))).toBeLessThan(1e-6);
    disposeExplanation(t);
    expect(tf.memory().numTensors).toBe(before);
    vol.dispose();
  });
});

describe('Grad-CAM on ResNet3D equals the authors\' ResNet (hooks on the last ReLU) and main_predict', () => {
  let net: ResNet3D;
  let volume: tf.Tensor;
  let ref: StateDict;
  beforeAll(async () => {
    net = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [8, 16, 16, 32], numClasses: 3 });
    const spec = JSON.parse(fs.readFileSync(fixturePath('explain', 'resnet3d.json'), 'utf8')) as WeightSpec & { inputs: WeightSpec };
    const sd = stateDictFromSpec(spec);
    net.loadStateDict(sd);
    disposeStateDict(sd);
    net.eval();
    const v = stateDictFromSpec(spec.inputs);
    volume = v.volume; // [1, D, H, W]
    ref = await loadSafetensors(fixturePath('explain', 'resnet3d.safetensors'));
  });
  afterAll(() => {
    net.dispose();
    volume.dispose();
    disposeStateDict(ref);
  });

  // Each case is a 3D forward (seconds on a loaded machine): the default run keeps three, two of
  // them Grad-CAMs whose raw map is partly negative, so the ReLU before normalising is tested.
  const cases: [string, number | undefined, 'gradcam' | 'gradcam++'][] = [
    ['layer4', 2, 'gradcam'],
    ['layer4', 2, 'gradcam++'],
    ['layer3', undefined, 'gradcam'],
  ];
  if (FULL) cases.push(['layer4', undefined, 'gradcam++'], ['layer4', undefined, 'gradcam'], ['layer3', 2, 'gradcam++']);

  it('the fixture\'s default Grad-CAM cases have raw maps with negative parts (the ReLU matters)', () => {
    for (const name of ['layer4.2.gradcam', 'layer3.argmax.gradcam']) {
      const raw = ref[`${name}.raw`].dataSync();
      expect({ name, negative: raw.some((v) => v < 0), positive: raw.some((v) => v > 0) }).toEqual({ name, negative: true, positive: true });
    }
  });

  it.each(cases)('%s, class %s, %s: normalised map to 5e-6, logits to 5e-6', (layer, target, mode) => {
    const before = tf.memory().numTensors;
    const fn = mode === 'gradcam' ? gradCam : gradCamPlusPlus;
    const r = fn(net, volume, { layer, targetClass: target });
    const expected = ref[`${layer}.${target ?? 'argmax'}.${mode}`];
    expect(r.cam.shape).toEqual([1, ...expected.shape]);
    expect(r.targetClass).toEqual([target ?? 0]);
    expect(maxAbsDiff(r.cam, expected)).toBeLessThan(5e-6);
    expect(maxAbsDiff(r.scores, ref.logits)).toBeLessThan(5e-6);
    tf.dispose([r.cam, r.scores]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explainVolume (default Grad-CAM++ at layer4) upsampled as main_predict to 5e-6', async () => {
    const vol = tf.squeeze(volume, [0]);
    const before = tf.memory().numTensors;
    const e = await explainVolume(net, vol);
    expect(e.model).toBe('resnet3d');
    expect(e.shapes).toEqual({ saliency: [2, 2, 2], saliencyUpsampled: [24, 32, 32] });
    expect(maxAbsDiff(e.saliencyUpsampled as tf.Tensor, ref['layer4.argmax.gradcam++.up'])).toBeLessThan(5e-6);
    disposeExplanation(e);
    expect(tf.memory().numTensors).toBe(before);
    vol.dispose();
  });

  it('names the valid layers and the class range in its errors', () => {
    expect(() => gradCam(net, volume, { layer: 'layer5' })).toThrow(/unknown layer 'layer5'; expected one of conv1, bn1, relu, maxpool, layer1.0/);
    expect(() => gradCam(net, volume, { targetClass: 3 })).toThrow(/target class 3 is out of range: the network has 3 classes \(0..2\)/);
  });
});

describe('MST-ResNet Grad-CAM++ x slice attention equals the authors\' ResNetSliceTrans', () => {
  let model: MedicalSliceTransformer;
  let volume: tf.Tensor;
  let ref: StateDict;
  beforeAll(async () => {
    model = new MedicalSliceTransformer({ encoder: new ResNet2D({ block: 'basic', layers: [1, 1, 1, 1], feedForward: false }), numClasses: 2 });
    const spec = JSON.parse(fs.readFileSync(fixturePath('explain', 'mst_resnet.json'), 'utf8')) as WeightSpec & { inputs: WeightSpec };
    const sd = stateDictFromSpec(spec);
    model.loadStateDict(sd);
    disposeStateDict(sd);
    model.eval();
    // Slices of different contrast (slice0..slice2), so the slice attention has a clear peak.
    const v = stateDictFromSpec(spec.inputs);
    volume = tf.stack(Object.keys(v).sort().map((k) => v[k])); // [D, H, W]
    disposeStateDict(v);
    ref = await loadSafetensors(fixturePath('explain', 'mst_resnet.safetensors'));
  });
  afterAll(() => {
    model.dispose();
    volume.dispose();
    disposeStateDict(ref);
  });

  it('the fixture has a peaked slice attention (not uniform over the 3 slices)', () => {
    const s = Array.from(ref.slice_attention.dataSync());
    expect(Math.max(...s) - Math.min(...s)).toBeGreaterThan(0.2);
  });

  it.each(['sliceFeature', 'class'] as const)('camTarget %s: CAM, slice attention and saliency to 1e-5', async (camTarget) => {
    const before = tf.memory().numTensors;
    const e = await explainVolume(model, volume, { camTarget });
    expect(e.shapes).toEqual({ sliceAttention: [3], planeAttention: [3, 3, 3], saliency: [3, 3, 3], saliencyUpsampled: [3, 96, 96] });
    expect(maxAbsDiff(e.sliceAttention as tf.Tensor, ref.slice_attention)).toBeLessThan(2e-6);
    expect(maxAbsDiff(e.planeAttention as tf.Tensor, ref[`${camTarget}.cam`])).toBeLessThan(1e-5);
    expect(maxAbsDiff(e.saliency, ref[`${camTarget}.saliency`])).toBeLessThan(3e-6);
    if (camTarget === 'sliceFeature') expect(maxAbsDiff(e.saliencyUpsampled as tf.Tensor, ref['sliceFeature.saliency_up'])).toBeLessThan(3e-6);
    const p = ref.probabilities.dataSync();
    e.probabilities.forEach((v, i) => expect(Math.abs(v - p[i])).toBeLessThan(5e-6));
    disposeExplanation(e);
    expect(tf.memory().numTensors).toBe(before);
  });
});
