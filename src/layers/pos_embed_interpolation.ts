import * as tf from '@tensorflow/tfjs';
import { batchMatMul } from '../ops/batch_matmul';

/** Options of {@link bicubicResizeMatrix}. */
export interface BicubicResizeOptions {
  /**
   * The scale factor given to PyTorch's `F.interpolate` (output over input). When set, source
   * coordinates use `1 / scaleFactor`, as PyTorch does, not `inSize / outSize`.
   */
  scaleFactor?: number;
  /** PyTorch's `antialias=True` path (Pillow-style filter, a = -0.5, renormalised taps). */
  antialias?: boolean;
}

/** Keys' cubic convolution kernel with PyTorch's A = -0.75 (`upsample_bicubic2d`). */
const A_PLAIN = -0.75;
/** The kernel of PyTorch's antialiased bicubic (`aa_filter`, as Pillow). */
const A_AA = -0.5;

function cubicKernel(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/**
 * The 1-D operator of PyTorch's bicubic `F.interpolate` (align_corners=False) along one axis, as a
 * dense `[outSize, inSize]` matrix (row-major): output `o` is `sum_i M[o, i] * input[i]`.
 * Without antialias: taps at `floor(s) - 1 .. floor(s) + 2` with `s = scale (o + 0.5) - 0.5`,
 * A = -0.75, out-of-range taps clamped to the border. With antialias: the filter widened by the
 * scale when downsampling, taps inside the input only, weights renormalised to sum 1.
 *
 * @example
 * const m = bicubicResizeMatrix(37, 16, { scaleFactor: 16.1 / 37 }); // Float32Array(16 * 37)
 */
export function bicubicResizeMatrix(inSize: number, outSize: number, options: BicubicResizeOptions = {}): Float32Array {
  if (!(Number.isInteger(inSize) && inSize > 0 && Number.isInteger(outSize) && outSize > 0)) {
    throw new Error(`bicubicResizeMatrix: expected positive integer sizes, got ${inSize} -> ${outSize}`);
  }
  const sf = options.scaleFactor;
  if (sf !== undefined && !(sf > 0)) throw new Error(`bicubicResizeMatrix: expected a positive scaleFactor, got ${sf}`);
  // PyTorch's area_pixel_compute_scale: 1 / scale_factor when one was given, else in / out.
  const scale = sf !== undefined ? 1 / sf : inSize / outSize;
  const m = new Float64Array(outSize * inSize);
  if (options.antialias) {
    const support = scale >= 1 ? 2 * scale : 2;
    const invScale = scale >= 1 ? 1 / scale : 1;
    for (let o = 0; o < outSize; o++) {
      const center = scale * (o + 0.5);
      // C++ casts to int64 (truncation toward zero) before clamping.
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
      let total = 0;
      for (let j = xmin; j < xmax; j++) total += cubicKernel((j - center + 0.5) * invScale, A_AA);
      for (let j = xmin; j < xmax; j++) {
        const w = cubicKernel((j - center + 0.5) * invScale, A_AA);
        m[o * inSize + j] = total !== 0 ? w / total : w;
      }
    }
  } else {
    for (let o = 0; o < outSize; o++) {
      const src = scale * (o + 0.5) - 0.5;
      const i0 = Math.floor(src);
      const t = src - i0;
      const coeffs = [cubicKernel(t + 1, A_PLAIN), cubicKernel(t, A_PLAIN), cubicKernel(1 - t, A_PLAIN), cubicKernel(2 - t, A_PLAIN)];
      for (let k = 0; k < 4; k++) {
        const idx = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
        m[o * inSize + idx] += coeffs[k];
      }
    }
  }
  return Float32Array.from(m);
}

/** The two 1-D operators of a 2-D resize, `[outH, inH]` and `[outW, inW]`. */
export interface BicubicResize2dMatrices {
  rows: Float32Array;
  cols: Float32Array;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/**
 * Applies a separable 2-D resize to a channels-last grid `[inH, inW, C] -> [outH, outW, C]` with
 * two matMuls (differentiable; the gradient uses explicit transposes).
 */
export function applyResize2d(grid: tf.Tensor3D, m: BicubicResize2dMatrices): tf.Tensor3D {
  const [h, w, c] = grid.shape;
  if (h !== m.inH || w !== m.inW) {
    throw new Error(`applyResize2d: expected a grid [${m.inH}, ${m.inW}, C], got [${grid.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const rows = tf.tensor2d(m.rows, [m.outH, m.inH]);
    const cols = tf.tensor2d(m.cols, [m.outW, m.inW]);
    // [inH, inW*C] -> [outH, inW*C] -> [inW, outH*C] -> [outW, outH*C] -> [outH, outW, C]
    const y = tf.reshape(batchMatMul(rows, tf.reshape(grid, [h, w * c])), [m.outH, w, c]);
    const yt = tf.reshape(tf.transpose(y, [1, 0, 2]), [w, m.outH * c]);
    const z = tf.reshape(batchMatMul(cols, yt), [m.outW, m.outH, c]);
    return tf.transpose(z, [1, 0, 2]) as tf.Tensor3D;
  });
}

/** Options of DINOv2's positional-embedding interpolation. */
export interface PosEmbedInterpolationOptions {
  /**
   * DINOv2's `interpolate_offset` (0.1 for the plain hub models, 0 for the `_reg` ones): when
   * non-zero, PyTorch is called with `scale_factor = (g + offset) / M`, else with `size = g`.
   */
  offset: number;
  /** DINOv2's `interpolate_antialias` (false for the plain hub models, true for `_reg`). */
  antialias: boolean;
}

/**
 * The separable operators DINOv2's `interpolate_pos_encoding` applies to an `M x M` grid of
 * positional embeddings for a `gridH x gridW` patch grid, or null when it returns the embedding
 * unchanged (grid equal to `M x M`).
 */
export function posEmbedResizeMatrices(
  m: number,
  gridH: number,
  gridW: number,
  options: PosEmbedInterpolationOptions,
): BicubicResize2dMatrices | null {
  if (!(Number.isInteger(gridH) && gridH > 0 && Number.isInteger(gridW) && gridW > 0)) {
    throw new Error(`interpolatePosEmbed: expected a positive integer patch grid, got ${gridH}x${gridW}`);
  }
  if (gridH === m && gridW === m) return null;
  const axis = (g: number): Float32Array => {
    if (!options.offset) return bicubicResizeMatrix(m, g, { antialias: options.antialias });
    const scaleFactor = (g + options.offset) / m;
    // PyTorch derives the output size as floor(M * scale_factor); DINOv2 asserts it equals g.
    const size = Math.floor(m * scaleFactor);
    if (size !== g) {
      throw new Error(`interpolatePosEmbed: offset ${options.offset} gives ${size} rows from ${m}, not the requested ${g}`);
    }
    return bicubicResizeMatrix(m, g, { scaleFactor, antialias: options.antialias });
  };
  return { rows: axis(gridH), cols: axis(gridW), inH: m, inW: m, outH: gridH, outW: gridW };
}

/**
 * DINOv2's `interpolate_pos_encoding`: the class-token row stays, the `M x M` patch rows
 * (`M = sqrt(numPatches)`, 37 for the 518 px hub weights) are resized bicubically to the patch
 * grid of the input. `[1, 1 + M*M, E] -> [1, 1 + gridH*gridW, E]`. Differentiable.
 *
 * @example
 * const pos = tf.zeros([1, 1 + 37 * 37, 384]);
 * interpolatePosEmbed(pos, 16, 12, { offset: 0.1, antialias: false }).shape; // [1, 193, 384]
 */
export function interpolatePosEmbed(
  posEmbed: tf.Tensor,
  gridH: number,
  gridW: number,
  options: PosEmbedInterpolationOptions,
  matrices?: BicubicResize2dMatrices | null,
): tf.Tensor3D {
  const [one, n1, e] = posEmbed.shape;
  const m = Math.round(Math.sqrt(n1 - 1));
  if (posEmbed.rank !== 3 || one !== 1 || m * m !== n1 - 1) {
    throw new Error(`interpolatePosEmbed: expected a positional embedding [1, 1 + M*M, E], got [${posEmbed.shape.join(', ')}]`);
  }
  const mats = matrices === undefined ? posEmbedResizeMatrices(m, gridH, gridW, options) : matrices;
  if (mats === null) return tf.clone(posEmbed) as tf.Tensor3D;
  return tf.tidy(() => {
    const cls = tf.slice(posEmbed, [0, 0, 0], [1, 1, e]);
    const patches = tf.reshape(tf.slice(posEmbed, [0, 1, 0], [1, m * m, e]), [m, m, e]) as tf.Tensor3D;
    const resized = tf.reshape(applyResize2d(patches, mats), [1, gridH * gridW, e]);
    return tf.concat([cls, resized], 1) as tf.Tensor3D;
  });
}

function transposeMatrix(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** The adjoint of a resize: `[outH, outW, C] -> [inH, inW, C]`, for gradients. */
function adjointMatrices(m: BicubicResize2dMatrices): BicubicResize2dMatrices {
  return {
    rows: transposeMatrix(m.rows, m.outH, m.inH),
    cols: transposeMatrix(m.cols, m.outW, m.inW),
    inH: m.outH,
    inW: m.outW,
    outH: m.inH,
    outW: m.inW,
  };
}

interface GridEntry {
  forward: BicubicResize2dMatrices | null;
  adjoint: BicubicResize2dMatrices | null;
  /** The resized embedding and the parameter data it was computed from. */
  cached?: { dataId: object; value: tf.Tensor3D };
}

/**
 * Resized positional embeddings, computed once per patch grid and reused while the parameter is
 * unchanged (a load or an optimizer step gives the variable new data, which invalidates the
 * entry). The value handed out is tied to the parameter by a custom gradient (the adjoint resize),
 * so fine-tuning still trains `pos_embed` without recomputing the resize in every forward.
 * {@link dispose} frees the cached tensors.
 */
export class PosEmbedCache {
  private readonly grids = new Map<string, GridEntry>();

  constructor(readonly options: PosEmbedInterpolationOptions) {}

  /**
   * The embedding `[1, 1 + gridH*gridW, E]` for a `gridH x gridW` patch grid, as a new tensor the
   * caller owns (it shares the cached data, so it costs no copy).
   */
  get(posEmbed: tf.Variable, gridH: number, gridW: number): tf.Tensor3D {
    const [, n1, e] = posEmbed.shape;
    const m = Math.round(Math.sqrt(n1 - 1));
    const key = `${m}:${gridH}x${gridW}`;
    let entry = this.grids.get(key);
    if (!entry) {
      const forward = posEmbedResizeMatrices(m, gridH, gridW, this.options);
      entry = { forward, adjoint: forward && adjointMatrices(forward) };
      this.grids.set(key, entry);
    }
    if (entry.forward === null) return tf.clone(posEmbed) as tf.Tensor3D;
    if (!entry.cached || entry.cached.dataId !== posEmbed.dataId) {
      entry.cached?.value.dispose();
      const value = tf.keep(tf.tidy(() => interpolatePosEmbed(posEmbed, gridH, gridW, this.options, entry?.forward)));
      entry.cached = { dataId: posEmbed.dataId, value };
    }
    const { value } = entry.cached;
    const adjoint = entry.adjoint as BicubicResize2dMatrices;
    const tied = tf.customGrad(((pos: tf.Tensor) => ({
      value: tf.clone(value),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const dCls = tf.slice(dy, [0, 0, 0], [1, 1, e]);
          const dGrid = tf.reshape(tf.slice(dy, [0, 1, 0], [1, gridH * gridW, e]), [gridH, gridW, e]) as tf.Tensor3D;
          const dPatches = tf.reshape(applyResize2d(dGrid, adjoint), [1, m * m, e]);
          return tf.reshape(tf.concat([dCls, dPatches], 1), pos.shape);
        }),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return tied(posEmbed) as tf.Tensor3D;
  }

  /** Frees the cached tensors (they are recomputed on the next {@link get}). */
  dispose(): void {
    for (const entry of this.grids.values()) {
      entry.cached?.value.dispose();
      entry.cached = undefined;
    }
  }
}
