import { readDicomSeries, type DicomReadOptions } from './dicom';
import { readBytes } from './files';
import { isGzip, parseNifti, type NiftiReadOptions } from './nifti';
import { parseNpy } from './npy';
import { arrayVolume, assertFiniteVoxels, type Volume, type VolumeShape } from './volume';

/** Options of {@link readVolume}: those of every reader, plus the geometry of `.npy` arrays. */
export interface ReadVolumeOptions extends NiftiReadOptions, DicomReadOptions {
  /**
   * Voxel spacing `[D, H, W]` in mm for formats without geometry (`.npy`); default `[1, 1, 1]`.
   * Such volumes get a diagonal affine and `meta.geometry = 'assumed'`.
   */
  spacing?: VolumeShape;
}

/**
 * Reads a volume from a path, choosing the reader by content (magic bytes), with the extension
 * only a fallback for files without one: a folder is a DICOM series; `\x93NUMPY` a NumPy array
 * `[D, H, W]` (MRNet's layout; `[H, W]` becomes one slice); gzip or a NIfTI header (`sizeof_hdr`
 * 348 or 540) NIfTI; `DICM` at byte 128 a DICOM file; then `.npy`, `.nii`, `.nii.gz` and `.dcm`
 * by name. A `.hdr` names its `.img` pair. NIfTI and DICOM come back in the mst-ts orientation
 * convention (see `volume.ts`): D is the slice axis. Errors name the file.
 *
 * @example
 * const v = await readVolume('MRNet-v1.0/train/sagittal/0000.npy', { spacing: [3, 0.5, 0.5] });
 * const ct = await readVolume('LIDC-IDRI-0001/.../3000566-03192'); // a DICOM folder
 */
export async function readVolume(path: string, options: ReadVolumeOptions = {}): Promise<Volume> {
  const fs = await import('node:fs/promises');
  let isDir = false;
  try {
    isDir = (await fs.stat(path)).isDirectory();
  } catch {
    throw new Error(`cannot read '${path}': no such file or folder`);
  }
  if (isDir) return readDicomSeries(path, options);
  if (/\.hdr(\.gz)?$/i.test(path)) {
    const image = await readBytes(path.replace(/\.hdr(\.gz)?$/i, '.img$1'));
    return parseNifti(await readBytes(path), path, options, image);
  }
  const bytes = await readBytes(path);
  switch (formatByContent(bytes) ?? formatByName(path)) {
    case 'npy':
      return npyVolume(bytes, path, options);
    case 'nifti':
      return parseNifti(bytes, path, options);
    case 'dicom':
      return readDicomSeries(path, options);
    default: {
      const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new Error(`${path}: not a volume file (first bytes ${hex || '(empty)'}); expected NIfTI (.nii, .nii.gz), DICOM (.dcm or a folder of them) or a NumPy array (.npy)`);
    }
  }
}

type VolumeFormat = 'npy' | 'nifti' | 'dicom';

/** The format a file's magic bytes announce, or null. */
function formatByContent(bytes: Uint8Array): VolumeFormat | null {
  if (bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY') return 'npy';
  if (isGzip(bytes)) return 'nifti';
  if (bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM') return 'dicom';
  if (bytes.length >= 348) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if ([348, 540].some((n) => view.getInt32(0, true) === n || view.getInt32(0, false) === n)) return 'nifti';
  }
  return null;
}

/** The format a file's extension names, or null. */
function formatByName(path: string): VolumeFormat | null {
  if (/\.npy$/i.test(path)) return 'npy';
  if (/\.nii(\.gz)?$/i.test(path)) return 'nifti';
  if (/\.dcm$/i.test(path)) return 'dicom';
  return null;
}

function npyVolume(bytes: Uint8Array, source: string, options: ReadVolumeOptions): Volume {
  const npy = parseNpy(bytes, source);
  const shape = npy.shape.filter((n, i) => !(n === 1 && npy.shape.length > 3 && i < npy.shape.length - 3));
  let s3: VolumeShape;
  if (shape.length === 3) s3 = [shape[0], shape[1], shape[2]];
  else if (shape.length === 2) s3 = [1, shape[0], shape[1]];
  else throw new Error(`${source}: expected a [D, H, W] or [H, W] array, got shape [${npy.shape.join(', ')}]`);
  if (s3.some((d) => d < 1)) throw new Error(`${source}: an empty array (shape [${npy.shape.join(', ')}]) is no volume`);
  const data = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data as ArrayLike<number | bigint>, (v) => Number(v));
  const volume: Volume = arrayVolume(data, s3, { spacing: options.spacing, source, dtype: npy.dtype });
  volume.meta = { format: 'npy', geometry: 'assumed' };
  if (!options.allowNonFinite) assertFiniteVoxels(volume);
  return volume;
}
