import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../utils/rng';

/** Options of {@link randomPatchMasks}; the defaults are DINOv2's. */
export interface PatchMaskOptions {
  /** Share of images that get a mask (DINOv2's `mask_sample_probability`, 0.5). */
  probability?: number;
  /** Range of the masked share of patches (DINOv2's `mask_ratio_min_max`, [0.1, 0.5]). */
  ratio?: [number, number];
}

/**
 * iBOT's masks for `n` images of `patches` patches, `[n * patches]` of 0 and 1, as DINOv2's
 * collate: `floor(n * probability)` images get a mask, their ratios spread over `ratio` in equal
 * bins (image i draws from the i-th bin), the others none, and the images are shuffled. The masked
 * patches of an image are a uniformly random subset (iBOT's random masking: the patch grids of
 * small slices are too small for DINOv2's block masks).
 *
 * @example
 * const m = randomPatchMasks(8, 64, new Rng(0)); // 4 images with 10-50% of their patches masked
 */
export function randomPatchMasks(n: number, patches: number, rng: Rng, options: PatchMaskOptions = {}): Uint8Array {
  const p = options.probability ?? 0.5;
  const [lo, hi] = options.ratio ?? [0.1, 0.5];
  if (!(p >= 0 && p <= 1 && lo >= 0 && lo <= hi && hi <= 1)) throw new Error(`randomPatchMasks: expected probability in [0, 1] and 0 <= ratio[0] <= ratio[1] <= 1, got ${p} and [${lo}, ${hi}]`);
  const masked = Math.floor(n * p);
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i >= masked) {
      counts.push(0);
      continue;
    }
    const a = lo + ((hi - lo) * i) / masked;
    const b = lo + ((hi - lo) * (i + 1)) / masked;
    counts.push(Math.floor(patches * rng.uniformRange(a, b)));
  }
  const order = rng.shuffle([...Array(n).keys()]);
  const out = new Uint8Array(n * patches);
  order.forEach((img, i) => {
    const chosen = rng.shuffle([...Array(patches).keys()]).slice(0, counts[i]);
    for (const k of chosen) out[img * patches + k] = 1;
  });
  return out;
}

/**
 * iBOT's masked-patch loss as DINOv2's `iBOTPatchLoss.forward_masked`: the cross-entropy between
 * the teacher's centred, sharpened patch targets and the student's patch outputs at the masked
 * positions, each image's patches weighted by one over its masked count, summed and divided by
 * the number of images (masked or not).
 *
 * @param studentOut `[M, K]` head outputs of the student at the M masked patches.
 * @param targets `[M, K]` the teacher's probabilities at the same patches (unmasked input).
 * @param weights `[M]` one over the masked count of each patch's image.
 * @param images the number of images the masks were drawn for.
 * @example
 * const loss = ibotPatchLoss(s, teacherTargets(t, patchCenter, 0.04), w, 8);
 */
export function ibotPatchLoss(studentOut: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor1D, images: number, studentTemp = 0.1): tf.Scalar {
  if (!tf.util.arraysEqual(studentOut.shape, targets.shape) || weights.shape[0] !== studentOut.shape[0]) {
    throw new Error(`ibotPatchLoss: expected student and teacher [M, K] and weights [M], got [${studentOut.shape.join(', ')}], [${targets.shape.join(', ')}] and [${weights.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const ce = tf.sum(tf.mul(targets, tf.logSoftmax(tf.div(studentOut, studentTemp))), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(ce, weights))), images) as tf.Scalar;
  });
}

/** Indices of the masked patches in `[n * patches]` order and the weight of each (1 / its image's count). */
export function maskedPatchIndex(masks: Uint8Array, patches: number): { indices: Int32Array; weights: Float32Array } {
  const idx: number[] = [];
  const w: number[] = [];
  for (let img = 0; img * patches < masks.length; img++) {
    let count = 0;
    for (let k = 0; k < patches; k++) count += masks[img * patches + k];
    for (let k = 0; k < patches; k++) {
      if (masks[img * patches + k]) {
        idx.push(img * patches + k);
        w.push(1 / Math.max(count, 1));
      }
    }
  }
  return { indices: Int32Array.from(idx), weights: Float32Array.from(w) };
}
