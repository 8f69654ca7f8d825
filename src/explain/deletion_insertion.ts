import * as tf from '@tensorflow/tfjs';
import { trapezoidArea } from '../stats/auc';
import { resolveTargets } from './cam_utils';
import type { CpuVolume } from './localisation';

/** A score at each fraction of voxels removed (or revealed), with its area. */
export interface FaithfulnessCurve {
  /** Fractions of the voxels, 0 to 1. */
  fractions: number[];
  /** The target's probability at each fraction. */
  scores: number[];
  /** Trapezoidal area under `scores` over `fractions`. */
  auc: number;
}

/** Options of {@link deletionInsertion}. */
export interface DeletionInsertionOptions {
  /** Slabs: each step removes or reveals `1 / steps` of the voxels (default 16). */
  steps?: number;
  /** Value of a removed voxel, and of the canvas insertion starts from (default 0). */
  baseline?: number;
  /** Volumes per forward pass (default 4). */
  batchSize?: number;
  /** Class whose probability is followed (default: the predicted class). */
  targetClass?: number;
}

/** What {@link deletionInsertion} returns. */
export interface DeletionInsertion {
  targetClass: number;
  /** Most salient voxels removed first: a faithful map makes the probability fall fast (low area). */
  deletion: FaithfulnessCurve;
  /** Most salient voxels revealed first on the baseline: a faithful map makes it rise fast (high area). */
  insertion: FaithfulnessCurve;
  forwardPasses: number;
}

/**
 * Each voxel's position in the saliency order, most salient first (ties: lower index first).
 *
 * @example
 * saliencyRank([0.1, 0.9, 0.5]); // Int32Array [2, 0, 1]
 */
export function saliencyRank(values: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b] - values[a] || a - b);
  const rank = new Int32Array(values.length);
  order.forEach((v, i) => (rank[v] = i));
  return rank;
}

/** Reads a `[D, H, W]` map from a tensor or a CPU volume, checking its shape against the volume's. */
export async function mapValues(what: string, map: tf.Tensor | CpuVolume, shape: readonly number[]): Promise<ArrayLike<number>> {
  const s = map.shape;
  if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
    throw new Error(`${what}: the saliency must have the volume's shape [${shape.join(', ')}] (upsample it first), got [${s.join(', ')}]`);
  }
  return map instanceof tf.Tensor ? await map.data() : map.data;
}

/** The target's probability for each volume in `batches` of a masking rule, as numbers. */
export async function probabilitiesOf(classify: (v: tf.Tensor) => tf.Tensor, make: (ks: number[]) => tf.Tensor, count: number, batchSize: number, target: number): Promise<number[]> {
  const out: number[] = [];
  for (let k0 = 0; k0 < count; k0 += batchSize) {
    const ks = Array.from({ length: Math.min(batchSize, count - k0) }, (_, i) => k0 + i);
    const p = tf.tidy(() => tf.reshape(tf.slice(tf.softmax(classify(make(ks))), [0, target], [ks.length, 1]), [-1]));
    out.push(...(await p.data()));
    p.dispose();
  }
  return out;
}

/**
 * Deletion and insertion curves (Petsiuk et al., RISE 2018) in 3D: voxels are removed (set to
 * `baseline`) or revealed (on a `baseline` canvas) in saliency order, `1 / steps` of them at a
 * time, and the target's softmax probability is recorded at each step. `classify` maps volumes
 * `[n, D, H, W]` to scores `[n, classes]`; the saliency has the volume's shape. `2 steps + 3`
 * forward passes, batched. Nothing given is disposed.
 *
 * @param volume `[D, H, W]`
 * @param saliency `[D, H, W]` (e.g. `Explanation.saliencyUpsampled`)
 * @example
 * const r = await deletionInsertion((v) => mst.forward(v).logits, volume, e.saliencyUpsampled!);
 * r.deletion.auc; r.insertion.auc;
 */
export async function deletionInsertion(classify: (volumes: tf.Tensor) => tf.Tensor, volume: tf.Tensor, saliency: tf.Tensor | CpuVolume, options: DeletionInsertionOptions = {}): Promise<DeletionInsertion> {
  if (volume.rank !== 3) throw new Error(`deletionInsertion: expected a volume [D, H, W], got shape [${volume.shape.join(', ')}]`);
  const steps = options.steps ?? 16;
  const batchSize = options.batchSize ?? 4;
  const baseline = options.baseline ?? 0;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`deletionInsertion: steps must be a positive integer, got ${steps}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`deletionInsertion: batchSize must be a positive integer, got ${batchSize}`);
  const rank = saliencyRank(await mapValues('deletionInsertion', saliency, volume.shape));
  const n = rank.length;
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round((k * n) / steps));
  const t = tf.tidy(() => resolveTargets(options.targetClass, classify(tf.expandDims(volume, 0)) as tf.Tensor2D));
  const target = (await t.data())[0];
  t.dispose();
  const rankT = tf.tensor(Float32Array.from(rank), volume.shape);
  try {
    // Inputs k = 0..steps of deletion, then of insertion; k-th masks the first counts[k] voxels.
    const make = (ks: number[]) => {
      const thresholds = tf.tensor(ks.map((k) => counts[k % (steps + 1)]), [ks.length, 1, 1, 1]);
      const hidden = tf.less(rankT, thresholds); // [n, D, H, W]
      const canvas = tf.fill(hidden.shape, baseline);
      const vols = tf.broadcastTo(volume, hidden.shape);
      const deleting = tf.tensor(ks.map((k) => (k <= steps ? 1 : 0)), [ks.length, 1, 1, 1], 'bool');
      return tf.where(tf.logicalAnd(deleting, hidden), canvas, tf.where(tf.logicalOr(deleting, hidden), vols, canvas));
    };
    const p = await probabilitiesOf(classify, make, 2 * (steps + 1), batchSize, target);
    const fractions = counts.map((c) => c / n);
    const curve = (scores: number[]): FaithfulnessCurve => ({ fractions, scores, auc: trapezoidArea(fractions, scores) });
    return { targetClass: target, deletion: curve(p.slice(0, steps + 1)), insertion: curve(p.slice(steps + 1)), forwardPasses: 2 * (steps + 1) + 1 };
  } finally {
    rankT.dispose();
  }
}
