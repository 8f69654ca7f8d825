import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturePath } from '../../test/helpers';
import { readVolume } from './read_volume';
import { acquisitionPlane, assertFiniteVoxels, axisCodes, permuteFlip, toCanonical, volumeStats, type Volume } from './volume';

const vol = (affine: number[][], shape: [number, number, number] = [2, 3, 4]): Volume => ({
  data: Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => i),
  shape,
  spacing: [1, 1, 1],
  affine,
  orientation: axisCodes(affine),
  dtype: 'float32',
  source: 'test',
  meta: {},
});

describe('axisCodes', () => {
  it('names the direction each voxel axis increases toward', () => {
    expect(axisCodes([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])).toBe('RAS');
    expect(axisCodes([[0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]])).toBe('SPL');
    // Oblique by 30 degrees still maps to the nearest axes.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    expect(axisCodes([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])).toBe('RAS');
  });
});

describe('permuteFlip', () => {
  it('moves voxels and keeps their world positions', () => {
    const v = vol([[2, 0, 0, 10], [0, 3, 0, 20], [0, 0, 4, 30], [0, 0, 0, 1]]);
    const p = permuteFlip(v, [2, 0, 1], [true, false, false]);
    expect(p.shape).toEqual([4, 2, 3]);
    // Output (a, b, c) = input (d = b, h = c, w = 3 - a).
    expect(p.data[(1 * 2 + 1) * 3 + 2]).toBe(v.data[(1 * 3 + 2) * 4 + 2]);
    expect(p.affine).toEqual([
      [0, 2, 0, 10],
      [0, 0, 3, 20],
      [-4, 0, 0, 42],
      [0, 0, 0, 1],
    ]);
    expect(p.spacing).toEqual([4, 2, 3]);
    expect(() => permuteFlip(v, [0, 0, 1], [false, false, false])).toThrow('perm must be a permutation of [0, 1, 2], got [0, 0, 1]');
  });
});

describe('toCanonical', () => {
  it.each([
    // NIfTI-style RAS voxel axes stored as (d, h, w) = (k, j, i): axial slices.
    ['axial', [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], 'SPL'],
    // DICOM coronal: slices along A, rows toward I, columns toward L (RAS: -x).
    ['coronal', [[0, 0, -1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]], 'AIL'],
    // Sagittal: slices along R, rows toward I, columns toward A.
    ['sagittal', [[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], 'LIP'],
  ] as const)('lays out %s stacks as a radiologist views them', (plane, affine, code) => {
    const v = vol(affine.map((r) => [...r]));
    expect(acquisitionPlane(v.affine, 0)).toBe(plane);
    const c = toCanonical(v);
    expect(c.orientation).toBe(code);
    expect(c.shape[0]).toBe(2);
    expect(volumeStats(c)).toEqual(volumeStats(v));
  });
});

describe('volumeStats and assertFiniteVoxels', () => {
  it('summarises and names the first bad voxel', () => {
    const v = vol([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], [1, 2, 2]);
    expect(volumeStats(v)).toEqual({ min: 0, max: 3, mean: 1.5 });
    v.data[3] = NaN;
    expect(() => assertFiniteVoxels(v)).toThrow('test: voxel (d, h, w) = (0, 1, 1) is NaN');
  });
});

describe('readVolume', () => {
  it('dispatches on extension and folder', async () => {
    expect((await readVolume(fixturePath('volumes', 'standard.nii.gz'))).meta.format).toBe('nifti1');
    expect((await readVolume(fixturePath('volumes', 'dicom_ct2'), { irregularSpacing: 'keep' })).meta.format).toBe('dicom');
    expect((await readVolume(fixturePath('volumes', 'CT_small.dcm'))).shape).toEqual([1, 128, 128]);
    await expect(readVolume(fixturePath('volumes', 'missing.nii'))).rejects.toThrow(/cannot read '.*missing\.nii': no such file or folder/);
  });

  it('chooses the reader by content, the extension only a fallback', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-content-'));
    try {
      const nifti = fs.readFileSync(fixturePath('volumes', 'standard.nii.gz'));
      const want = await readVolume(fixturePath('volumes', 'standard.nii.gz'));
      for (const name of ['scan.npy', 'scan.dcm', 'scan']) {
        fs.writeFileSync(path.join(dir, name), nifti);
        const got = await readVolume(path.join(dir, name));
        expect(got.meta.format).toBe('nifti1');
        expect(got.shape).toEqual(want.shape);
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
      }
      // An uncompressed NIfTI (no gzip magic) is found by its header size too.
      fs.copyFileSync(fixturePath('volumes', 'qform_scaled.nii'), path.join(dir, 'plain.npy'));
      expect((await readVolume(path.join(dir, 'plain.npy'))).meta.format).toBe('nifti1');
      fs.copyFileSync(fixturePath('volumes', 'CT_small.dcm'), path.join(dir, 'slice.nii'));
      expect((await readVolume(path.join(dir, 'slice.nii'))).meta.format).toBe('dicom');
      // Content nobody recognises: the extension chooses, else an error listing the formats.
      fs.writeFileSync(path.join(dir, 'notes.npy'), 'hello');
      await expect(readVolume(path.join(dir, 'notes.npy'))).rejects.toThrow(/notes\.npy: not a NumPy \.npy file/);
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
      await expect(readVolume(path.join(dir, 'notes.txt'))).rejects.toThrow(
        /notes\.txt: not a volume file \(first bytes 68 65 6c 6c 6f\); expected NIfTI \(\.nii, \.nii\.gz\), DICOM \(\.dcm or a folder of them\) or a NumPy array \(\.npy\)/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('reads an MRNet-style uint8 .npy with assumed geometry', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-npy-'));
    try {
      const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }";
      const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
      const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
      const file = path.join(dir, '0000.npy');
      fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255])]));
      const v = await readVolume(file, { spacing: [3, 0.5, 0.5] });
      expect(v.shape).toEqual([2, 2, 3]);
      expect(v.dtype).toBe('uint8');
      expect(v.spacing).toEqual([3, 0.5, 0.5]);
      expect(v.data[11]).toBe(255);
      expect(v.meta.geometry).toBe('assumed');
      fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.from([0, 1, 2])]));
      await expect(readVolume(file)).rejects.toThrow(/0000\.npy: uint8\[2, 2, 3\] needs 12 data bytes but the file has 3/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
