import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';
import { PassSum } from './pass_sum';
import type { TtaPass } from './tta';

/** Options of {@link smoothExplanation}. */
export interface SmoothOptions {
  /** Noisy copies averaged (default 8). */
  samples?: number;
  /**
   * Standard deviation of the Gaussian noise as a fraction of the volume's value range
   * `max - min` (default 0.1; SmoothGrad's authors found 0.1-0.2 best).
   */
  noise?: number;
  /** Seed of the noise (default 0): equal seeds give equal maps on every backend. */
  seed?: number;
}

/**
 * SmoothGrad-style noise averaging (Smilkov et al. 2017) around any explanation: `pass` runs on
 * `samples` copies of the volume with Gaussian noise added, and the probabilities and every map
 * are averaged. The noise is drawn on the CPU from a seeded generator, so results are
 * deterministic. `pass` owns nothing it returns (as with `testTimeAugmentation`, which composes
 * with it: smooth inside, flips outside). The volume is not disposed.
 *
 * @param volume `[D, H, W]` (any rank works: the noise has the volume's shape)
 * @example
 * const avg = await smoothExplanation(volume, (v) => explainPass(v), { samples: 16, noise: 0.15, seed: 1 });
 */
export async function smoothExplanation(volume: tf.Tensor, pass: (noisy: tf.Tensor) => TtaPass | Promise<TtaPass>, options: SmoothOptions = {}): Promise<TtaPass> {
  const samples = options.samples ?? 8;
  const noise = options.noise ?? 0.1;
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`smoothExplanation: samples must be a positive integer, got ${samples}`);
  if (!(noise >= 0 && Number.isFinite(noise))) throw new Error(`smoothExplanation: noise must be a non-negative fraction of the value range, got ${noise}`);
  const rng = new Rng(options.seed ?? 0);
  const sigma = tf.tidy(() => tf.mul(tf.sub(tf.max(volume), tf.min(volume)), noise));
  const sum = new PassSum('smoothExplanation');
  try {
    for (let i = 0; i < samples; i++) {
      const draw = new Float32Array(volume.size);
      for (let k = 0; k < draw.length; k++) draw[k] = rng.normal();
      const noisy = tf.tidy(() => tf.add(volume, tf.mul(tf.tensor(draw, volume.shape), sigma)));
      try {
        sum.add(await pass(noisy));
      } finally {
        noisy.dispose();
      }
    }
    return sum.mean();
  } catch (err) {
    sum.dispose();
    throw err;
  } finally {
    sigma.dispose();
  }
}
