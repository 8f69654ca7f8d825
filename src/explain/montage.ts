import { encodePng } from '../utils/png';
import { Raster } from '../utils/raster';
import { colormapRgb, type ColormapName } from './colormap';
import { linearQuantile, topKIndices, type CpuVolume } from './localisation';

/** One overlay row of a {@link renderMontage}. */
export interface MontageRow {
  /** `[D, H, W]` at the volume's size, or one value per slice (`[D]`, e.g. slice attention). */
  map: CpuVolume | ArrayLike<number>;
  /**
   * Clip the map to these quantiles before min-max scaling. Default for a voxel map:
   * {@link defaultMontageClip} of its voxel count (the paper's `[0.995, 0.999]` on its
   * 32x224x224 volumes); for a per-slice map no clipping (`null`).
   */
  clip?: [number, number] | null;
  /** Row label drawn left of the row (default 'slice attention' for a per-slice map, else 'saliency'). */
  label?: string;
}

/** Options of {@link renderMontage}. */
export interface MontageOptions {
  /** Slices shown, in order (default: up to 8 consecutive slices centred on the most salient one). */
  slices?: number[];
  /** Colour map (default 'jet', the paper's). */
  colormap?: ColormapName;
  /** Overlay opacity: `(1 - alpha) * image + alpha * colour` (default 0.5, the paper's). */
  alpha?: number;
  /** Black padding between tiles in pixels (default 2, as torchvision's `save_image`). */
  padding?: number;
  /** Include the plain input as the first row (default true). */
  inputRow?: boolean;
  /** Each voxel drawn as `zoom x zoom` pixels (default 1), so small crops stay readable. */
  zoom?: number;
  /** Label of the input row (default 'input'). */
  inputLabel?: string;
  /** Draw the row labels in a column left of the tiles (default true). */
  labels?: boolean;
}

// The paper's clip [0.995, 0.999] on its 32x224x224 volumes leaves about this many voxels above
// the lower and the upper quantile.
const PAPER_VOXELS_ABOVE_LOW = 8000;
const PAPER_VOXELS_ABOVE_HIGH = 1600;

/**
 * The default quantile clip of a voxel map with `voxels` voxels in {@link renderMontage}: as many
 * voxels above each quantile as the paper's `[0.995, 0.999]` leaves on its 32x224x224 volumes
 * (about 8,000 and 1,600), but at most half and a tenth of the volume, so a small crop keeps a
 * visible map instead of one or two hot voxels. From 1.6 M voxels up it is the paper's clip.
 *
 * @example
 * defaultMontageClip(32 * 224 * 224); // returns [0.995, 0.999]
 * defaultMontageClip(8 * 16 * 16);    // returns [0.5, 0.9]
 */
export function defaultMontageClip(voxels: number): [number, number] {
  if (!(Number.isInteger(voxels) && voxels > 0)) throw new Error(`defaultMontageClip: expected a positive voxel count, got ${voxels}`);
  const low = Math.min(0.5, Math.max(0.005, PAPER_VOXELS_ABOVE_LOW / voxels));
  const high = Math.min(0.1, Math.max(0.001, PAPER_VOXELS_ABOVE_HIGH / voxels));
  return [1 - low, 1 - high];
}

/** An RGBA image `[height, width, 4]`. */
export interface RgbaImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

function minMaxScale(values: ArrayLike<number>, clip: [number, number] | null): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  let cLo = -Infinity;
  let cHi = Infinity;
  if (clip) {
    cLo = linearQuantile(values, clip[0]);
    cHi = linearQuantile(values, clip[1]);
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(cHi, Math.max(cLo, values[i]));
    out[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  for (let i = 0; i < out.length; i++) out[i] = range > 0 ? (out[i] - lo) / range : 0;
  return out;
}

function isVolume(m: CpuVolume | ArrayLike<number>): m is CpuVolume {
  return (m as CpuVolume).shape !== undefined && (m as CpuVolume).data !== undefined;
}

/** Default slices: up to 8 consecutive, centred on the slice where the first map peaks. */
function defaultSlices(depth: number, rows: MontageRow[], plane: number): number[] {
  const n = Math.min(8, depth);
  let centre = Math.floor(depth / 2);
  const first = rows[0]?.map;
  if (first) {
    const perSlice = isVolume(first)
      ? Array.from({ length: depth }, (_, d) => {
          let s = 0;
          for (let i = d * plane; i < (d + 1) * plane; i++) s += first.data[i];
          return s;
        })
      : first;
    centre = topKIndices(perSlice, 1)[0];
  }
  const start = Math.max(0, Math.min(depth - n, centre - Math.floor(n / 2)));
  return Array.from({ length: n }, (_, i) => start + i);
}

/**
 * A montage as the paper's Figures 4-6: consecutive slices as columns, the input as the first row
 * and one colour overlay per map below it (e.g. 3D ResNet Grad-CAM, MST slice attention, MST
 * combined), each row labelled on the left. The input is min-max scaled over the volume; each map
 * is clipped to its quantiles, min-max scaled, coloured and blended with `alpha`, as the authors'
 * `tensor_cam2image`.
 *
 * @param volume the input `[D, H, W]`
 * @example
 * const img = renderMontage({ data: vol, shape: [32, 224, 224] }, [
 *   { map: { data: resnetCam, shape: [32, 224, 224] }, label: '3D ResNet Grad-CAM' },
 *   { map: sliceAttention, label: 'MST slice attention' },
 *   { map: { data: mstSaliency, shape: [32, 224, 224] }, label: 'MST saliency' },
 * ]);
 */
export function renderMontage(volume: CpuVolume, rows: MontageRow[], options: MontageOptions = {}): RgbaImage {
  const { colormap = 'jet', alpha = 0.5, padding = 2, inputRow = true, zoom = 1, inputLabel = 'input', labels = true } = options;
  if (volume.shape.length !== 3) throw new Error(`renderMontage: expected a volume [D, H, W], got shape [${volume.shape.join(', ')}]`);
  const [D, H, W] = volume.shape;
  if (volume.data.length !== D * H * W) throw new Error(`renderMontage: shape [${D}, ${H}, ${W}] needs ${D * H * W} values, got ${volume.data.length}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`renderMontage: alpha must lie in [0, 1], got ${alpha}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`renderMontage: padding must be a non-negative integer, got ${padding}`);
  if (!Number.isInteger(zoom) || zoom < 1) throw new Error(`renderMontage: zoom must be a positive integer, got ${zoom}`);
  const plane = H * W;
  rows.forEach((r, i) => {
    const shape = isVolume(r.map) ? r.map.shape : [r.map.length];
    const ok = isVolume(r.map) ? shape.length === 3 && shape[0] === D && shape[1] === H && shape[2] === W : shape[0] === D;
    if (!ok) throw new Error(`renderMontage: row ${i}: expected a map [${D}, ${H}, ${W}] or [${D}], got [${shape.join(', ')}]`);
  });
  const slices = options.slices ?? defaultSlices(D, rows, plane);
  for (const s of slices) if (!Number.isInteger(s) || s < 0 || s >= D) throw new Error(`renderMontage: slice ${s} is out of range [0, ${D - 1}]`);
  if (slices.length === 0) throw new Error('renderMontage: expected at least one slice, got none');

  const gray = minMaxScale(volume.data, null);
  const colours = rows.map((r) => {
    const clip = r.clip === undefined ? (isVolume(r.map) ? defaultMontageClip(D * H * W) : null) : r.clip;
    const scaled = minMaxScale(isVolume(r.map) ? r.map.data : r.map, clip);
    return { perSlice: !isVolume(r.map), rgb: colormapRgb(scaled, colormap) };
  });
  const nRows = rows.length + (inputRow ? 1 : 0);
  const [tileH, tileW] = [H * zoom, W * zoom];
  const rowLabels = [...(inputRow ? [inputLabel] : []), ...rows.map((r) => r.label ?? (isVolume(r.map) ? 'saliency' : 'slice attention'))];
  // The 5x7 font at twice its size where a tile is tall enough, else at its own size.
  const textScale = tileH >= 28 ? 2 : 1;
  const labelWidth = labels ? Math.max(...rowLabels.map((l) => Raster.textWidth(l, textScale))) + 4 * textScale + padding : 0;
  const width = labelWidth + slices.length * (tileW + padding) + padding;
  const height = nRows * (tileH + padding) + padding;
  const raster = new Raster(width, height, [0, 0, 0, 255]);
  if (labels) {
    rowLabels.forEach((l, row) => raster.text(l, labelWidth - padding - 2 * textScale, padding + row * (tileH + padding) + tileH / 2, [255, 255, 255, 255], textScale, 'right'));
  }
  const rgba = raster.data;
  const pixel = [0, 0, 0];
  for (let row = 0; row < nRows; row++) {
    const overlay = inputRow ? (row === 0 ? null : colours[row - 1]) : colours[row];
    slices.forEach((s, col) => {
      const x0 = labelWidth + padding + col * (tileW + padding);
      const y0 = padding + row * (tileH + padding);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const v = s * plane + y * W + x;
          const g = gray[v];
          for (let c = 0; c < 3; c++) {
            const cam = overlay ? overlay.rgb[(overlay.perSlice ? s : v) * 3 + c] / 255 : g;
            const value = overlay ? (1 - alpha) * g + alpha * cam : g;
            pixel[c] = Math.round(Math.min(1, Math.max(0, value)) * 255);
          }
          for (let dy = 0; dy < zoom; dy++) {
            for (let dx = 0; dx < zoom; dx++) {
              const o = ((y0 + y * zoom + dy) * width + x0 + x * zoom + dx) * 4;
              rgba[o] = pixel[0];
              rgba[o + 1] = pixel[1];
              rgba[o + 2] = pixel[2];
            }
          }
        }
      }
    });
  }
  return { rgba, width, height };
}

/**
 * {@link renderMontage} encoded as PNG file bytes.
 *
 * @example
 * fs.writeFileSync('montage.png', montagePng(volume, [{ map: saliency }]));
 */
export function montagePng(volume: CpuVolume, rows: MontageRow[], options: MontageOptions = {}): Uint8Array {
  const img = renderMontage(volume, rows, options);
  return encodePng(img.rgba, img.width, img.height);
}

/** Options of {@link sliceAttentionBarChart}. */
export interface BarChartOptions {
  /** Bar width in pixels (default 12). */
  barWidth?: number;
  /** Plot height in pixels (default 160). */
  height?: number;
  /** Bars drawn in the highlight colour: the k most attended slices (default 1). */
  highlightTopK?: number;
}

/**
 * A bar chart of slice attention, one bar per slice (slice 0 left), heights relative to the
 * largest value, the `highlightTopK` most attended slices in orange, the rest in blue.
 *
 * @example
 * fs.writeFileSync('slice_attention.png', sliceAttentionBarChart(await e.sliceAttention.data()));
 */
export function sliceAttentionBarChart(values: ArrayLike<number>, options: BarChartOptions = {}): Uint8Array {
  const { barWidth = 12, height = 160, highlightTopK = 1 } = options;
  const n = values.length;
  if (n === 0) throw new Error('sliceAttentionBarChart: expected at least one value, got none');
  if (!Number.isInteger(barWidth) || barWidth < 1 || !Number.isInteger(height) || height < 8) {
    throw new Error(`sliceAttentionBarChart: barWidth must be a positive integer and height an integer >= 8, got ${barWidth} and ${height}`);
  }
  const margin = 4;
  const gap = barWidth >= 4 ? 1 : 0;
  const width = n * barWidth + 2 * margin;
  const total = height + 2 * margin;
  const rgba = new Uint8Array(width * total * 4).fill(255);
  let max = 0;
  for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
  const top = new Set(topKIndices(values, Math.min(Math.max(1, highlightTopK), n)));
  const set = (x: number, y: number, c: readonly number[]) => {
    const o = (y * width + x) * 4;
    rgba[o] = c[0];
    rgba[o + 1] = c[1];
    rgba[o + 2] = c[2];
  };
  for (let i = 0; i < n; i++) {
    const h = max > 0 ? Math.round((Math.max(0, values[i]) / max) * height) : 0;
    const colour = top.has(i) ? [230, 120, 20] : [50, 100, 170];
    for (let x = margin + i * barWidth; x < margin + (i + 1) * barWidth - gap; x++) {
      for (let y = margin + height - h; y < margin + height; y++) set(x, y, colour);
    }
  }
  // Baseline.
  for (let x = margin - 1; x < width - margin + 1; x++) set(x, margin + height, [0, 0, 0]);
  return encodePng(rgba, width, total);
}
