import * as tf from '@tensorflow/tfjs';
import { trapezoidArea } from '../stats/auc';
import { deletionInsertion, saliencyRank } from './deletion_insertion';
import { pointingGame } from './localisation';
import { noisyLinearImputation, roadCurves } from './road';

// A model whose answer depends on one known region: logit 1 = 4 * mean of the region's voxels,
// logit 0 = 0, on volumes [n, 2, 4, 4] whose region is slice 0, rows 0-1 (8 of 32 voxels).
const SHAPE: [number, number, number] = [2, 4, 4];
const inRegion = (i: number) => i < 8;
const regionMask = tf.tensor(Array.from({ length: 32 }, (_, i) => (inRegion(i) ? 1 : 0)), SHAPE);
const classify = (v: tf.Tensor) =>
  tf.tidy(() => {
    const mean = tf.div(tf.sum(tf.mul(v, regionMask), [1, 2, 3]), 8);
    return tf.stack([tf.zerosLike(mean), tf.mul(mean, 4)], 1);
  });
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
afterAll(() => regionMask.dispose());

describe('faithfulness metrics', () => {
  it('deletion and insertion follow the known region exactly, in slabs', async () => {
    const volume = tf.ones(SHAPE);
    // A perfect map (the region first) and an inverted one (the region last).
    const perfect = tf.tensor(Array.from({ length: 32 }, (_, i) => (inRegion(i) ? 2 : 1)), SHAPE);
    const inverted = tf.sub(3, perfect);
    const before = tf.memory().numTensors;
    const good = await deletionInsertion(classify, volume, perfect, { steps: 8, batchSize: 3 });
    const bad = await deletionInsertion(classify, volume, inverted, { steps: 8 });
    expect(tf.memory().numTensors).toBe(before);
    expect(good.targetClass).toBe(1);
    expect(good.deletion.fractions).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1]);
    // Step k removes 4k voxels: the region's mean falls to (8 - min(4k, 8)) / 8.
    const del = good.deletion.fractions.map((_, k) => sigmoid((4 * (8 - Math.min(4 * k, 8))) / 8));
    const ins = good.deletion.fractions.map((_, k) => sigmoid((4 * Math.min(4 * k, 8)) / 8));
    good.deletion.scores.forEach((p, k) => expect(p).toBeCloseTo(del[k], 6));
    good.insertion.scores.forEach((p, k) => expect(p).toBeCloseTo(ins[k], 6));
    expect(good.deletion.auc).toBeCloseTo(trapezoidArea(good.deletion.fractions, del), 6);
    expect(good.deletion.auc).toBeLessThan(bad.deletion.auc);
    expect(good.insertion.auc).toBeGreaterThan(bad.insertion.auc);
    await expect(deletionInsertion(classify, volume, tf.zeros([2, 2, 2]))).rejects.toThrow(/must have the volume's shape \[2, 4, 4\] \(upsample it first\), got \[2, 2, 2\]/);
    tf.dispose([volume, perfect, inverted]);
  });

  it('ranks voxels by saliency, ties by index', () => {
    expect(Array.from(saliencyRank([0.1, 0.9, 0.5, 0.9]))).toEqual([3, 0, 2, 1]);
  });

  it('imputes a removed region harmonically (a linear ramp exactly) and ROAD separates good maps from bad', async () => {
    // A ramp along W is harmonic: imputing any interior hole from its neighbours gives it back.
    const data = Float32Array.from({ length: 4 * 6 * 6 }, (_, i) => (i % 6) * 0.5 - 1);
    const removed = new Uint8Array(data.length);
    for (const i of [43, 44, 49, 50, 79, 80]) removed[i] = 1;
    const filled = noisyLinearImputation({ data, shape: [4, 6, 6] }, removed);
    filled.forEach((v, i) => expect(v).toBeCloseTo(data[i], 5));
    const noisy = noisyLinearImputation({ data, shape: [4, 6, 6] }, removed, { noiseStd: 0.1, seed: 2 });
    expect(noisy.some((v, i) => removed[i] && Math.abs(v - data[i]) > 1e-3)).toBe(true);
    expect(noisy.every((v, i) => removed[i] || v === data[i])).toBe(true);

    const volume = tf.tensor(Array.from({ length: 32 }, (_, i) => (inRegion(i) ? 2 : 0)), SHAPE);
    const perfect = tf.tensor(Array.from({ length: 32 }, (_, i) => (inRegion(i) ? 1 : 0) + i * 1e-3), SHAPE);
    const inverted = tf.neg(perfect);
    const before = tf.memory().numTensors;
    const good = await roadCurves(classify, volume, perfect, { fractions: [0.25, 0.5], noise: 0 });
    const bad = await roadCurves(classify, volume, inverted, { fractions: [0.25, 0.5], noise: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(good.morf.fractions).toEqual([0, 0.25, 0.5]);
    // MoRF at 25% removes the region entirely; its voxels then take their neighbours' value 0.
    expect(good.morf.scores[1]).toBeCloseTo(0.5, 6);
    expect(good.morf.auc).toBeLessThan(bad.morf.auc);
    expect(good.lerf.auc).toBeGreaterThan(bad.lerf.auc);
    tf.dispose([volume, perfect, inverted]);
  });

  it('plays the pointing game with a tolerance', () => {
    const map = { data: new Float32Array(27), shape: [3, 3, 3] };
    map.data[0] = 1; // peak at [0, 0, 0]
    const mask = { data: new Uint8Array(27), shape: [3, 3, 3] };
    mask.data[26] = 1; // lesion at [2, 2, 2], distance sqrt(12) = 3.46
    expect(pointingGame(map, mask)).toBe(false);
    expect(pointingGame(map, mask, 3)).toBe(false);
    expect(pointingGame(map, mask, 3.5)).toBe(true);
    expect(() => pointingGame(map, mask, -1)).toThrow(/tolerance must be a non-negative number of voxels, got -1/);
  });
});
