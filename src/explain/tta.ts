import * as tf from '@tensorflow/tfjs';

/**
 * The 8 flip combinations of the volume axes `[D, H, W]` = `[0, 1, 2]`, in the authors'
 * `main_predict` order: none, then `(2,), (3,), (4,), (2,3), (2,4), (3,4), (2,3,4)` of `[B, C, D, H, W]`.
 */
export const FLIP_COMBINATIONS: readonly (readonly number[])[] = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];

/** What one pass of {@link testTimeAugmentation}'s model function returns. */
export interface TtaPass {
  /** Class probabilities (softmax), `[classes]` or `[B, classes]`. */
  probabilities: tf.Tensor;
  /**
   * Maps whose leading axes follow the volume's `[D, H, W]` (at any resolution): `[D]` for slice
   * attention, `[D, h, w]` for spatial maps. Each is flipped back before averaging.
   */
  maps: Record<string, tf.Tensor>;
}

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
  const flips = options.flips ?? FLIP_COMBINATIONS;
  if (volume.rank !== 3) throw new Error(`testTimeAugmentation: expected a volume [D, H, W], got shape [${volume.shape.join(', ')}]`);
  if (flips.length === 0) throw new Error('testTimeAugmentation: expected at least one flip combination, got none');
  for (const f of flips) {
    if (f.some((a) => a !== 0 && a !== 1 && a !== 2)) throw new Error(`testTimeAugmentation: flip axes must be among 0, 1, 2 ([D, H, W]), got [${f.join(', ')}]`);
  }
  let sumProb: tf.Tensor | null = null;
  let sumMaps: Record<string, tf.Tensor> | null = null;
  for (const axes of flips) {
    const input = axes.length ? tf.reverse(volume, [...axes]) : volume;
    let out: TtaPass;
    try {
      out = pass(input);
    } finally {
      if (input !== volume) input.dispose();
    }
    const back = Object.fromEntries(
      Object.entries(out.maps).map(([k, m]) => {
        const mapAxes = axes.filter((a) => a < m.rank);
        return [k, mapAxes.length ? tf.tidy(() => tf.reverse(m, mapAxes)) : m];
      }),
    );
    for (const [k, m] of Object.entries(out.maps)) if (back[k] !== m) m.dispose();
    const prevProb: tf.Tensor | null = sumProb;
    const prevMaps: Record<string, tf.Tensor> | null = sumMaps;
    if (prevProb === null || prevMaps === null) {
      sumProb = out.probabilities;
      sumMaps = back;
      continue;
    }
    sumProb = tf.add(prevProb, out.probabilities);
    prevProb.dispose();
    out.probabilities.dispose();
    const next: Record<string, tf.Tensor> = {};
    for (const [k, m] of Object.entries(back)) {
      if (!(k in prevMaps)) throw new Error(`testTimeAugmentation: pass returned map '${k}' that the first pass did not`);
      next[k] = tf.add(prevMaps[k], m);
      prevMaps[k].dispose();
      m.dispose();
    }
    sumMaps = next;
  }
  const n = flips.length;
  const probabilities = tf.div(sumProb as tf.Tensor, n);
  (sumProb as tf.Tensor).dispose();
  const maps = Object.fromEntries(
    Object.entries(sumMaps as Record<string, tf.Tensor>).map(([k, m]) => {
      const avg = tf.div(m, n);
      m.dispose();
      return [k, avg];
    }),
  );
  return { probabilities, maps };
}
