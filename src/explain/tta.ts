import * as tf from '@tensorflow/tfjs';
import { PassSum, type TtaPass } from './pass_sum';

export type { TtaPass } from './pass_sum';

/**
 * The 8 flip combinations of the volume axes `[D, H, W]` = `[0, 1, 2]`, in the authors'
 * `main_predict` order: none, then `(2,), (3,), (4,), (2,3), (2,4), (3,4), (2,3,4)` of `[B, C, D, H, W]`.
 */
export const FLIP_COMBINATIONS: readonly (readonly number[])[] = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];

/** Options of {@link testTimeAugmentation}. */
export interface TtaOptions {
  /** Flip combinations to average over (default all 8 of {@link FLIP_COMBINATIONS}). */
  flips?: readonly (readonly number[])[];
}

/**
 * Test-time augmentation as the authors' `main_predict`: runs `pass` on each flipped copy of the
 * volume, flips every returned map back, and averages probabilities and maps. `pass` owns nothing
 * it returns: this function disposes each pass's tensors after adding them up. The volume is not
 * disposed.
 *
 * @param volume `[D, H, W]`
 * @example
 * const avg = testTimeAugmentation(volume, (v) => {
 *   const r = explainPass(v);
 *   return { probabilities: r.probabilities, maps: { saliency: r.saliency, sliceAttention: r.sliceAttention } };
 * });
 */
export function testTimeAugmentation(volume: tf.Tensor, pass: (flipped: tf.Tensor) => TtaPass, options: TtaOptions = {}): TtaPass {
  const flips = checkFlips(volume, options);
  const sum = new PassSum('testTimeAugmentation');
  try {
    for (const axes of flips) sum.add(flipBack(axes, runFlipped(volume, axes, pass)));
    return sum.mean();
  } catch (err) {
    sum.dispose();
    throw err;
  }
}

/**
 * {@link testTimeAugmentation} for a pass that resolves asynchronously (methods that read
 * results between forward passes, such as Score-CAM and occlusion); the flips run one after
 * another.
 *
 * @example
 * const avg = await testTimeAugmentationAsync(volume, async (v) => await explainPass(v));
 */
export async function testTimeAugmentationAsync(volume: tf.Tensor, pass: (flipped: tf.Tensor) => Promise<TtaPass>, options: TtaOptions = {}): Promise<TtaPass> {
  const flips = checkFlips(volume, options);
  const sum = new PassSum('testTimeAugmentation');
  try {
    for (const axes of flips) {
      const input = axes.length ? tf.reverse(volume, [...axes]) : volume;
      let out: TtaPass;
      try {
        out = await pass(input);
      } finally {
        if (input !== volume) input.dispose();
      }
      sum.add(flipBack(axes, out));
    }
    return sum.mean();
  } catch (err) {
    sum.dispose();
    throw err;
  }
}

function checkFlips(volume: tf.Tensor, options: TtaOptions): readonly (readonly number[])[] {
  const flips = options.flips ?? FLIP_COMBINATIONS;
  if (volume.rank !== 3 && volume.rank !== 4) throw new Error(`testTimeAugmentation: expected a volume [D, H, W] or [D, H, W, C], got shape [${volume.shape.join(', ')}]`);
  if (flips.length === 0) throw new Error('testTimeAugmentation: expected at least one flip combination, got none');
  for (const f of flips) {
    if (f.some((a) => a !== 0 && a !== 1 && a !== 2)) throw new Error(`testTimeAugmentation: flip axes must be among 0, 1, 2 ([D, H, W]), got [${f.join(', ')}]`);
  }
  return flips;
}

function runFlipped(volume: tf.Tensor, axes: readonly number[], pass: (flipped: tf.Tensor) => TtaPass): TtaPass {
  const input = axes.length ? tf.reverse(volume, [...axes]) : volume;
  try {
    return pass(input);
  } finally {
    if (input !== volume) input.dispose();
  }
}

/** Flips every map of a pass back along the volume axes it has. */
function flipBack(axes: readonly number[], out: TtaPass): TtaPass {
  const maps = Object.fromEntries(
    Object.entries(out.maps).map(([k, m]) => {
      const mapAxes = axes.filter((a) => a < m.rank);
      if (!mapAxes.length) return [k, m];
      const r = tf.tidy(() => tf.reverse(m, mapAxes));
      m.dispose();
      return [k, r];
    }),
  );
  return { probabilities: out.probabilities, maps };
}
