import * as tf from '@tensorflow/tfjs';

/** A volume on the CPU: values in C order over `[D, H, W]`. */
export interface CpuVolume {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Everything {@link localisationMetrics} measures against one lesion mask. */
export interface LocalisationMetrics {
  /** One of the `topK` most attended slices holds lesion (Table 1's slice correctness). */
  sliceCorrect: boolean;
  /** The map's peak voxel lies inside the lesion (pointing game). */
  lesionCorrect: boolean;
  /** Foreground Dice of `map > quantile(map, q)` against the mask; NaN for an empty mask. */
  dice: number;
  /** Foreground IoU, likewise. */
  iou: number;
  /** Dice averaged over background and foreground, the authors' `Dice` column. */
  diceMean: number;
  /** IoU averaged over background and foreground, the authors' `IOU` column. */
  iouMean: number;
  /** The threshold used (`np.quantile(map, q)`). */
  threshold: number;
  /** Index `[d, h, w]` of the map's peak voxel. */
  peak: [number, number, number];
  /** Slices ranked first by attention, most attended first (`topK` of them). */
  topSlices: number[];
}

/** Options of {@link localisationMetrics}. */
export interface LocalisationOptions {
  /** Slices counted by slice correctness (default 1: the most attended slice). */
  topK?: number;
  /** Quantile of the map used as segmentation threshold (default 0.999, as `--get_segmentation`). */
  quantile?: number;
}

function checkSameShape(what: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new Error(`${what}: the mask must have the map's shape [${a.join(', ')}], got [${b.join(', ')}]`);
  }
}

function checkVolume(what: string, v: CpuVolume): void {
  const n = v.shape.reduce((p, d) => p * d, 1);
  if (v.shape.length !== 3) throw new Error(`${what}: expected a volume [D, H, W], got shape [${v.shape.join(', ')}]`);
  if (v.data.length !== n) throw new Error(`${what}: shape [${v.shape.join(', ')}] needs ${n} values, got ${v.data.length}`);
}

/**
 * The q-quantile with linear interpolation between order statistics, numpy's default
 * (`np.quantile(x, q)`): position `q * (n - 1)` in the sorted values.
 *
 * @example
 * linearQuantile([1, 2, 3, 4], 0.5); // 2.5
 */
export function linearQuantile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`linearQuantile: q must lie in [0, 1], got ${q}`);
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Indices of the k largest values, largest first (ties: lower index first).
 *
 * @example
 * topKIndices([0.1, 0.5, 0.2], 2); // [1, 2]
 */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  if (!Number.isInteger(k) || k < 1 || k > values.length) throw new Error(`topKIndices: k must be an integer in [1, ${values.length}], got ${k}`);
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, k);
}

/**
 * Slice correctness: whether one of the `k` most attended slices contains lesion.
 *
 * @example
 * sliceCorrectness([0.2, 0.7, 0.1], { data: mask, shape: [3, 64, 64] }, 1);
 */
export function sliceCorrectness(sliceAttention: ArrayLike<number>, mask: CpuVolume, k = 1): boolean {
  checkVolume('sliceCorrectness', mask);
  const [d, h, w] = mask.shape;
  if (sliceAttention.length !== d) throw new Error(`sliceCorrectness: slice attention has ${sliceAttention.length} slices, the mask ${d}`);
  const plane = h * w;
  return topKIndices(sliceAttention, k).some((s) => {
    for (let i = s * plane; i < (s + 1) * plane; i++) if (mask.data[i] > 0) return true;
    return false;
  });
}

/** Index `[d, h, w]` of a volume's largest value (the first one on ties). */
export function peakVoxel(map: CpuVolume): [number, number, number] {
  checkVolume('peakVoxel', map);
  let best = 0;
  for (let i = 1; i < map.data.length; i++) if (map.data[i] > map.data[best]) best = i;
  const [, h, w] = map.shape;
  return [Math.floor(best / (h * w)), Math.floor(best / w) % h, best % w];
}

/**
 * The pointing game (Zhang et al. 2016): whether the map's peak voxel lies within `tolerance`
 * voxels (Euclidean, in voxel units) of the lesion. With the default 0 it is lesion correctness:
 * the peak inside the lesion. Zhang et al. allow 15 pixels.
 *
 * @example
 * pointingGame({ data: saliency, shape: [32, 224, 224] }, { data: mask, shape: [32, 224, 224] });
 * pointingGame(map, mask, 15); // a hit within 15 voxels
 */
export function pointingGame(map: CpuVolume, mask: CpuVolume, tolerance = 0): boolean {
  checkVolume('pointingGame', mask);
  checkSameShape('pointingGame', map.shape, mask.shape);
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new Error(`pointingGame: tolerance must be a non-negative number of voxels, got ${tolerance}`);
  const [d, h, w] = peakVoxel(map);
  const [D, H, W] = mask.shape;
  const r = Math.floor(tolerance);
  for (let z = Math.max(0, d - r); z <= Math.min(D - 1, d + r); z++) {
    for (let y = Math.max(0, h - r); y <= Math.min(H - 1, h + r); y++) {
      for (let x = Math.max(0, w - r); x <= Math.min(W - 1, w + r); x++) {
        if ((z - d) ** 2 + (y - h) ** 2 + (x - w) ** 2 <= tolerance * tolerance && mask.data[(z * H + y) * W + x] > 0) return true;
      }
    }
  }
  return false;
}

/**
 * Dice and IoU of the map thresholded strictly above its q-quantile, as the authors'
 * `--get_segmentation` (`weight > np.quantile(weight, 0.999)`, MONAI's `compute_dice`/`compute_iou`
 * with background included). A class absent from the mask gives NaN, as MONAI's `ignore_empty`.
 *
 * @example
 * thresholdSegmentation(map, mask).dice;
 */
export function thresholdSegmentation(map: CpuVolume, mask: CpuVolume, q = 0.999): Pick<LocalisationMetrics, 'dice' | 'iou' | 'diceMean' | 'iouMean' | 'threshold'> {
  checkVolume('thresholdSegmentation', map);
  checkVolume('thresholdSegmentation', mask);
  checkSameShape('thresholdSegmentation', map.shape, mask.shape);
  const threshold = linearQuantile(map.data, q);
  // Counts per class c in {0, 1}: predicted, true and both.
  const pred = [0, 0];
  const gt = [0, 0];
  const both = [0, 0];
  for (let i = 0; i < map.data.length; i++) {
    const p = map.data[i] > threshold ? 1 : 0;
    const g = mask.data[i] > 0 ? 1 : 0;
    pred[p]++;
    gt[g]++;
    if (p === g) both[p]++;
  }
  const dice = [0, 1].map((c) => (gt[c] === 0 ? NaN : (2 * both[c]) / (pred[c] + gt[c])));
  const iou = [0, 1].map((c) => (gt[c] === 0 ? NaN : both[c] / (pred[c] + gt[c] - both[c])));
  return { dice: dice[1], iou: iou[1], diceMean: (dice[0] + dice[1]) / 2, iouMean: (iou[0] + iou[1]) / 2, threshold };
}

async function toVolume(what: string, v: tf.Tensor | CpuVolume): Promise<CpuVolume> {
  if (v instanceof tf.Tensor) {
    if (v.rank !== 3) throw new Error(`${what}: expected a volume [D, H, W], got shape [${v.shape.join(', ')}]`);
    return { data: await v.data(), shape: v.shape };
  }
  return v;
}

/** The map's sum per slice, the slice ranking of models without slice attention (3D ResNet). */
function sliceSums(map: CpuVolume): Float64Array {
  const [d, h, w] = map.shape;
  const out = new Float64Array(d);
  for (let i = 0; i < d * h * w; i++) out[Math.floor(i / (h * w))] += map.data[i];
  return out;
}

/**
 * Every localisation metric of Table 1 for one map against one lesion mask: slice correctness
 * (from the slice attention), lesion correctness (pointing game), Dice and IoU at the 99.9th
 * percentile. Without slice attention (`null`, a 3D ResNet), slices are ranked by the map's sum
 * per slice. The inputs are not disposed.
 *
 * @example
 * const m = await localisationMetrics(result.saliencyUpsampled, result.sliceAttention, mask);
 * m.sliceCorrect; m.lesionCorrect; m.dice;
 */
export async function localisationMetrics(
  map: tf.Tensor | CpuVolume,
  sliceAttention: tf.Tensor | ArrayLike<number> | null,
  mask: tf.Tensor | CpuVolume,
  options: LocalisationOptions = {},
): Promise<LocalisationMetrics> {
  const { topK = 1, quantile: q = 0.999 } = options;
  const m = await toVolume('localisationMetrics (map)', map);
  const g = await toVolume('localisationMetrics (mask)', mask);
  checkSameShape('localisationMetrics', m.shape, g.shape);
  const s = sliceAttention === null ? sliceSums(m) : sliceAttention instanceof tf.Tensor ? await sliceAttention.data() : sliceAttention;
  return {
    sliceCorrect: sliceCorrectness(s, g, topK),
    lesionCorrect: pointingGame(m, g),
    ...thresholdSegmentation(m, g, q),
    peak: peakVoxel(m),
    topSlices: topKIndices(s, topK),
  };
}
