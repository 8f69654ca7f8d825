import * as tf from '@tensorflow/tfjs';
import { collapseDiagnosis, teacherStats } from './collapse';

describe('teacher statistics and collapse', () => {
  it('measures entropy, batch entropy and feature spread of a batch', async () => {
    const before = tf.memory().numTensors;
    // Two images on two different one-hot prototypes, features on two orthogonal axes.
    const targets = tf.tensor2d([[1, 0, 0, 0], [0, 1, 0, 0]]);
    const features = tf.tensor2d([[2, 0], [0, 3]]);
    const s = await teacherStats(targets, features);
    expect(s.entropy).toBeCloseTo(0, 6);
    expect(s.marginalEntropy).toBeCloseTo(Math.log(2), 6);
    // Normalised features (1, 0) and (0, 1): per-dimension std 0.5, times sqrt(2).
    expect(s.featureStd).toBeCloseTo(0.5 * Math.SQRT2, 5);
    const flat = tf.fill([3, 4], 0.25) as tf.Tensor2D;
    const same = tf.tensor2d([[1, 1], [1, 1], [1, 1]]);
    const uniform = await teacherStats(flat, same);
    expect(uniform.entropy).toBeCloseTo(Math.log(4), 5);
    expect(uniform.featureStd).toBeCloseTo(0, 6);
    tf.dispose([targets, features, flat, same]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names each collapse and passes a healthy run', () => {
    expect(collapseDiagnosis({ entropy: 2, marginalEntropy: 5, featureStd: 0.4 }, 256)).toBeNull();
    expect(collapseDiagnosis({ entropy: 2, marginalEntropy: 5, featureStd: 0.01 }, 256)).toMatch(/^features collapsed/);
    expect(collapseDiagnosis({ entropy: 0.01, marginalEntropy: 0.2, featureStd: 0.3 }, 256)).toMatch(/^prototypes collapsed/);
    expect(collapseDiagnosis({ entropy: 5.54, marginalEntropy: 5.545, featureStd: 0.3 }, 256)).toMatch(/^uniform teacher/);
    expect(collapseDiagnosis({ entropy: NaN, marginalEntropy: NaN, featureStd: NaN }, 256)).toMatch(/features collapsed.*prototypes collapsed.*uniform teacher/);
  });
});
