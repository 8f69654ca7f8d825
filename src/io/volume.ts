/**
 * The common in-memory volume every reader returns, and the one orientation convention of mst-ts.
 *
 * Conventions (all readers, all transforms):
 * - Voxels are `[D, H, W]` row-major: `data[(d * H + h) * W + w]`. D is the slice axis.
 * - `affine` is 4x4 and maps a voxel index `(d, h, w, 1)` to world millimetres in **RAS+**, as
 *   NIfTI and nibabel: +x = patient's Right, +y = Anterior, +z = Superior. DICOM's LPS+ is
 *   converted on read by negating x and y.
 * - `orientation` names, for D, H and W in turn, the world direction each axis increases toward
 *   (nibabel's axis codes), e.g. `'SPL'`: slices go inferior to superior, rows posterior, columns
 *   to the patient's left.
 * - After {@link toCanonical} (which {@link readVolume} applies unless asked not to), D is the
 *   acquisition's through-plane axis and each slice is laid out as a radiologist views it:
 *   axial `'SPL'` (anterior at the top, patient's right on the image's left), coronal `'AIL'`
 *   (superior at the top), sagittal `'LIP'` (superior at the top, anterior on the left).
 *   Reorientation only permutes and flips axes; it never interpolates.
 */

/** `[D, H, W]`. */
export type VolumeShape = [number, number, number];

/** A 4x4 matrix as rows. */
export type Affine = number[][];

/** A volume with its geometry. */
export interface Volume {
  /**
   * Voxels `[D, H, W]`, row-major, with any rescale slope/intercept already applied; `[C, D, H, W]`
   * for a multi-sequence volume ({@link channels}).
   */
  data: Float32Array;
  /**
   * Channels: volumes of several sequences on this one grid (pre/post contrast, T1/T2), stored one
   * after the other. Absent means 1; readers return one channel, `stackSequences` several.
   */
  channels?: number;
  /** `[D, H, W]`. */
  shape: VolumeShape;
  /** Millimetres between voxel centres along `[D, H, W]` (column norms of `affine`). */
  spacing: VolumeShape;
  /** Voxel `(d, h, w, 1)` to RAS+ millimetres, 4x4 rows. */
  affine: Affine;
  /** Axis codes of D, H, W, e.g. `'SPL'` (see the module notes). */
  orientation: string;
  /** Element type stored in the file (`'uint8'`, `'int16'`, `'float32'`, ...). */
  dtype: string;
  /** Where it came from (a path or a description). */
  source: string;
  /** Format-specific facts (`format`, `seriesInstanceUid`, `slices`, `sformCode`, ...). */
  meta: Record<string, unknown>;
}

const CODES: [string, string][] = [
  ['R', 'L'],
  ['A', 'P'],
  ['S', 'I'],
];

/**
 * Axis codes of the three voxel axes of `affine`: for each axis, the world axis its direction is
 * closest to (each world axis used once, largest components first) and the sign.
 *
 * @example
 * axisCodes([[0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]); // returns 'SPL'
 */
export function axisCodes(affine: Affine): string {
  const used = new Set<number>();
  const codes = ['', '', ''];
  // Greedy by largest absolute component, so near-oblique directions still get distinct codes.
  const entries: [number, number, number][] = [];
  for (let v = 0; v < 3; v++) {
    const norm = Math.hypot(affine[0][v], affine[1][v], affine[2][v]) || 1;
    for (let w = 0; w < 3; w++) entries.push([Math.abs(affine[w][v]) / norm, v, w]);
  }
  entries.sort((a, b) => b[0] - a[0]);
  const done = new Set<number>();
  for (const [, v, w] of entries) {
    if (done.has(v) || used.has(w)) continue;
    codes[v] = affine[w][v] >= 0 ? CODES[w][0] : CODES[w][1];
    done.add(v);
    used.add(w);
  }
  return codes.join('');
}

/** Column norms of the 3x3 part of `affine`: the voxel spacing along each voxel axis. */
export function affineSpacing(affine: Affine): VolumeShape {
  return [0, 1, 2].map((v) => Math.hypot(affine[0][v], affine[1][v], affine[2][v])) as VolumeShape;
}

/**
 * Permutes and flips the axes of `volume` (every channel alike): output axis `i` is input axis
 * `perm[i]`, reversed when `flips[i]`. The affine is updated so every voxel keeps its world position.
 *
 * @example
 * permuteFlip(vol, [2, 1, 0], [false, false, true]);
 */
export function permuteFlip(volume: Volume, perm: readonly number[], flips: readonly boolean[]): Volume {
  const sorted = [...perm].sort();
  if (perm.length !== 3 || sorted.join() !== '0,1,2') throw new Error(`permuteFlip: perm must be a permutation of [0, 1, 2], got [${perm.join(', ')}]`);
  const inShape = volume.shape;
  const shape = perm.map((a) => inShape[a]) as VolumeShape;
  const n = inShape[0] * inShape[1] * inShape[2];
  const channels = volume.channels ?? 1;
  if (volume.data.length !== n * channels) throw new Error(`permuteFlip: ${volume.source} has ${volume.data.length} values, [${inShape.join(', ')}] x ${channels} channel(s) needs ${n * channels}`);
  const inStrides = [inShape[1] * inShape[2], inShape[2], 1];
  // Walk the output in order; each output axis moves the input offset by its (signed) stride.
  const step = perm.map((a, i) => (flips[i] ? -inStrides[a] : inStrides[a]));
  const base = perm.reduce((acc, a, i) => acc + (flips[i] ? (inShape[a] - 1) * inStrides[a] : 0), 0);
  const out = new Float32Array(volume.data.length);
  let o = 0;
  for (let c = 0; c < channels; c++) {
    const src = volume.data.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < shape[0]; i++) {
      for (let j = 0; j < shape[1]; j++) {
        let k0 = base + i * step[0] + j * step[1];
        for (let k = 0; k < shape[2]; k++, o++, k0 += step[2]) out[o] = src[k0];
      }
    }
  }
  const a = volume.affine;
  const affine: Affine = [0, 1, 2, 3].map((r) => [0, 0, 0, r === 3 ? 1 : a[r][3]]);
  perm.forEach((src, i) => {
    for (let r = 0; r < 3; r++) {
      // `+ 0` turns -0 into 0, so printed affines stay clean.
      affine[r][i] = flips[i] ? -a[r][src] + 0 : a[r][src];
      if (flips[i]) affine[r][3] += a[r][src] * (inShape[src] - 1);
    }
  });
  for (let c = 0; c < 3; c++) affine[3][c] = 0;
  return { ...volume, data: out, shape, affine, spacing: affineSpacing(affine), orientation: axisCodes(affine) };
}

/** The display layout per acquisition plane: the codes D, H, W should end up with. */
export const CANONICAL_ORIENTATION = { axial: 'SPL', coronal: 'AIL', sagittal: 'LIP' } as const;

/** The acquisition plane whose normal is closest to voxel axis `sliceAxis` of `affine`. */
export function acquisitionPlane(affine: Affine, sliceAxis: number): 'axial' | 'coronal' | 'sagittal' {
  const code = axisCodes(affine)[sliceAxis];
  return code === 'R' || code === 'L' ? 'sagittal' : code === 'A' || code === 'P' ? 'coronal' : 'axial';
}

/**
 * The axis permutation and flips that {@link toCanonical} applies to a volume with this affine:
 * output axis `i` is input axis `perm[i]`, reversed where `flips[i]`.
 *
 * @example
 * canonicalPermutation(niftiAffine, 2); // { perm: [2, 1, 0], flips: [false, true, true] }
 */
export function canonicalPermutation(affine: Affine, sliceAxis = 0): { perm: number[]; flips: boolean[] } {
  const plane = acquisitionPlane(affine, sliceAxis);
  const target = CANONICAL_ORIENTATION[plane];
  const codes = axisCodes(affine);
  const opposite: Record<string, string> = { R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' };
  const perm: number[] = [];
  const flips: boolean[] = [];
  for (const want of target) {
    const same = codes.indexOf(want);
    const src = same >= 0 ? same : codes.indexOf(opposite[want]);
    perm.push(src);
    flips.push(same < 0);
  }
  return { perm, flips };
}

/**
 * Reorients to the mst-ts convention: D becomes the through-plane axis `sliceAxis` (the axis the
 * slices were stacked along: NIfTI's third voxel axis or the DICOM stacking direction, which the
 * readers put first), and H, W follow the radiological display layout of that plane (see the
 * module notes). Only permutations and flips: voxel values are untouched.
 *
 * @example
 * const v = toCanonical(await readNifti('t1.nii.gz', { canonical: false }));
 * v.orientation; // 'SPL' for an axial acquisition
 */
export function toCanonical(volume: Volume, sliceAxis = 0): Volume {
  const { perm, flips } = canonicalPermutation(volume.affine, sliceAxis);
  if (perm.every((p, i) => p === i) && flips.every((f) => !f)) return { ...volume, orientation: axisCodes(volume.affine) };
  return permuteFlip(volume, perm, flips);
}

/** Minimum, maximum and mean of the voxels. */
export function volumeStats(volume: Pick<Volume, 'data'>): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const d = volume.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / d.length };
}

/** Throws an error naming `source` and the first NaN or infinite voxel's `(d, h, w)` index, if any. */
export function assertFiniteVoxels(volume: Pick<Volume, 'data' | 'shape' | 'source'>): void {
  const d = volume.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const [, H, W] = volume.shape;
      const idx = [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];
      throw new Error(`${volume.source}: voxel (d, h, w) = (${idx.join(', ')}) is ${d[i]}; expected finite values (pass allowNonFinite to keep them)`);
    }
  }
}

/**
 * A volume of a plain `[D, H, W]` array with assumed geometry: a diagonal affine of `spacing`
 * (default 1 mm) and `meta.geometry = 'assumed'`, so preprocessing takes it as stored (no
 * reorientation), as `readVolume` does for `.npy` files.
 *
 * @example
 * const v = arrayVolume(new Float32Array(8 * 16 * 16), [8, 16, 16], { spacing: [3, 0.7, 0.7] });
 */
export function arrayVolume(data: Float32Array, shape: VolumeShape, options: { spacing?: VolumeShape; source?: string; dtype?: string } = {}): Volume {
  const n = shape[0] * shape[1] * shape[2];
  if (data.length !== n) throw new Error(`arrayVolume: ${data.length} values do not fill [${shape.join(', ')}] (${n})`);
  const [sd, sh, sw] = options.spacing ?? [1, 1, 1];
  const affine: Affine = [
    [sd, 0, 0, 0],
    [0, sh, 0, 0],
    [0, 0, sw, 0],
    [0, 0, 0, 1],
  ];
  return {
    data,
    shape: [shape[0], shape[1], shape[2]],
    spacing: affineSpacing(affine),
    affine,
    orientation: axisCodes(affine),
    dtype: options.dtype ?? 'float32',
    source: options.source ?? 'array',
    meta: { geometry: 'assumed' },
  };
}
