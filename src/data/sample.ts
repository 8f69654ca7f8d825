/**
 * The unit every dataset yields and every transform maps: one volume with its label and an optional
 * lesion mask, all as plain typed arrays so that the data pipeline needs no tensor library.
 */

/** A volume's shape `[D, H, W]`: slices first, then rows and columns of each slice. */
export type Shape3 = [number, number, number];

/**
 * One case: voxels `[D, H, W]` in row-major order (the last axis varies fastest), its voxel spacing
 * in millimetres per axis, its class label and, where known, a lesion mask of the same shape.
 *
 * @example
 * const s: VolumeSample = { id: 'a', data: new Float32Array(8), shape: [2, 2, 2], spacing: [1, 1, 1], label: 0 };
 */
export interface VolumeSample {
  /** A stable identifier, used in logs and error messages. */
  id: string;
  /** Voxels `[D, H, W]`, row-major. */
  data: Float32Array;
  /** `[D, H, W]`. */
  shape: Shape3;
  /** Millimetres between voxel centres along `[D, H, W]`. */
  spacing: Shape3;
  /** Class index (0 = negative, 1 = positive for binary tasks). */
  label: number;
  /** Lesion mask `[D, H, W]` (1 inside), aligned with `data`; absent where none is known. */
  mask?: Uint8Array;
}

/** Number of voxels of a `[D, H, W]` shape. */
export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** Throws unless `sample.data` (and its mask) hold exactly `D * H * W` values. */
export function checkSample(sample: VolumeSample, what = 'sample'): void {
  const n = voxelCount(sample.shape);
  if (sample.data.length !== n) {
    throw new Error(`${what} '${sample.id}': data has ${sample.data.length} values, shape [${sample.shape.join(', ')}] needs ${n}`);
  }
  if (sample.mask && sample.mask.length !== n) {
    throw new Error(`${what} '${sample.id}': mask has ${sample.mask.length} values, shape [${sample.shape.join(', ')}] needs ${n}`);
  }
}
