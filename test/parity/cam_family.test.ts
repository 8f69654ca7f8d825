import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import type { CamResult } from '../../src/explain/cam_utils';
import { eigenCam } from '../../src/explain/eigen_cam';
import { hiResCam } from '../../src/explain/hires_cam';
import { layerCam } from '../../src/explain/layer_cam';
import { occlusionSensitivity } from '../../src/explain/occlusion';
import { scoreCam } from '../../src/explain/score_cam';
import { xGradCam } from '../../src/explain/xgrad_cam';
import { loadSafetensors } from '../../src/io/safetensors';
import { ResNet3D } from '../../src/models/resnet3d';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { stateDictFromSpec, type WeightSpec } from '../fixture_weights';
import { FULL, fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/cam_family_ref.py (each method from its paper's formula).

describe('The CAM family on a 3D ResNet equals PyTorch references of the papers\' formulas', () => {
  let net: ResNet3D;
  let volume: tf.Tensor; // [1, D, H, W]
  let ref: StateDict;
  beforeAll(async () => {
    net = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [8, 16, 16, 32], numClasses: 3 });
    const spec = JSON.parse(fs.readFileSync(fixturePath('explain', 'resnet3d.json'), 'utf8')) as WeightSpec & { inputs: WeightSpec };
    const sd = stateDictFromSpec(spec);
    net.loadStateDict(sd);
    disposeStateDict(sd);
    net.eval();
    volume = stateDictFromSpec(spec.inputs).volume;
    ref = await loadSafetensors(fixturePath('explain', 'cam_family.safetensors'));
  });
  afterAll(() => {
    net.dispose();
    volume.dispose();
    disposeStateDict(ref);
  });

  function check(r: CamResult, key: string): void {
    const expected = ref[key];
    expect(r.cam.shape).toEqual([1, ...expected.shape]);
    expect(maxAbsDiff(r.cam, expected)).toBeLessThan(1e-4);
    tf.dispose([r.cam, r.scores]);
  }

  const gradientCases: [string, number | undefined][] = [['layer4', undefined], ['layer3', 2]];
  if (FULL) gradientCases.push(['layer4', 2], ['layer3', undefined]);

  it.each(gradientCases)('HiResCAM, LayerCAM and XGrad-CAM at %s, class %s: maps to 1e-4', (layer, target) => {
    const before = tf.memory().numTensors;
    const name = `${layer}.${target ?? 'argmax'}`;
    check(hiResCam(net, volume, { layer, targetClass: target }), `${name}.hirescam`);
    check(layerCam(net, volume, { layer, targetClass: target }), `${name}.layercam`);
    check(xGradCam(net, volume, { layer, targetClass: target }), `${name}.xgradcam`);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['layer4', 'layer3'])('Eigen-CAM at %s (fewer locations than channels, and more) to 1e-4', async (layer) => {
    const before = tf.memory().numTensors;
    const r = await eigenCam(net, volume, { layer });
    expect(r.targetClass).toEqual([0]);
    check(r, `${layer}.eigencam`);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Score-CAM at layer4, batched, with and without a forward-pass budget, to 1e-4', async () => {
    const before = tf.memory().numTensors;
    check(await scoreCam(net, volume, { layer: 'layer4', batchSize: 5 }), 'layer4.argmax.scorecam');
    check(await scoreCam(net, volume, { layer: 'layer4', batchSize: 3, maxForwardPasses: 5 }), 'layer4.argmax.scorecam_budget5');
    if (FULL) {
      check(await scoreCam(net, volume, { layer: 'layer3', targetClass: 2, batchSize: 16 }), 'layer3.2.scorecam');
      check(await scoreCam(net, volume, { layer: 'layer4', targetClass: 2 }), 'layer4.2.scorecam');
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each<[string, [number, number, number], [number, number, number]]>([
    ['w8s8', [8, 8, 8], [8, 8, 8]],
    ['w10s6', [10, 12, 40], [6, 9, 40]],
  ])('3D occlusion %s (overlapping boxes, a box wider than the volume, batched): sensitivity and map to 1e-4', async (name, window, stride) => {
    const vol = tf.squeeze(volume, [0]);
    const before = tf.memory().numTensors;
    const r = await occlusionSensitivity((v) => net.forward(v), vol, { window, stride, batchSize: 7 });
    expect(r.targetClass).toBe(0);
    expect(maxAbsDiff(r.sensitivity, ref[`occlusion.${name}.sensitivity`])).toBeLessThan(1e-4);
    expect(maxAbsDiff(r.cam, ref[`occlusion.${name}.cam`])).toBeLessThan(1e-4);
    tf.dispose([r.cam, r.sensitivity, r.scores]);
    expect(tf.memory().numTensors).toBe(before);
    vol.dispose();
  });
});
