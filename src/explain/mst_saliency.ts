import * as tf from '@tensorflow/tfjs';
import { trilinearUpsample } from './trilinear_upsample';

/** Options of {@link planeAttentionMap}. */
export interface PlaneAttentionOptions {
  /**
   * Zero the first patch's attention before renormalising, as the authors' `get_plane_attention`
   * does (`attention_map_dino[:, :, 0] = 0` on the CLS row over the patch tokens, then the division
   * by the row sum). Default false: the paper's map.
   */
  zeroFirstPatch?: boolean;
  /** Keep the heads: `[..., heads, h, w]` instead of their mean `[..., h, w]` (default false). */
  perHead?: boolean;
}

/**
 * The slice attention of the paper: the slice transformer's CLS row without its CLS column,
 * renormalised to sum 1 per head, then the mean over heads, as the authors' `get_slice_attention`.
 * Softmax rows are strictly positive, so the renormalisation needs no eps.
 *
 * @param weights the CLS rows `[B, heads, D]` (MST's `sliceAttention`) or full per-head maps
 *   `[B, heads, 1+D, 1+D]` (token 0 = CLS)
 * @returns `[B, D]` (or `[B, heads, D]` with `perHead`)
 * @example
 * const s = sliceAttentionMap(out.sliceAttention); // [1, 12, 32] -> [1, 32]
 */
export function sliceAttentionMap(weights: tf.Tensor, options: { perHead?: boolean } = {}): tf.Tensor {
  const s = weights.shape as number[];
  const full = weights.rank === 4 && s[2] === s[3];
  if (!full && weights.rank !== 3) {
    throw new Error(`sliceAttentionMap: expected CLS rows [B, heads, D] or attention [B, heads, 1+D, 1+D], got shape [${s.join(', ')}]`);
  }
  return tf.tidy(() => {
    const row = full ? tf.reshape(tf.slice(weights, [0, 0, 0, 1], [s[0], s[1], 1, s[3] - 1]), [s[0], s[1], s[3] - 1]) : weights;
    const norm = tf.div(row, tf.sum(row, -1, true));
    return options.perHead ? norm : tf.mean(norm, 1);
  });
}

/**
 * The CLS row over the patch tokens of full encoder attention maps (registers skipped).
 *
 * @param attn `[N, heads, T, T]` over `[CLS, registers..., patches...]`
 * @param numPrefixTokens CLS plus registers
 * @returns `[N, heads, T - numPrefixTokens]`
 * @example
 * const rows = clsPatchRows(out.planeAttentionMaps[11], out.numPrefixTokens); // [32, 6, 256]
 */
export function clsPatchRows(attn: tf.Tensor, numPrefixTokens: number): tf.Tensor3D {
  const s = attn.shape as number[];
  if (attn.rank !== 4 || s[2] !== s[3]) throw new Error(`clsPatchRows: expected attention [N, heads, T, T], got shape [${s.join(', ')}]`);
  if (!Number.isInteger(numPrefixTokens) || numPrefixTokens < 1 || numPrefixTokens >= s[3]) {
    throw new Error(`clsPatchRows: numPrefixTokens must be an integer in [1, ${s[3] - 1}], got ${numPrefixTokens}`);
  }
  return tf.tidy(() => tf.reshape(tf.slice(attn, [0, 0, 0, numPrefixTokens], [s[0], s[1], 1, s[3] - numPrefixTokens]), [s[0], s[1], s[3] - numPrefixTokens]) as tf.Tensor3D);
}

/**
 * The plane attention of the paper: for each slice, the last encoder block's CLS row over the
 * patch tokens, renormalised per head, mean over heads, laid out on the patch grid.
 *
 * @param rows CLS -> patch attention `[..., heads, P]` (MST's `planeAttention` `[B, D, heads, P]`,
 *   or {@link clsPatchRows} of full maps)
 * @param gridSize patch grid `[h, w]` with `h * w = P`
 * @returns `[..., h, w]` (or `[..., heads, h, w]` with `perHead`)
 * @example
 * const p = planeAttentionMap(out.planeAttention, out.gridSize); // [1, 32, 6, 256] -> [1, 32, 16, 16]
 */
export function planeAttentionMap(rows: tf.Tensor, gridSize: readonly [number, number], options: PlaneAttentionOptions = {}): tf.Tensor {
  const s = rows.shape as number[];
  const p = s[s.length - 1];
  if (rows.rank < 2 || gridSize[0] * gridSize[1] !== p) {
    throw new Error(`planeAttentionMap: expected CLS -> patch rows [..., heads, ${gridSize[0] * gridSize[1]}] for a ${gridSize[0]}x${gridSize[1]} grid, got shape [${s.join(', ')}]`);
  }
  return tf.tidy(() => {
    let row = rows;
    if (options.zeroFirstPatch) {
      const first = tf.reshape(tf.oneHot(tf.tensor1d([0], 'int32'), p), [...s.slice(0, -1).map(() => 1), p]);
      row = tf.mul(row, tf.sub(1, first));
    }
    const norm = tf.div(row, tf.sum(row, -1, true));
    const lead = s.slice(0, -2);
    if (options.perHead) return tf.reshape(norm, [...lead, s[s.length - 2], gridSize[0], gridSize[1]]);
    return tf.reshape(tf.mean(norm, -2), [...lead, gridSize[0], gridSize[1]]);
  });
}

/**
 * Weights each slice's plane map by its slice attention: `saliency[d] = slice[d] * plane[d]`.
 * Equal to the authors' order (per head, then the mean over heads), since the slice weight does
 * not depend on the head.
 *
 * @param sliceAttention `[D]`
 * @param planeMap `[D, h, w]` (any per-slice 2D map: plane attention, rollout, Grad-CAM)
 * @returns `[D, h, w]`
 * @example
 * const low = combineSliceAndPlane(slice, plane); // [32] x [32, 16, 16] -> [32, 16, 16]
 */
export function combineSliceAndPlane(sliceAttention: tf.Tensor, planeMap: tf.Tensor): tf.Tensor3D {
  if (sliceAttention.rank !== 1 || planeMap.rank !== 3 || sliceAttention.shape[0] !== planeMap.shape[0]) {
    throw new Error(
      `combineSliceAndPlane: expected slice attention [D] and a per-slice map [D, h, w], got [${sliceAttention.shape.join(', ')}] and [${planeMap.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => tf.mul(tf.reshape(sliceAttention, [-1, 1, 1]), planeMap) as tf.Tensor3D);
}

/** Options of {@link mstSaliency}. */
export interface MstSaliencyOptions extends Pick<PlaneAttentionOptions, 'zeroFirstPatch'> {
  /** Also upsample the map to this `[D, H, W]` (the input volume's shape), trilinearly. */
  outputShape?: [number, number, number];
}

/** The attention an MST forward with `attention: 'last'` returns, for one volume (B = 1). */
export interface MstAttention {
  /** `[1, heads, D]` CLS -> slice rows (or full maps `[1, heads, 1+D, 1+D]`). */
  sliceAttention: tf.Tensor;
  /** `[1, D, heads, P]` CLS -> patch rows of the last encoder block. */
  planeAttention: tf.Tensor;
  /** Patch grid `[h, w]`, `h * w = P`. */
  gridSize: readonly [number, number];
}

/** The parts of the paper's MST saliency for one volume; the caller disposes them. */
export interface MstSaliency {
  /** `[D]`, sums to 1. */
  sliceAttention: tf.Tensor1D;
  /** `[D, h, w]`, each slice sums to 1. */
  planeAttention: tf.Tensor3D;
  /** `[D, h, w]`: slice attention times plane attention. */
  saliency: tf.Tensor3D;
  /** `[D, H, W]` when `outputShape` was given: `saliency` upsampled as `F.interpolate(size=...)`. */
  saliencyUpsampled?: tf.Tensor3D;
}

/**
 * The paper's MST saliency for one volume from the attention of one MST forward: slice attention
 * times plane attention, optionally upsampled to the volume. The inputs are not disposed.
 *
 * @example
 * const out = model.forward(tf.expandDims(volume, 0), { attention: 'last' });
 * const s = mstSaliency(out as MstAttention, { outputShape: [32, 224, 224] });
 * s.saliencyUpsampled; // [32, 224, 224]
 */
export function mstSaliency(attention: MstAttention, options: MstSaliencyOptions = {}): MstSaliency {
  const { sliceAttention: sw, planeAttention: pw, gridSize } = attention;
  if (!sw || !pw || !gridSize) throw new Error('mstSaliency: expected sliceAttention, planeAttention and gridSize (run the MST forward with attention: "last")');
  if (sw.shape[0] !== 1 || pw.rank !== 4 || pw.shape[0] !== 1) {
    throw new Error(`mstSaliency: expected one volume (B = 1): slice [1, heads, D] and plane [1, D, heads, P], got [${sw.shape.join(', ')}] and [${pw.shape.join(', ')}]`);
  }
  const slices = tf.tidy(() => tf.reshape(sliceAttentionMap(sw), [-1]) as tf.Tensor1D);
  if (slices.shape[0] !== pw.shape[1]) {
    slices.dispose();
    throw new Error(`mstSaliency: the slice transformer saw ${slices.shape[0]} slices, the encoder ${pw.shape[1]}`);
  }
  const plane = tf.tidy(() => tf.squeeze(planeAttentionMap(pw, gridSize, { zeroFirstPatch: options.zeroFirstPatch }), [0]) as tf.Tensor3D);
  const saliency = combineSliceAndPlane(slices, plane);
  const out: MstSaliency = { sliceAttention: slices, planeAttention: plane, saliency };
  if (options.outputShape) out.saliencyUpsampled = trilinearUpsample(saliency, { size: options.outputShape }) as tf.Tensor3D;
  return out;
}
