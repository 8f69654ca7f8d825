import * as tf from '@tensorflow/tfjs';
import { ResNet3D } from '../models/resnet3d';
import { evaluateExplanations } from './evaluate_explanations';

describe('evaluateExplanations', () => {
  it('scores every method on every case: curves, areas, localisation against masks, and a summary', async () => {
    const net = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 4, 8, 8], numClasses: 2, seed: 3 }).eval();
    const a = tf.randomNormal([4, 16, 16], 0, 1, 'float32', 1);
    const b = { data: Float32Array.from({ length: 4 * 16 * 16 }, (_, i) => Math.sin(i)), shape: [4, 16, 16] };
    const mask = { data: new Uint8Array(4 * 16 * 16).fill(1, 0, 256), shape: [4, 16, 16] }; // slice 0
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const r = await evaluateExplanations(net, [a, b], {
      methods: ['gradcam', { method: 'occlusion', window: [2, 8, 8] }],
      masks: [mask, null],
      deletion: { steps: 4 },
      road: { fractions: [0.5] },
      onResult: (s) => seen.push(`${s.caseIndex}:${s.method}`),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual(['0:gradcam', '0:occlusion', '1:gradcam', '1:occlusion']);
    for (const s of r.scores) {
      expect(s.deletion?.scores).toHaveLength(5);
      expect(s.deletion?.scores[0]).toBeCloseTo(s.probability, 5);
      expect(s.insertion?.scores[4]).toBeCloseTo(s.probability, 5);
      expect(s.roadMorf?.fractions).toEqual([0, 0.5]);
      expect(s.sliceCorrect === undefined).toBe(s.caseIndex === 1);
    }
    const grad = r.summary.find((s) => s.method === 'gradcam');
    expect(grad).toMatchObject({ cases: 2, withMask: 1 });
    const del = r.scores.filter((s) => s.method === 'gradcam').map((s) => s.deletion?.auc as number);
    expect(grad?.deletionAuc).toBeCloseTo((del[0] + del[1]) / 2, 10);
    expect(grad?.sliceCorrect).toBe(r.scores[0].sliceCorrect ? 1 : 0);
    await expect(evaluateExplanations(net, [a], { methods: [] })).rejects.toThrow(/at least one method/);
    await expect(evaluateExplanations(net, [a], { methods: ['gradcam'], masks: [] })).rejects.toThrow(/one mask \(or null\) per case, got 0 masks for 1 cases/);
    a.dispose();
    net.dispose();
  });
});
