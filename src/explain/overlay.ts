/**
 * One slice of a volume in grey with a saliency map blended on top, as RGBA pixels a canvas
 * (`ImageData`) or a PNG encoder takes. Plain arrays only: it runs in a page, a worker or Node.
 */
import { colormapTable, type ColormapName } from './colormap';
import type { CpuVolume } from './localisation';
import type { RgbaImage } from './montage';

/** Options of {@link renderSliceOverlay}. */
export interface SliceOverlayOptions {
  /** Greyscale window `[low, high]` of the volume (default: its 1st and 99th percentiles, see {@link displayWindow}). */
  window?: [number, number];
  /** Largest overlay opacity, reached where the saliency is 1 (default 0.5; 0 shows the scan alone). */
  opacity?: number;
  /** Colour map of the saliency (default 'jet', the paper's). */
  colormap?: ColormapName;
}

function checkVolume(what: string, v: CpuVolume): void {
  const n = v.shape.reduce((p, d) => p * d, 1);
  if (v.shape.length !== 3 || v.data.length !== n) {
    throw new Error(`renderSliceOverlay: ${what} must be a volume [D, H, W] with D*H*W values, got shape [${v.shape.join(', ')}] and ${v.data.length} values`);
  }
}

/** Linear interpolation between order statistics of sorted values (NumPy's default); q in [0, 1]. */
function sortedQuantile(sorted: Float32Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  return sorted[i] + (sorted[Math.min(i + 1, sorted.length - 1)] - sorted[i]) * (pos - i);
}

/** Every `step`-th value, sorted (a local quantile keeps this module, and the page's main thread, free of tfjs). */
function sortedSample(data: ArrayLike<number>, step: number): Float32Array {
  const sample = new Float32Array(Math.ceil(data.length / step));
  for (let i = 0, j = 0; i < data.length; i += step, j++) sample[j] = data[i];
  return sample.sort();
}

/**
 * The greyscale window of a volume: its 1st and 99th percentiles (every 7th voxel of large
 * volumes, which moves the bounds by well under a grey level), so a few extreme voxels do not wash
 * out the image.
 *
 * @example
 * displayWindow(volume.data); // e.g. [-1000, 180] for a chest CT in HU
 */
export function displayWindow(data: ArrayLike<number>): [number, number] {
  const sorted = sortedSample(data, data.length > 1 << 20 ? 7 : 1);
  const [lo, hi] = [sortedQuantile(sorted, 0.01), sortedQuantile(sorted, 0.99)];
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/**
 * Scales a saliency map to [0, 1] over the whole volume, so every slice shares one scale: min-max
 * (`clip` null, the default), or first clipped to the `clip` quantiles, as the paper's figures
 * (`[0.995, 0.999]`: only the most salient 0.5% of voxels are coloured). A constant map becomes zeros.
 *
 * @example
 * normalizeSaliency(new Float32Array([2, 4, 6])); // Float32Array [0, 0.5, 1]
 */
export function normalizeSaliency(data: ArrayLike<number>, clip: [number, number] | null = null): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  if (clip) {
    if (!(clip[0] >= 0 && clip[0] <= clip[1] && clip[1] <= 1)) throw new Error(`normalizeSaliency: clip must be quantiles 0 <= low <= high <= 1, got [${clip.join(', ')}]`);
    const sorted = sortedSample(data, 1);
    [lo, hi] = [sortedQuantile(sorted, clip[0]), sortedQuantile(sorted, clip[1])];
  } else {
    for (let i = 0; i < data.length; i++) {
      if (data[i] < lo) lo = data[i];
      if (data[i] > hi) hi = data[i];
    }
  }
  const out = new Float32Array(data.length);
  const range = hi - lo;
  if (range > 0) for (let i = 0; i < data.length; i++) out[i] = (Math.min(hi, Math.max(lo, data[i])) - lo) / range;
  return out;
}

/**
 * Renders slice `slice` of `volume` `[D, H, W]` in grey (windowed) with `saliency` (the same shape,
 * values in [0, 1], e.g. from {@link normalizeSaliency}) blended per pixel as
 * `(1 - a) * grey + a * colour` with `a = opacity * saliency`: colour where the model looked, the
 * plain scan elsewhere. `saliency` null renders the scan alone.
 *
 * @example
 * const img = renderSliceOverlay(volume, { data: normalizeSaliency(s), shape: volume.shape }, 7, { opacity: 0.6 });
 * ctx.putImageData(new ImageData(new Uint8ClampedArray(img.rgba.buffer), img.width, img.height), 0, 0);
 */
export function renderSliceOverlay(volume: CpuVolume, saliency: CpuVolume | null, slice: number, options: SliceOverlayOptions = {}): RgbaImage {
  checkVolume('the volume', volume);
  const [D, H, W] = volume.shape;
  if (saliency) {
    checkVolume('the saliency', saliency);
    if (saliency.shape.some((n, i) => n !== volume.shape[i])) {
      throw new Error(`renderSliceOverlay: the saliency [${saliency.shape.join(', ')}] must have the volume's shape [${volume.shape.join(', ')}]`);
    }
  }
  if (!Number.isInteger(slice) || slice < 0 || slice >= D) throw new Error(`renderSliceOverlay: slice must be an integer in [0, ${D}), got ${slice}`);
  const opacity = options.opacity ?? 0.5;
  if (!(opacity >= 0 && opacity <= 1)) throw new Error(`renderSliceOverlay: opacity must lie in [0, 1], got ${opacity}`);
  const [lo, hi] = options.window ?? displayWindow(volume.data);
  const table = colormapTable(options.colormap ?? 'jet');
  const scale = 255 / (hi - lo || 1);
  const rgba = new Uint8Array(H * W * 4);
  const base = slice * H * W;
  for (let i = 0; i < H * W; i++) {
    const grey = Math.min(255, Math.max(0, (volume.data[base + i] - lo) * scale));
    const s = saliency ? saliency.data[base + i] : 0;
    const a = opacity * (Number.isFinite(s) ? Math.min(1, Math.max(0, s)) : 0);
    const idx = Math.min(255, Math.floor(a > 0 ? s * 256 : 0)) * 3;
    const o = i * 4;
    rgba[o] = Math.round((1 - a) * grey + a * table[idx]);
    rgba[o + 1] = Math.round((1 - a) * grey + a * table[idx + 1]);
    rgba[o + 2] = Math.round((1 - a) * grey + a * table[idx + 2]);
    rgba[o + 3] = 255;
  }
  return { rgba, width: W, height: H };
}
