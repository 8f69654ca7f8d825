import type { Rng } from '../../utils/rng';
import type { Transform } from '../transform';
import { channelCount, perChannel, voxelCount, type VolumeSample } from '../sample';

/**
 * The q-th percentile (q in [0, 100]) of `values` with linear interpolation between order
 * statistics, as NumPy's default `np.percentile`.
 *
 * @example
 * percentile(Float32Array.from([1, 2, 3, 4]), 50); // returns 2.5
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('percentile: expected at least one value, got none');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Clamps to `[low, high]` and maps that range linearly onto `[outLow, outHigh]`: the paper's CT
 * windowing (-1000..1000 HU to -1..1).
 *
 * @example
 * new ClampRescale(-1000, 1000).apply(sample, rng); // -1200 -> -1, 0 -> 0, 500 -> 0.5
 */
export class ClampRescale implements Transform {
  readonly name = 'clampRescale';
  constructor(
    readonly low: number,
    readonly high: number,
    readonly outLow = -1,
    readonly outHigh = 1,
  ) {
    if (!(high > low)) throw new Error(`ClampRescale: expected high > low, got low ${low}, high ${high}`);
  }

  apply(sample: VolumeSample, _rng?: Rng): VolumeSample {
    const { low, high, outLow, outHigh } = this;
    const scale = (outHigh - outLow) / (high - low);
    const out = new Float32Array(sample.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = Math.min(high, Math.max(low, sample.data[i]));
      out[i] = outLow + (v - low) * scale;
    }
    return { ...sample, data: out };
  }
}

/**
 * Clips to the `[pLow, pHigh]` percentiles of the volume, then subtracts the mean and divides by the
 * standard deviation of the clipped values (population std, plus `eps`): z-normalisation robust to
 * a few extreme voxels, as used for MRI. Each channel of a multi-channel sample is normalised by
 * its own statistics.
 *
 * @example
 * new ZNormalize({ percentiles: [0.5, 99.5] }).apply(sample, rng);
 */
export class ZNormalize implements Transform {
  readonly name = 'zNormalize';
  /** Percentiles that bound the clipping, in [0, 100]. */
  readonly percentiles: [number, number];
  /** Added to the standard deviation so a constant volume maps to zeros. */
  readonly eps: number;

  /** Compute the statistics only over voxels strictly between the volume's min and max (padding excluded), as the authors' pipeline. */
  readonly maskExtremes: boolean;

  constructor(options: { percentiles?: [number, number]; eps?: number; maskExtremes?: boolean } = {}) {
    this.percentiles = options.percentiles ?? [0.5, 99.5];
    this.eps = options.eps ?? 1e-6;
    this.maskExtremes = options.maskExtremes ?? false;
    const [a, b] = this.percentiles;
    if (!(a >= 0 && b <= 100 && a <= b)) throw new Error(`ZNormalize: expected 0 <= low <= high <= 100 percentiles, got [${a}, ${b}]`);
  }

  apply(sample: VolumeSample, _rng?: Rng): VolumeSample {
    if (channelCount(sample) > 1) return perChannel(sample, (one) => this.apply(one));
    const data = sample.data;
    let stats: ArrayLike<number> = data;
    if (this.maskExtremes) {
      let mn = Infinity;
      let mx = -Infinity;
      for (const v of data) {
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      const inner = data.filter((v) => v > mn && v < mx);
      // A volume with only two values has no inner voxels: fall back to all of them.
      if (inner.length > 0) stats = inner;
    }
    const lo = percentile(stats, this.percentiles[0]);
    const hi = percentile(stats, this.percentiles[1]);
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Math.min(hi, Math.max(lo, data[i]));
    let sum = 0;
    for (let i = 0; i < stats.length; i++) sum += Math.min(hi, Math.max(lo, stats[i]));
    const mean = sum / stats.length;
    let ss = 0;
    for (let i = 0; i < stats.length; i++) ss += (Math.min(hi, Math.max(lo, stats[i])) - mean) ** 2;
    const inv = 1 / (Math.sqrt(ss / stats.length) + this.eps);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] - mean) * inv;
    return { ...sample, data: out };
  }
}

/**
 * Adds Gaussian noise whose standard deviation is itself drawn from `U(0, maxStd)` per call
 * (default 0.1, for volumes already scaled to about unit range).
 *
 * @example
 * new RandomNoise(0.1).apply(sample, rng);
 */
export class RandomNoise implements Transform {
  readonly name = 'randomNoise';
  constructor(readonly maxStd = 0.1) {
    if (!(maxStd >= 0)) throw new Error(`RandomNoise: maxStd must be >= 0, got ${maxStd}`);
  }

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    const std = rng.uniformRange(0, this.maxStd);
    const out = new Float32Array(sample.data.length);
    for (let i = 0; i < out.length; i++) out[i] = sample.data[i] + std * rng.normal();
    return { ...sample, data: out };
  }
}

/**
 * With probability `p` (default 0.5) negates every voxel, `x -> -x`, as the authors' augmentation
 * (meant for zero-centred intensities: z-scores or [-1, 1]).
 *
 * @example
 * new RandomInvert(0.5).apply(sample, rng);
 */
export class RandomInvert implements Transform {
  readonly name = 'randomInvert';
  constructor(readonly p = 0.5) {}

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    if (!rng.bernoulli(this.p)) return sample;
    const out = new Float32Array(sample.data.length);
    // `0 - x` rather than `-x`, so zeros stay +0.
    for (let i = 0; i < out.length; i++) out[i] = 0 - sample.data[i];
    return { ...sample, data: out };
  }
}

/**
 * The subtraction image `post - pre` (first post-contrast minus pre-contrast, as the paper's breast
 * MRI input); the result keeps `post`'s id, label, spacing and mask.
 *
 * @example
 * const sub = subtraction(postSample, preSample);
 */
export function subtraction(post: VolumeSample, pre: VolumeSample): VolumeSample {
  if (channelCount(post) !== 1 || channelCount(pre) !== 1) throw new Error(`subtraction: expected one-channel samples, got '${post.id}' with ${channelCount(post)} and '${pre.id}' with ${channelCount(pre)} channels`);
  if (post.shape.some((n, a) => n !== pre.shape[a]) || voxelCount(post.shape) !== pre.data.length) {
    throw new Error(`subtraction: '${post.id}' has shape [${post.shape.join(', ')}] but '${pre.id}' has [${pre.shape.join(', ')}]; resample them to one grid first`);
  }
  const out = new Float32Array(post.data.length);
  for (let i = 0; i < out.length; i++) out[i] = post.data[i] - pre.data[i];
  return { ...post, data: out };
}
