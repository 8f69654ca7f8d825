import * as tf from '@tensorflow/tfjs';
import type { VolumeDataset } from '../data/dataset';
import type { VolumeSample } from '../data/sample';
import { DinoVisionTransformer } from '../models/dinov2';
import { encodeSlices, knnClassify, labelledSlices } from './knn_probe';

function dataset(samples: VolumeSample[]): VolumeDataset {
  return { length: samples.length, labels: samples.map((s) => s.label), ids: samples.map((s) => s.id), get: async (i) => samples[i] };
}

describe('k-NN probe', () => {
  it('classifies by weighted votes of the nearest cosine neighbours', async () => {
    const bank = Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]);
    const queries = Float32Array.from([1, 0.05, 0.05, 1, 1, 1.2]);
    const r = await knnClassify(bank, [0, 0, 1, 1], queries, [0, 1, 1], 2, { k: 2 });
    expect(r.accuracy).toBe(1);
    expect(r.scores[0]).toBeLessThan(0.5);
    expect(r.scores[1]).toBeGreaterThan(0.5);
    expect(r.auc).toBe(1);
    // k = 4: every bank vector votes, weighted by exp(cos / 0.07): the nearest class still wins.
    const all = await knnClassify(bank, [0, 0, 1, 1], queries, [0, 1, 1], 2, { k: 4 });
    expect(all.accuracy).toBe(1);
    await expect(knnClassify(bank, [0, 0, 1], queries, [0, 1, 1], 2)).rejects.toThrow('expected 3 x 2 memory');
  });

  it('takes the lesion slices of every case, and matched depths of lesion-free cases', async () => {
    const shape: [number, number, number] = [4, 2, 2];
    const vol = (v: number): Float32Array => Float32Array.from({ length: 16 }, (_, i) => v + i);
    const mask = new Uint8Array(16);
    mask[5] = 1; // slice 1
    mask[9] = 1; // slice 2
    const samples: VolumeSample[] = [
      { id: 'pos', data: vol(0), shape, spacing: [1, 1, 1], label: 1, mask },
      { id: 'neg', data: vol(100), shape, spacing: [1, 1, 1], label: 0, mask: new Uint8Array(16) },
      { id: 'benign', data: vol(200), shape, spacing: [1, 1, 1], label: 0, mask: Uint8Array.from(mask, (m, i) => (i === 13 ? 1 : 0)) },
    ];
    const l = await labelledSlices(dataset(samples));
    expect(l.labels).toEqual([1, 1, 0, 0, 0]);
    expect(l.slices.map((s) => s.data[0])).toEqual([4, 8, 104, 108, 212]);
    const noMask = await labelledSlices(dataset([{ id: 'x', data: vol(0), shape, spacing: [1, 1, 1], label: 1 }]));
    expect(noMask.labels).toEqual([1, 1, 1, 1]);
  });

  it('encodes slices in evaluation mode in batches and restores the mode', async () => {
    const enc = new DinoVisionTransformer({ embedDim: 8, depth: 1, numHeads: 2, patchSize: 4, imgSize: 8, inChannels: 1, convStem: { channels: [4], strides: [2] }, seed: 1 });
    const slices = Array.from({ length: 5 }, (_, i) => ({ data: Float32Array.from({ length: 64 }, (_, k) => Math.sin(i + k)), h: 8, w: 8 }));
    const before = tf.memory().numTensors;
    const a = await encodeSlices(enc, slices, 2);
    const b = await encodeSlices(enc, slices, 5);
    expect(a.length).toBe(40);
    for (let i = 0; i < 40; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    expect(enc.training).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    enc.dispose();
  });
});
