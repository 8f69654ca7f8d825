import type { Rng } from '../utils/rng';

/** One 2D slice, row-major `[h, w]`, already normalised as the encoder expects (z-scores). */
export interface Slice2D {
  data: Float32Array;
  h: number;
  w: number;
}

/** Options of {@link multiCrop}. */
export interface MultiCropOptions {
  /**
   * Side of the two global crops in pixels (DINO: 224). Default: the batch's slice side, so the
   * views keep the slices' own scale (a lesion's size in pixels is a finding in CT and MRI).
   */
  globalSize?: number;
  /** Side of the local crops (DINO: 96). Default: half the global side. */
  localSize?: number;
  /** Local crops per image (DINO: 8; 0 disables multi-crop). */
  localCrops: number;
  /** Area fraction of a global crop (default [0.6, 1]; DINO: [0.4, 1]). */
  globalScale?: [number, number];
  /** Area fraction of a local crop (default [0.15, 0.4]; DINO: [0.05, 0.4]). */
  localScale?: [number, number];
  /** Round the default sizes down to a multiple of this (the encoder's patch side; default 1). */
  multipleOf?: number;
  /**
   * Largest intensity jitter, applied with probability 0.8: contrast x(1 +- j), brightness +-j in
   * z-score units (default 0.2; 0 keeps the intensities, as for calibrated CT).
   */
  jitter?: number;
}

/** The global and local crop sides for slices of side `h x w` under `options`. */
export function cropSizes(h: number, w: number, options: MultiCropOptions): { global: number; local: number } {
  const m = options.multipleOf ?? 1;
  const global = options.globalSize ?? Math.floor(Math.min(h, w) / m) * m;
  const local = options.localSize ?? Math.max(m, Math.floor(global / 2 / m) * m);
  return { global, local };
}

/** A batch of views: crop-major, so rows `[c * B, (c + 1) * B)` are crop `c` of every image. */
export interface CropBatch {
  /** `[2 * B, globalSize, globalSize]`: global crop 1 of every image, then global crop 2. */
  global: Float32Array;
  /** `[localCrops * B, localSize, localSize]`. */
  local: Float32Array;
  images: number;
  /** The sides of the global and local crops. */
  globalSize: number;
  localSize: number;
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 draws of an area fraction in `scale`
 * and a log-uniform aspect ratio in [3/4, 4/3] that fit the image, else a centre crop clamped to
 * the ratio range. Returns `[top, left, height, width]`.
 */
export function randomResizedCropBox(h: number, w: number, scale: [number, number], rng: Rng): [number, number, number, number] {
  const area = h * w;
  const logLo = Math.log(3 / 4);
  const logHi = Math.log(4 / 3);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniformRange(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniformRange(logLo, logHi));
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) return [rng.int(h - ch + 1), rng.int(w - cw + 1), ch, cw];
  }
  let cw = w;
  let ch = h;
  if (w / h < 3 / 4) ch = Math.round(w / (3 / 4));
  else if (w / h > 4 / 3) cw = Math.round(h * (4 / 3));
  return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
}

/**
 * Bilinear resize of the box `[top, left, bh, bw]` of `src` to `size x size` (align_corners
 * false, edge samples clamped), written at `out[offset ...]`.
 */
export function resizeBox(src: Slice2D, box: [number, number, number, number], size: number, out: Float32Array, offset: number): void {
  const [top, left, bh, bw] = box;
  const sy = bh / size;
  const sx = bw / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), bh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, bh - 1);
    const ty = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), bw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, bw - 1);
      const tx = fx - x0;
      const r0 = (top + y0) * src.w + left;
      const r1 = (top + y1) * src.w + left;
      const a = src.data[r0 + x0] * (1 - tx) + src.data[r0 + x1] * tx;
      const b = src.data[r1 + x0] * (1 - tx) + src.data[r1 + x1] * tx;
      out[offset + y * size + x] = a * (1 - ty) + b * ty;
    }
  }
}

/** In-place Gaussian blur of a `size x size` image at `offset` (separable, reflected edges). */
export function gaussianBlur(img: Float32Array, offset: number, size: number, sigma: number): void {
  const r = Math.max(1, Math.ceil(2 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const reflect = (i: number): number => {
    let j = i;
    while (j < 0 || j >= size) j = j < 0 ? -j : 2 * size - 2 - j;
    return size === 1 ? 0 : j;
  };
  const tmp = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * img[offset + y * size + reflect(x + i)];
      tmp[y * size + x] = s;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[reflect(y + i) * size + x];
      img[offset + y * size + x] = s;
    }
  }
}

/** Which intensity augmentations a view gets, as DINO's per-view probabilities. */
interface ViewAugment {
  /** Probability of a Gaussian blur (DINO: 1.0 first global crop, 0.1 second, 0.5 local). */
  blur: number;
  /** Largest contrast and brightness jitter. */
  jitter: number;
}

/**
 * One view of a slice: a random resized crop to `size`, random horizontal and vertical flips,
 * with probability 0.8 a contrast (x0.8-1.2) and brightness (+-0.2 of the z-score scale) jitter
 * (by default; see {@link MultiCropOptions.jitter}), a
 * Gaussian blur (sigma 0.1-1 px) and with probability 0.3 Gaussian noise (std up to 0.1). No colour
 * jitter, greyscale or solarisation: a slice has one channel whose values mean tissue (HU, MR
 * signal), so only a mild scanner-like change of scale and offset is a nuisance; inverting it, or
 * zooming far, would teach the encoder to ignore a lesion's brightness and size, the findings.
 */
function view(src: Slice2D, size: number, scale: [number, number], aug: ViewAugment, rng: Rng, out: Float32Array, offset: number): void {
  resizeBox(src, randomResizedCropBox(src.h, src.w, scale, rng), size, out, offset);
  const n = size * size;
  if (rng.bernoulli(0.5)) flipRows(out, offset, size, false);
  if (rng.bernoulli(0.5)) flipRows(out, offset, size, true);
  if (aug.jitter > 0 && rng.bernoulli(0.8)) {
    const c = rng.uniformRange(1 - aug.jitter, 1 + aug.jitter);
    const b = rng.uniformRange(-aug.jitter, aug.jitter);
    for (let i = 0; i < n; i++) out[offset + i] = out[offset + i] * c + b;
  }
  if (rng.bernoulli(aug.blur)) gaussianBlur(out, offset, size, rng.uniformRange(0.1, 1));
  if (rng.bernoulli(0.3)) {
    const std = rng.uniformRange(0, 0.1);
    for (let i = 0; i < n; i++) out[offset + i] += std * rng.normal();
  }
}

function flipRows(img: Float32Array, offset: number, size: number, vertical: boolean): void {
  for (let y = 0; y < (vertical ? size >> 1 : size); y++) {
    for (let x = 0; x < (vertical ? size : size >> 1); x++) {
      const a = offset + y * size + x;
      const b = vertical ? offset + (size - 1 - y) * size + x : offset + y * size + (size - 1 - x);
      const t = img[a];
      img[a] = img[b];
      img[b] = t;
    }
  }
}

/**
 * DINO's multi-crop augmentation of a batch of slices of one size: two global views and
 * `localCrops` local views, each a random resized crop, flipped, intensity-jittered, blurred and
 * noised ({@link view}). By default the views keep the slices' scale: global crops of 60-100% of
 * the slice resized to the slice's side, local crops of 15-40% to half of it. All randomness
 * comes from `rng`.
 *
 * @example
 * const crops = multiCrop(slices, { localCrops: 4, multipleOf: 4 }, new Rng(0));
 * crops.global.length; // 2 * slices.length * h * w for square slices of side h = w
 */
export function multiCrop(slices: readonly Slice2D[], options: MultiCropOptions, rng: Rng): CropBatch {
  if (slices.length === 0) throw new Error('multiCrop: no slices');
  const { h, w } = slices[0];
  if (slices.some((s) => s.h !== h || s.w !== w)) throw new Error('multiCrop: the slices of a batch must share one size');
  const { global: g, local: l } = cropSizes(h, w, options);
  if (!(g >= 1 && l >= 1)) throw new Error(`multiCrop: slices of ${h}x${w} are too small for crops (global ${g}, local ${l})`);
  const { localCrops } = options;
  const b = slices.length;
  const global = new Float32Array(2 * b * g * g);
  const local = new Float32Array(localCrops * b * l * l);
  const gs = options.globalScale ?? [0.6, 1];
  const ls = options.localScale ?? [0.15, 0.4];
  const jitter = options.jitter ?? 0.2;
  slices.forEach((s, i) => {
    view(s, g, gs, { blur: 1, jitter }, rng, global, i * g * g);
    view(s, g, gs, { blur: 0.1, jitter }, rng, global, (b + i) * g * g);
    for (let c = 0; c < localCrops; c++) view(s, l, ls, { blur: 0.5, jitter }, rng, local, (c * b + i) * l * l);
  });
  return { global, local, images: b, globalSize: g, localSize: l };
}
