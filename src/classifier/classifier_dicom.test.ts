import * as tf from '@tensorflow/tfjs';
import { readVolume } from '../io/read_volume';
import { createModel } from '../models/registry';
import { bundleJson } from '../models/save_model';
import { fixturePath } from '../../test/helpers';
import { Classifier } from './classifier';

// A dynamic series (two phases of four slices, 12 x 12) through predict and explain by path: the
// phase and series options reach the volume reader, as mst-ts predict's --phase and --series do.
describe('Classifier on a multi-phase DICOM folder', () => {
  const dce = fixturePath('dicom', 'dce');
  let clf: Classifier;
  beforeAll(() => {
    const model = createModel('mst-resnet18', { numClasses: 2, seed: 7 });
    model.eval();
    clf = new Classifier(model, { ...bundleJson(model, { arch: 'mst-resnet18' }), preprocessing: null }, { workers: 1 });
  });
  afterAll(() => clf.dispose());

  it('predicts the phase it is given, as on the volume readVolume reads of that phase', async () => {
    const before = tf.memory().numTensors;
    await expect(clf.predict(dce)).rejects.toThrow(/holds 2 phases that differ in TemporalPositionIdentifier/);
    const byPath = await Promise.all([0, 1].map((phase) => clf.predict(dce, { phase })));
    const byVolume = await Promise.all([0, 1].map(async (phase) => clf.predict(await readVolume(dce, { canonical: false, phase }))));
    for (const i of [0, 1]) expect(byPath[i].logits).toEqual(byVolume[i].logits);
    expect(byPath[1].logits).not.toEqual(byPath[0].logits);
    expect((await clf.predict(dce, { phase: 'first' })).logits).toEqual(byPath[0].logits);
    await expect(clf.predict(dce, { phase: 2 })).rejects.toThrow(/phase 2 does not exist; series .* has phases 0: 1 \(4 images\), 1: 2 \(4 images\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads the series it is given, and refuses one the folder does not hold', async () => {
    const uid = (await readVolume(dce, { phase: 1 })).meta.seriesInstanceUid as string;
    expect(uid).toMatch(/^[\d.]+$/);
    const chosen = await clf.predict(dce, { series: uid, phase: 1 });
    expect(chosen.logits).toEqual((await clf.predict(dce, { phase: 1 })).logits);
    await expect(clf.predict(dce, { series: '1.2.3.4', phase: 1 })).rejects.toThrow(/no series with SeriesInstanceUID '1\.2\.3\.4'; found /);
  });

  it('explains the phase it is given, the map on that phase\'s grid', async () => {
    const before = tf.memory().numTensors;
    await expect(clf.explain(dce)).rejects.toThrow(/holds 2 phases/);
    const e = await clf.explain(dce, { phase: 1, method: 'gradcam' });
    const direct = await clf.explain(await readVolume(dce, { canonical: false, phase: 1 }), { method: 'gradcam' });
    expect(e.method).toBe('gradcam');
    expect(e.logits).toEqual(direct.logits);
    expect(e.saliency.shape).toEqual([4, 12, 12]);
    expect(Array.from(e.saliency.data)).toEqual(Array.from(direct.saliency.data));
    expect(e.saliency.data.some((v) => v > 0)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
