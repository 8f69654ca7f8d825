import * as tf from '@tensorflow/tfjs';
import { smoothExplanation } from './smooth';

describe('smoothExplanation', () => {
  it('averages probabilities and maps over seeded noisy copies, without leaking', async () => {
    const volume = tf.tensor3d([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2]);
    // The "map" is the noisy input itself and the "probability" its mean: their averages are
    // the volume plus the mean noise, which shrinks like 1 / sqrt(samples).
    const pass = (v: tf.Tensor) => tf.tidy(() => ({ probabilities: tf.reshape(tf.mean(v), [1]), maps: { saliency: tf.clone(v) } }));
    const before = tf.memory().numTensors;
    const a = await smoothExplanation(volume, pass, { samples: 64, noise: 0.1, seed: 3 });
    const b = await smoothExplanation(volume, pass, { samples: 64, noise: 0.1, seed: 3 });
    const c = await smoothExplanation(volume, pass, { samples: 64, noise: 0.1, seed: 4 });
    expect(Array.from(a.maps.saliency.dataSync())).toEqual(Array.from(b.maps.saliency.dataSync()));
    expect(Array.from(a.maps.saliency.dataSync())).not.toEqual(Array.from(c.maps.saliency.dataSync()));
    // sigma = 0.1 * 7 = 0.7; the mean of 64 draws has sd 0.0875: within 4 sd of the volume.
    a.maps.saliency.dataSync().forEach((x, i) => expect(Math.abs(x - i)).toBeLessThan(0.35));
    expect(Math.abs(a.probabilities.dataSync()[0] - 3.5)).toBeLessThan(0.1);
    const zero = await smoothExplanation(volume, pass, { samples: 2, noise: 0 });
    expect(Array.from(zero.maps.saliency.dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of [a, b, c, zero]) tf.dispose([r.probabilities, ...Object.values(r.maps)]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(smoothExplanation(volume, pass, { samples: 0 })).rejects.toThrow(/samples must be a positive integer, got 0/);
    volume.dispose();
  });
});
