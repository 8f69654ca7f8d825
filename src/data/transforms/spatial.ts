import type { Rng } from '../../utils/rng';
import type { Transform } from '../transform';
import { channelCount, perChannel, type Shape3, type VolumeSample } from '../sample';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { floor, min, max, round, cos, sin } = Math;

function minimum(data: Float32Array): number {
  let m = Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] < m) m = data[i];
  return m;
}

/**
 * Trilinear resampling to a target voxel spacing (the mask, if any, by nearest neighbour). The new
 * size along an axis is `round(size * spacing / target)`; output voxel `i` samples input position
 * `i * target / spacing` (voxel 0 stays at the origin), replicating the last voxel past the edge.
 * `null` keeps an axis as it is.
 *
 * @example
 * new Resample([3, 0.7, 0.7]).apply(sample, rng); // the paper's breast MRI spacing, in mm
 */
export class Resample implements Transform {
  readonly name = 'resample';
  constructor(readonly target: readonly [number | null, number | null, number | null]) {
    for (const t of target) if (t !== null && !(t > 0)) throw new Error(`Resample: target spacing must be > 0 or null, got [${target.join(', ')}]`);
  }

  apply(sample: VolumeSample, _rng?: Rng): VolumeSample {
    if (channelCount(sample) > 1) return perChannel(sample, (one) => this.apply(one));
    const spacing = sample.spacing;
    const target = this.target.map((t, a) => t ?? spacing[a]) as Shape3;
    const shape = sample.shape.map((n, a) => max(1, round((n * spacing[a]) / target[a]))) as Shape3;
    const [D, H, W] = sample.shape;
    const [D2, H2, W2] = shape;
    // Per axis: the lower index and weight of each output position.
    const axis = (n: number, n2: number, ratio: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } => {
      const i0 = new Int32Array(n2);
      const i1 = new Int32Array(n2);
      const f = new Float32Array(n2);
      for (let i = 0; i < n2; i++) {
        const p = min(i * ratio, n - 1);
        i0[i] = floor(p);
        i1[i] = min(i0[i] + 1, n - 1);
        f[i] = p - i0[i];
      }
      return { i0, i1, f };
    };
    const ad = axis(D, D2, target[0] / spacing[0]);
    const ah = axis(H, H2, target[1] / spacing[1]);
    const aw = axis(W, W2, target[2] / spacing[2]);
    const src = sample.data;
    const out = new Float32Array(D2 * H2 * W2);
    const mask = sample.mask ? new Uint8Array(out.length) : undefined;
    let o = 0;
    for (let d = 0; d < D2; d++) {
      const fd = ad.f[d];
      for (let h = 0; h < H2; h++) {
        const fh = ah.f[h];
        const r00 = (ad.i0[d] * H + ah.i0[h]) * W;
        const r01 = (ad.i0[d] * H + ah.i1[h]) * W;
        const r10 = (ad.i1[d] * H + ah.i0[h]) * W;
        const r11 = (ad.i1[d] * H + ah.i1[h]) * W;
        for (let w = 0; w < W2; w++, o++) {
          const w0 = aw.i0[w];
          const w1 = aw.i1[w];
          const fw = aw.f[w];
          const c00 = src[r00 + w0] + (src[r00 + w1] - src[r00 + w0]) * fw;
          const c01 = src[r01 + w0] + (src[r01 + w1] - src[r01 + w0]) * fw;
          const c10 = src[r10 + w0] + (src[r10 + w1] - src[r10 + w0]) * fw;
          const c11 = src[r11 + w0] + (src[r11 + w1] - src[r11 + w0]) * fw;
          const c0 = c00 + (c01 - c00) * fh;
          const c1 = c10 + (c11 - c10) * fh;
          out[o] = c0 + (c1 - c0) * fd;
          if (mask) {
            const nd = fd < 0.5 ? ad.i0[d] : ad.i1[d];
            const nh = fh < 0.5 ? ah.i0[h] : ah.i1[h];
            const nw = fw < 0.5 ? w0 : w1;
            mask[o] = sample.mask![(nd * H + nh) * W + nw];
          }
        }
      }
    }
    return { ...sample, data: out, shape, spacing: target, mask };
  }
}

/** Where {@link CropOrPad} centres its window. */
export type CropCentre = 'centre' | 'mask' | 'random';

/**
 * Crops or pads to `size` `[D, H, W]`. The window is centred on the volume's centre, on the centre
 * of the mask's bounding box (`'mask'`, e.g. nodule-centred crops; falls back to the volume centre
 * when the mask is empty or absent), or at a uniformly random position (`'random'`; along an axis
 * the volume is smaller than the window, it is centred). Outside the input, voxels take `padValue`
 * (by default the volume's minimum, per channel) and the mask 0. Every channel gets the same window.
 *
 * @example
 * new CropOrPad([32, 224, 224], { centre: 'mask' }).apply(sample, rng);
 */
export class CropOrPad implements Transform {
  readonly name = 'cropOrPad';
  /** Window placement. */
  readonly centre: CropCentre;
  /** Fill value outside the input; `undefined` means the volume's minimum. */
  readonly padValue: number | undefined;

  constructor(
    readonly size: Shape3,
    options: { centre?: CropCentre; padValue?: number } = {},
  ) {
    if (!size.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`CropOrPad: size must be three positive integers, got [${size.join(', ')}]`);
    this.centre = options.centre ?? 'centre';
    this.padValue = options.padValue;
  }

  /** The window's first voxel along each axis (may be negative: padding). */
  start(sample: VolumeSample, rng: Rng): Shape3 {
    const s = sample.shape;
    let centre: number[] = s.map((n) => (n - 1) / 2);
    if (this.centre === 'mask' && sample.mask) {
      const lo = [Infinity, Infinity, Infinity];
      const hi = [-Infinity, -Infinity, -Infinity];
      const [, H, W] = s;
      sample.mask.forEach((m, k) => {
        if (!m) return;
        const idx = [floor(k / (H * W)), floor(k / W) % H, k % W];
        for (let a = 0; a < 3; a++) {
          lo[a] = min(lo[a], idx[a]);
          hi[a] = max(hi[a], idx[a]);
        }
      });
      if (lo[0] !== Infinity) centre = lo.map((l, a) => (l + hi[a]) / 2);
    }
    return s.map((n, a) => {
      const size = this.size[a];
      if (this.centre === 'random' && n > size) return rng.int(n - size + 1);
      // floor(c - (size - 1) / 2 + 0.5) rounds half up, so even sizes split consistently.
      return floor(centre[a] - (size - 1) / 2 + 0.5);
    }) as Shape3;
  }

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    const start = this.start(sample, rng);
    return perChannel(sample, (one) => this.cropAt(one, start));
  }

  /** The window from `start` of a one-channel sample. */
  private cropAt(sample: VolumeSample, [s0, s1, s2]: Shape3): VolumeSample {
    const [D, H, W] = sample.shape;
    const [D2, H2, W2] = this.size;
    const pad = this.padValue ?? minimum(sample.data);
    const out = new Float32Array(D2 * H2 * W2).fill(pad);
    const mask = sample.mask ? new Uint8Array(out.length) : undefined;
    for (let d = 0; d < D2; d++) {
      const sd = d + s0;
      if (sd < 0 || sd >= D) continue;
      for (let h = 0; h < H2; h++) {
        const sh = h + s1;
        if (sh < 0 || sh >= H) continue;
        const w0 = max(0, -s2);
        const w1 = min(W2, W - s2);
        if (w1 <= w0) continue;
        const from = (sd * H + sh) * W + s2;
        const to = (d * H2 + h) * W2;
        out.set(sample.data.subarray(from + w0, from + w1), to + w0);
        if (mask) mask.set(sample.mask!.subarray(from + w0, from + w1), to + w0);
      }
    }
    return { ...sample, data: out, shape: [D2, H2, W2], mask };
  }
}

/**
 * Trilinear resize to `[D, H, W]` voxels (the spacing grows accordingly; the mask by nearest
 * neighbour): a resampling to the spacing that gives the shape, then a centre crop or pad fixing
 * its rounding. No randomness is drawn.
 *
 * @example
 * new ResizeTo([32, 224, 224]).apply(sample, rng); // MRNet's 150 x 150 crops to the paper's size
 */
export class ResizeTo implements Transform {
  readonly name = 'resizeTo';
  constructor(readonly size: Shape3) {}

  /** The resampling and the crop that make the resize. */
  parts(sample: VolumeSample): [Resample, CropOrPad] {
    const target = sample.shape.map((n, a) => (n * sample.spacing[a]) / this.size[a]) as [number, number, number];
    return [new Resample(target), new CropOrPad(this.size)];
  }

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    if (sample.shape.every((n, a) => n === this.size[a])) return sample;
    const [resample, crop] = this.parts(sample);
    return crop.apply(resample.apply(sample, rng), rng);
  }
}

/** Mirrors the volume (every channel, and the mask) along `axes` (any of 0 = D, 1 = H, 2 = W). */
export function flip(sample: VolumeSample, axes: readonly number[]): VolumeSample {
  if (channelCount(sample) > 1) return perChannel(sample, (one) => flip(one, axes));
  const [D, H, W] = sample.shape;
  const fd = axes.includes(0);
  const fh = axes.includes(1);
  const fw = axes.includes(2);
  const out = new Float32Array(sample.data.length);
  const mask = sample.mask ? new Uint8Array(out.length) : undefined;
  let o = 0;
  for (let d = 0; d < D; d++) {
    const sd = fd ? D - 1 - d : d;
    for (let h = 0; h < H; h++) {
      const row = (sd * H + (fh ? H - 1 - h : h)) * W;
      for (let w = 0; w < W; w++, o++) {
        const k = row + (fw ? W - 1 - w : w);
        out[o] = sample.data[k];
        if (mask) mask[o] = sample.mask![k];
      }
    }
  }
  return { ...sample, data: out, mask };
}

/**
 * Flips each axis independently with its probability `[pD, pH, pW]`.
 *
 * @example
 * new RandomFlip([0.5, 0.5, 0.5]).apply(sample, rng);
 */
export class RandomFlip implements Transform {
  readonly name = 'randomFlip';
  constructor(readonly probabilities: readonly [number, number, number] = [0.5, 0.5, 0.5]) {}

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    const axes = [0, 1, 2].filter((a) => rng.bernoulli(this.probabilities[a]));
    return axes.length === 0 ? sample : flip(sample, axes);
  }
}

/**
 * Rotates every slice (the `[H, W]` plane, i.e. about the slice axis) by `degrees`
 * counter-clockwise as displayed (rows down, columns right) about the slice centre: bilinear for
 * voxels, nearest for the mask; voxels from outside take `padValue` (by default the minimum).
 */
export function rotateSlices(sample: VolumeSample, degrees: number, padValue?: number): VolumeSample {
  if (channelCount(sample) > 1) return perChannel(sample, (one) => rotateSlices(one, degrees, padValue));
  const [D, H, W] = sample.shape;
  const pad = padValue ?? minimum(sample.data);
  const a = (degrees * Math.PI) / 180;
  const c = cos(a);
  const s = sin(a);
  const ch = (H - 1) / 2;
  const cw = (W - 1) / 2;
  const out = new Float32Array(sample.data.length);
  const mask = sample.mask ? new Uint8Array(out.length) : undefined;
  const src = sample.data;
  let o = 0;
  for (let d = 0; d < D; d++) {
    const base = d * H * W;
    for (let h = 0; h < H; h++) {
      const y = h - ch;
      for (let w = 0; w < W; w++, o++) {
        const x = w - cw;
        // Inverse map: the source of output (y, x) is the point rotated back by -a.
        const sx = c * x - s * y + cw;
        const sy = s * x + c * y + ch;
        const x0 = floor(sx);
        const y0 = floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        // The four neighbours, each taking `pad` outside the slice.
        const inY0 = y0 >= 0 && y0 < H;
        const inY1 = y0 + 1 >= 0 && y0 + 1 < H;
        const inX0 = x0 >= 0 && x0 < W;
        const inX1 = x0 + 1 >= 0 && x0 + 1 < W;
        const r0 = base + y0 * W;
        const v00 = inY0 && inX0 ? src[r0 + x0] : pad;
        const v01 = inY0 && inX1 ? src[r0 + x0 + 1] : pad;
        const v10 = inY1 && inX0 ? src[r0 + W + x0] : pad;
        const v11 = inY1 && inX1 ? src[r0 + W + x0 + 1] : pad;
        const top = v00 + (v01 - v00) * fx;
        const bottom = v10 + (v11 - v10) * fx;
        out[o] = top + (bottom - top) * fy;
        if (mask) {
          const ny = round(sy);
          const nx = round(sx);
          mask[o] = ny >= 0 && ny < H && nx >= 0 && nx < W ? sample.mask![base + ny * W + nx] : 0;
        }
      }
    }
  }
  return { ...sample, data: out, mask };
}

/**
 * Rotates about the slice axis by an angle drawn uniformly from `[minDegrees, maxDegrees]`
 * (default 0-90, as the authors' augmentation), padding with the volume's minimum (per channel).
 *
 * @example
 * new RandomRotation().apply(sample, rng);
 */
export class RandomRotation implements Transform {
  readonly name = 'randomRotation';
  constructor(
    readonly minDegrees = 0,
    readonly maxDegrees = 90,
  ) {
    if (!(maxDegrees >= minDegrees)) throw new Error(`RandomRotation: expected minDegrees <= maxDegrees, got ${minDegrees} and ${maxDegrees}`);
  }

  apply(sample: VolumeSample, rng: Rng): VolumeSample {
    return rotateSlices(sample, rng.uniformRange(this.minDegrees, this.maxDegrees));
  }
}
