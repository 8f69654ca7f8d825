import { Rng } from '../utils/rng';
import { hashSeed } from './hash_seed';

/**
 * Per-sample weights `0.5 / count(label)`, as the authors' datamodule: for two classes each class
 * gets half of the total probability mass, whatever the imbalance.
 *
 * @example
 * classBalancedWeights([0, 0, 0, 1]); // returns [1/6, 1/6, 1/6, 1/2]
 */
export function classBalancedWeights(labels: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return labels.map((l) => 0.5 / counts.get(l)!);
}

/**
 * Draws a fixed number of indices per epoch with replacement, with probability proportional to
 * `weights` (by default {@link classBalancedWeights}), like PyTorch's `WeightedRandomSampler`.
 * Epoch `e` always yields the same list for a given seed, so a resumed run replays its epochs.
 *
 * @example
 * const sampler = new WeightedSampler(train.labels, { samplesPerEpoch: 128, seed: 0 });
 * const order = sampler.epoch(0); // 128 indices into train, classes about equally often
 */
export class WeightedSampler {
  /** Indices per epoch. */
  readonly samplesPerEpoch: number;
  private readonly cumulative: Float64Array;
  private readonly seed: number;

  constructor(labels: readonly number[], options: { samplesPerEpoch?: number; seed: number; weights?: readonly number[] }) {
    if (labels.length === 0) throw new Error('WeightedSampler: expected at least one label, got none');
    const weights = options.weights ?? classBalancedWeights(labels);
    if (weights.length !== labels.length) {
      throw new Error(`WeightedSampler: expected ${labels.length} weights (one per label), got ${weights.length}`);
    }
    this.samplesPerEpoch = options.samplesPerEpoch ?? labels.length;
    if (!Number.isInteger(this.samplesPerEpoch) || this.samplesPerEpoch < 1) {
      throw new Error(`WeightedSampler: samplesPerEpoch must be a positive integer, got ${this.samplesPerEpoch}`);
    }
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`WeightedSampler: weight ${i} must be finite and >= 0, got ${w}`);
      sum += w;
      this.cumulative[i] = sum;
    });
    if (!(sum > 0)) throw new Error('WeightedSampler: weights sum to 0');
    this.seed = options.seed;
  }

  /** The indices of epoch `epoch` (a non-negative integer). */
  epoch(epoch: number): number[] {
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`WeightedSampler.epoch: expected a non-negative integer, got ${epoch}`);
    const rng = new Rng(hashSeed('sampler', this.seed, epoch));
    const total = this.cumulative[this.cumulative.length - 1];
    const out: number[] = [];
    for (let k = 0; k < this.samplesPerEpoch; k++) {
      const u = rng.uniform() * total;
      // Binary search for the first cumulative weight above u.
      let lo = 0;
      let hi = this.cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out.push(lo);
    }
    return out;
  }
}
