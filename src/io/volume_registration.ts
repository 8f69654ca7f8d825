/**
 * Several volumes of one study (pre- and post-contrast phases, T1 and T2) on one voxel grid, so
 * they can be stacked as channels: registration by position, i.e. by the scanner coordinates each
 * file's affine gives, as a viewer overlays series. No image-based registration: a patient who
 * moved between series stays moved.
 */
import { affineSpacing, axisCodes, type Affine, type Volume } from './volume';

/**
 * How volumes on different grids are brought onto the first one's: `'same-grid'` requires equal
 * shapes and affines (within {@link GRID_TOLERANCE_MM}) and names both grids otherwise;
 * `'resample'` samples the others trilinearly at the first one's voxel centres through their
 * affines (volumes on the same grid are taken as they are).
 */
export type Registration = 'same-grid' | 'resample';

/**
 * Largest difference of two affines' entries (mm, and mm per voxel) for which their grids count as
 * one: far below a voxel, and above the rounding of DICOM's decimal strings.
 */
export const GRID_TOLERANCE_MM = 0.01;

/** `'<source>' [D, H, W], affine [[...], [...], [...]]`, for error messages. */
export function describeGrid(v: Pick<Volume, 'source' | 'shape' | 'affine'>): string {
  const rows = v.affine.slice(0, 3).map((r) => `[${r.map((x) => +x.toFixed(4)).join(', ')}]`);
  return `'${v.source}' [${v.shape.join(', ')}], affine [${rows.join(', ')}]`;
}

/**
 * Whether two volumes share their voxel grid: the same shape and affines equal within `tolerance`.
 * Volumes without geometry (`meta.geometry === 'assumed'`, npy arrays) share it when their shapes do.
 *
 * @example
 * sameGrid(pre, post); // true for two phases of one dynamic series
 */
export function sameGrid(a: Volume, b: Volume, tolerance = GRID_TOLERANCE_MM): boolean {
  if (a.shape.some((n, i) => n !== b.shape[i])) return false;
  if (a.meta?.geometry === 'assumed' || b.meta?.geometry === 'assumed') return true;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) if (!(Math.abs(a.affine[r][c] - b.affine[r][c]) <= tolerance)) return false;
  return true;
}

/** The inverse of a 4x4 affine (3x3 part inverted, translation carried), or null when singular. */
function invertAffine(a: Affine): Affine | null {
  const [[a00, a01, a02], [a10, a11, a12], [a20, a21, a22]] = a;
  const c00 = a11 * a22 - a12 * a21;
  const c01 = a02 * a21 - a01 * a22;
  const c02 = a01 * a12 - a02 * a11;
  const det = a00 * c00 + a10 * c01 + a20 * c02;
  if (!(Math.abs(det) > 1e-12)) return null;
  const m = [
    [c00, c01, c02],
    [a12 * a20 - a10 * a22, a00 * a22 - a02 * a20, a02 * a10 - a00 * a12],
    [a10 * a21 - a11 * a20, a01 * a20 - a00 * a21, a00 * a11 - a01 * a10],
  ].map((row) => row.map((x) => x / det));
  const t = [0, 1, 2].map((r) => -(m[r][0] * a[0][3] + m[r][1] * a[1][3] + m[r][2] * a[2][3]));
  return [[...m[0], t[0]], [...m[1], t[1]], [...m[2], t[2]], [0, 0, 0, 1]];
}

/** Options of {@link resampleToGrid}. */
export interface ResampleToGridOptions {
  /** Value of reference voxels outside the moving volume (default the moving volume's minimum). */
  fill?: number;
}

/**
 * A one-channel volume sampled at the voxel centres of `reference`'s grid through both affines
 * (trilinear; up to half a voxel past the moving volume's edge the edge voxel is repeated, farther
 * out `fill`). The result has the reference's shape, affine and orientation. Throws, naming both
 * grids, when either volume lacks geometry or the two do not overlap.
 *
 * @example
 * const t2OnT1 = resampleToGrid(t2, t1); // t2's intensities on t1's voxels
 */
export function resampleToGrid(moving: Volume, reference: Volume, options: ResampleToGridOptions = {}): Volume {
  if ((moving.channels ?? 1) !== 1) throw new Error(`resampleToGrid: ${describeGrid(moving)} has ${moving.channels} channels; expected one`);
  if (moving.meta?.geometry === 'assumed' || reference.meta?.geometry === 'assumed') {
    throw new Error(`cannot register ${describeGrid(moving)} onto ${describeGrid(reference)}: ${moving.meta?.geometry === 'assumed' ? 'the first' : 'the second'} has no geometry (an array file); give volumes of one shape or files with affines (NIfTI, DICOM)`);
  }
  const inv = invertAffine(moving.affine);
  if (!inv) throw new Error(`resampleToGrid: the affine of ${describeGrid(moving)} is singular`);
  // Reference voxel -> moving voxel: inv(A_moving) * A_reference.
  const ref = reference.affine;
  const m = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => inv[r][0] * ref[0][c] + inv[r][1] * ref[1][c] + inv[r][2] * ref[2][c] + (c === 3 ? inv[r][3] : 0)));
  const [D, H, W] = moving.shape;
  const src = moving.data;
  let fill = options.fill;
  if (fill === undefined) {
    fill = Infinity;
    for (let i = 0; i < src.length; i++) if (src[i] < fill) fill = src[i];
  }
  const [D2, H2, W2] = reference.shape;
  const out = new Float32Array(D2 * H2 * W2);
  let inside = 0;
  let o = 0;
  const clampIndex = (p: number, n: number): number => (p < -0.5 || p > n - 0.5 ? NaN : p < 0 ? 0 : p > n - 1 ? n - 1 : p);
  for (let d = 0; d < D2; d++) {
    for (let h = 0; h < H2; h++) {
      const bd = m[0][0] * d + m[0][1] * h + m[0][3];
      const bh = m[1][0] * d + m[1][1] * h + m[1][3];
      const bw = m[2][0] * d + m[2][1] * h + m[2][3];
      for (let w = 0; w < W2; w++, o++) {
        const pd = clampIndex(bd + m[0][2] * w, D);
        const ph = clampIndex(bh + m[1][2] * w, H);
        const pw = clampIndex(bw + m[2][2] * w, W);
        if (Number.isNaN(pd) || Number.isNaN(ph) || Number.isNaN(pw)) {
          out[o] = fill;
          continue;
        }
        inside++;
        const d0 = Math.floor(pd);
        const h0 = Math.floor(ph);
        const w0 = Math.floor(pw);
        const d1 = Math.min(d0 + 1, D - 1);
        const h1 = Math.min(h0 + 1, H - 1);
        const w1 = Math.min(w0 + 1, W - 1);
        const fd = pd - d0;
        const fh = ph - h0;
        const fw = pw - w0;
        const at = (a: number, b: number, c: number): number => src[(a * H + b) * W + c];
        const c0 = (1 - fh) * ((1 - fw) * at(d0, h0, w0) + fw * at(d0, h0, w1)) + fh * ((1 - fw) * at(d0, h1, w0) + fw * at(d0, h1, w1));
        const c1 = (1 - fh) * ((1 - fw) * at(d1, h0, w0) + fw * at(d1, h0, w1)) + fh * ((1 - fw) * at(d1, h1, w0) + fw * at(d1, h1, w1));
        out[o] = (1 - fd) * c0 + fd * c1;
      }
    }
  }
  if (inside === 0) throw new Error(`cannot register ${describeGrid(moving)} onto ${describeGrid(reference)}: they do not overlap in scanner coordinates`);
  const affine = reference.affine.map((r) => [...r]);
  return {
    ...moving,
    data: out,
    shape: [D2, H2, W2],
    affine,
    spacing: affineSpacing(affine),
    orientation: axisCodes(affine),
    meta: { ...moving.meta, resampledOnto: reference.source, overlap: inside / out.length },
  };
}

/** Options of {@link stackSequences}. */
export interface StackSequencesOptions {
  /** How volumes on other grids are brought onto the first one's (default 'resample'). */
  registration?: Registration;
  /** A name per volume (`pre`, `post`), for the result's `meta.sequences` and error messages. */
  names?: readonly string[];
}

/**
 * Stacks one-channel volumes of one study as the channels of one volume on the first one's grid
 * (see {@link Registration}): `data` `[C, D, H, W]`, `channels` C, the first volume's geometry.
 * `meta.sequences` lists each channel's name, source and whether it was resampled.
 *
 * @example
 * const both = stackSequences([await readVolume('pre.nii.gz'), await readVolume('post.nii.gz')], { names: ['pre', 'post'] });
 * both.channels; // 2
 */
export function stackSequences(volumes: readonly Volume[], options: StackSequencesOptions = {}): Volume {
  if (volumes.length === 0) throw new Error('stackSequences: expected at least one volume, got none');
  const registration = options.registration ?? 'resample';
  if (registration !== 'same-grid' && registration !== 'resample') throw new Error(`stackSequences: registration must be 'same-grid' or 'resample', got '${String(registration)}'`);
  const names = options.names ?? volumes.map((_, i) => String(i));
  if (names.length !== volumes.length) throw new Error(`stackSequences: ${names.length} names for ${volumes.length} volumes`);
  const reference = volumes[0];
  const n = reference.shape[0] * reference.shape[1] * reference.shape[2];
  const data = new Float32Array(n * volumes.length);
  const sequences: { name: string; source: string; resampled: boolean }[] = [];
  volumes.forEach((v, k) => {
    if ((v.channels ?? 1) !== 1) throw new Error(`stackSequences: '${names[k]}' (${v.source}) has ${v.channels} channels; expected one per sequence`);
    let onGrid = v;
    const same = k === 0 || sameGrid(v, reference);
    if (!same) {
      if (registration === 'same-grid') {
        throw new Error(`sequences '${names[0]}' and '${names[k]}' are not on one grid: ${describeGrid(reference)} and ${describeGrid(v)}; resample them (registration 'resample') or give volumes of one grid`);
      }
      onGrid = resampleToGrid(v, reference);
    }
    if (onGrid.data.length !== n) throw new Error(`stackSequences: '${names[k]}' (${v.source}) has ${onGrid.data.length} values, [${reference.shape.join(', ')}] needs ${n}`);
    data.set(onGrid.data, k * n);
    sequences.push({ name: names[k], source: v.source, resampled: !same });
  });
  return {
    ...reference,
    data,
    channels: volumes.length,
    dtype: volumes.every((v) => v.dtype === reference.dtype) ? reference.dtype : 'float32',
    source: volumes.length === 1 ? reference.source : sequences.map((s) => `${s.name}=${s.source}`).join(' + '),
    meta: { ...reference.meta, sequences },
  };
}
