import { writeNifti } from '../../io/nifti';
import { Rng } from '../../utils/rng';
import type { Shape3, VolumeSample } from '../sample';
import { subtraction } from '../transforms/intensity';
import { CropOrPad, Resample } from '../transforms/spatial';

/** Options of {@link prepareDukeBreasts}. */
export interface PrepareDukeOptions {
  /** Pre-contrast series: a DICOM folder or a NIfTI file. */
  pre: string;
  /** First post-contrast series, on the same grid as `pre`. */
  post: string;
  /** Output root; writes `<outDir>/data/Breast_MRI_<uid>_{left,right}/sub.nii.gz`. */
  outDir: string;
  /** Patient number, e.g. `'001'`. */
  uid: string;
  /** Target spacing `[D, H, W]` in mm; default the paper's `[3, 0.7, 0.7]`. */
  spacing?: Shape3;
  /** Output size per breast `[D, H, W]`; default `[32, 224, 224]`. */
  size?: Shape3;
}

/**
 * The paper's DUKE preprocessing for one patient: subtraction image (first post-contrast minus
 * pre-contrast), trilinear resampling to 0.7 x 0.7 x 3 mm, split into the patient's left and right
 * halves, and a centred crop or pad (minimum padding) of each to 224 x 224 x 32. Volumes are read in
 * the mst-ts orientation (axial `'SPL'`: columns run toward the patient's left, so the patient's
 * right breast is the image's left half). Returns the two written paths.
 *
 * @example
 * await prepareDukeBreasts({ pre: 'Breast_MRI_001/pre', post: 'Breast_MRI_001/post_1', outDir: 'duke', uid: '001' });
 */
export async function prepareDukeBreasts(options: PrepareDukeOptions): Promise<{ left: string; right: string }> {
  const fs = await import('node:fs/promises');
  // Loaded lazily: the readers pull in tfjs (through npy), the rest of mst-ts/data does not.
  const { readVolume } = await import('../../io/read_volume');
  const [pre, post] = await Promise.all([readVolume(options.pre), readVolume(options.post)]);
  const asSample = (v: Awaited<ReturnType<typeof readVolume>>, id: string): VolumeSample => ({ id, data: v.data, shape: v.shape, spacing: v.spacing, label: 0 });
  const sub = subtraction(asSample(post, options.post), asSample(pre, options.pre));
  const target = options.spacing ?? [3, 0.7, 0.7];
  const resampled = new Resample(target).apply(sub, new Rng(0));
  // Resample keeps voxel 0 in place and scales the index axes: the affine's columns scale alike.
  const affine = post.affine.map((row, r) => (r < 3 ? [0, 1, 2].map((c) => (row[c] * target[c]) / sub.spacing[c]).concat(row[3]) : row.slice()));
  const [D, H, W] = resampled.shape;
  const half = Math.floor(W / 2);
  const size = options.size ?? [32, 224, 224];
  const out: Record<'left' | 'right', string> = { left: '', right: '' };
  for (const side of ['right', 'left'] as const) {
    const w0 = side === 'right' ? 0 : half;
    const w1 = side === 'right' ? half : W;
    const data = new Float32Array(D * H * (w1 - w0));
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) data.set(resampled.data.subarray((d * H + h) * W + w0, (d * H + h) * W + w1), (d * H + h) * (w1 - w0));
    const part: VolumeSample = { ...resampled, data, shape: [D, H, w1 - w0] };
    const crop = new CropOrPad(size, { centre: 'centre' });
    const start = crop.start(part, new Rng(0));
    const cropped = crop.apply(part, new Rng(0));
    // The crop's first voxel is (start + [0, 0, w0]) in the resampled grid.
    const shift = [start[0], start[1], start[2] + w0];
    const a = affine.map((row, r) => (r < 3 ? [row[0], row[1], row[2], row[3] + row[0] * shift[0] + row[1] * shift[1] + row[2] * shift[2]] : row));
    const dir = `${options.outDir}/data/Breast_MRI_${options.uid}_${side}`;
    await fs.mkdir(dir, { recursive: true });
    out[side] = `${dir}/sub.nii.gz`;
    await writeNifti(out[side], { data: cropped.data, shape: cropped.shape, affine: a });
  }
  return out;
}
