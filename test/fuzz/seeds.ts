/** The seed files of each fuzz target: real files from the repository's fixtures and, optionally, the system's. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './pool';

const NIBABEL = '/usr/lib/python3/dist-packages/nibabel/tests/data';
const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

const fixtures = (...parts: string[]): string => path.join(ROOT, 'test', 'fixtures', ...parts);

function files(dir: string, pattern: RegExp, maxBytes = 256 * 1024): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => pattern.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile() && fs.statSync(f).size <= maxBytes)
    .sort();
}

const DICOM_OK = /^(CT_small|MR_small|MR_small_bigendian|MR_small_implicit|MR_small_RLE|MR_small_expb|MR_small_padded|liver_1frame|rtdose_1frame|rtdose_rle_1frame|image_dfl|emri_small|emri_small_RLE|emri_small_big_endian|MR2_UNCI|CT_small_deflated)\.dcm$/;

// One file of each compressed syntax the codecs decode.
const COMPRESSED = ['ct_jpegls', 'ct_jpegls_near', 'ct_j2k', 'ct_j2k_lossy', 'ct_htj2k', 'ct_jpeg_lossless', 'mr8_baseline', 'signed_j2k'];

/**
 * Seed paths of `target`. With `system`, the test data of Debian's python3-nibabel and
 * python3-pydicom join the repository's own (where installed).
 */
export function seedFiles(target: string, system = false): string[] {
  const own = files(fixtures('fuzz', 'seeds', target), /./);
  switch (target) {
    case 'nifti':
      return [...files(fixtures('volumes'), /\.nii(\.gz)?$/), ...own, ...(system ? files(NIBABEL, /\.nii(\.gz)?$/) : [])];
    case 'dicom':
    case 'dicom-series':
      return [...files(fixtures('volumes'), /\.dcm$/), ...files(fixtures('volumes', 'dicom_ct2'), /./), ...COMPRESSED.flatMap((d) => files(fixtures('dicom', d), /^(im0|mr8|signed)\.dcm$/)), ...own, ...(system ? files(PYDICOM, DICOM_OK) : [])];
    case 'web':
      return [...seedFiles('nifti', system).filter((f) => f.endsWith('.gz')), ...files(fixtures('volumes', 'dicom_ct2'), /./)];
    case 'npy':
      return [...files(fixtures('checkpoints', 'npy'), /\.npy$/), ...own];
    case 'safetensors':
      return [...files(fixtures('checkpoints'), /\.safetensors$/, 32 * 1024), ...own];
    case 'torch':
      return [...files(fixtures('checkpoints'), /\.(pth|ckpt|bin)$/, 64 * 1024), ...own];
    case 'pretrained':
    case 'bundle':
    case 'csv':
      return own;
    default:
      throw new Error(`no fuzz target '${target}'`);
  }
}

/** The series the `dicom-series` and `web` targets complete an input with. */
export const DICOM_SERIES = (): string[] => files(fixtures('volumes', 'dicom_ct2'), /./);

/** Weights the `bundle` target rebuilds each mutated JSON with. */
export const BUNDLE_WEIGHTS = (): string => fixtures('fuzz', 'seeds', 'pretrained', 'resnet3d-tiny.safetensors');
