import { writeNifti } from '../../io/nifti';
import { Rng } from '../../utils/rng';
import { splitChannels, type Shape3, type VolumeSample } from '../sample';
import { combineSequences } from '../sequences';
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
  /**
   * Also write each breast's crop of the two phases, `pre.nii.gz` and `post.nii.gz` beside
   * `sub.nii.gz` (the same grid), for `dukeManifest(root, { input: 'phases' })`, whose cases the
   * library subtracts itself (the `duke-phases` preprocessing); default false.
   */
  phases?: boolean;
}

/**
 * The paper's DUKE preprocessing for one patient: subtraction image (first post-contrast minus
 * pre-contrast; a post-contrast series on another grid is first resampled onto the pre-contrast
 * one's by position), trilinear resampling to 0.7 x 0.7 x 3 mm, split into the patient's left and
 * right halves, and a centred crop or pad (minimum padding) of each to 224 x 224 x 32. Volumes are
 * read in the mst-ts orientation (axial `'SPL'`: columns run toward the patient's left, so the
 * patient's right breast is the image's left half). With `phases`, each phase is cropped alike
 * beside the subtraction. Returns the written subtraction paths.
 *
 * @example
 * await prepareDukeBreasts({ pre: 'Breast_MRI_001/pre', post: 'Breast_MRI_001/post_1', outDir: 'duke', uid: '001' });
 */
export async function prepareDukeBreasts(options: PrepareDukeOptions): Promise<{ left: string; right: string }> {
  const fs = await import('node:fs/promises');
  // Loaded lazily: the readers pull in tfjs (through npy), the rest of mst-ts/data does not.
  const { readVolume } = await import('../../io/read_volume');
  const [pre, post] = await Promise.all([readVolume(options.pre), readVolume(options.post)]);
  // Channels: the subtraction, then (with `phases`) each phase, all on the pre-contrast grid.
  const channels = [{ subtract: ['post', 'pre'] as [string, string] }, ...(options.phases ? [{ sequence: 'pre' }, { sequence: 'post' }] : [])];
  const both = combineSequences({ pre, post }, { names: ['pre', 'post'], channels, registration: 'resample' });
  const input: VolumeSample = { id: `${options.pre} + ${options.post}`, data: both.data, shape: both.shape, spacing: both.spacing, label: 0, ...(both.channels ? { channels: both.channels } : {}) };
  const target = options.spacing ?? [3, 0.7, 0.7];
  const resampled = new Resample(target).apply(input, new Rng(0));
  // Resample keeps voxel 0 in place and scales the index axes: the affine's columns scale alike.
  const affine = both.affine.map((row, r) => (r < 3 ? [0, 1, 2].map((c) => (row[c] * target[c]) / input.spacing[c]).concat(row[3]) : row.slice()));
  const [D, H, W] = resampled.shape;
  const half = Math.floor(W / 2);
  const size = options.size ?? [32, 224, 224];
  const names = ['sub', ...(options.phases ? ['pre', 'post'] : [])];
  const out: Record<'left' | 'right', string> = { left: '', right: '' };
  for (const side of ['right', 'left'] as const) {
    const w0 = side === 'right' ? 0 : half;
    const w1 = side === 'right' ? half : W;
    const parts = splitChannels(resampled).map((one): VolumeSample => {
      const data = new Float32Array(D * H * (w1 - w0));
      for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) data.set(one.data.subarray((d * H + h) * W + w0, (d * H + h) * W + w1), (d * H + h) * (w1 - w0));
      return { ...one, data, shape: [D, H, w1 - w0] };
    });
    const crop = new CropOrPad(size, { centre: 'centre' });
    const start = crop.start(parts[0], new Rng(0));
    // The crop's first voxel is (start + [0, 0, w0]) in the resampled grid.
    const shift = [start[0], start[1], start[2] + w0];
    const a = affine.map((row, r) => (r < 3 ? [row[0], row[1], row[2], row[3] + row[0] * shift[0] + row[1] * shift[1] + row[2] * shift[2]] : row));
    const dir = `${options.outDir}/data/Breast_MRI_${options.uid}_${side}`;
    await fs.mkdir(dir, { recursive: true });
    out[side] = `${dir}/sub.nii.gz`;
    for (const [k, part] of parts.entries()) {
      const cropped = crop.apply(part, new Rng(0));
      await writeNifti(`${dir}/${names[k]}.nii.gz`, { data: cropped.data, shape: cropped.shape, affine: a });
    }
  }
  return out;
}
