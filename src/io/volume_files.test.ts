import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixturePath } from '../../test/helpers';
import { readDicomSeries } from './dicom';
import { readNifti } from './nifti';
import { readVolumeFromFiles, type PickedFile } from './volume_files';

/** A picked file as a browser gives it: name, folder path and bytes. */
function picked(file: string, relativePath?: string): PickedFile {
  const b = fs.readFileSync(file);
  return { name: path.basename(file), webkitRelativePath: relativePath, arrayBuffer: async () => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
}

const bytes = (name: string, data: Uint8Array | string): PickedFile => ({
  name,
  arrayBuffer: async () => {
    const u = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
  },
});

describe('readVolumeFromFiles', () => {
  test('a picked NIfTI-2 .nii.gz reads as readNifti reads the path', async () => {
    const file = fixturePath('volumes', 'example_nifti2.nii.gz');
    const [got, want] = await Promise.all([readVolumeFromFiles([picked(file)]), readNifti(file)]);
    expect(got.shape).toEqual(want.shape);
    expect(got.affine).toEqual(want.affine);
    expect(got.orientation).toBe(want.orientation);
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
  });

  test('a picked DICOM folder (shuffled, extension-less files) stacks as readDicomSeries reads the folder', async () => {
    const dir = fixturePath('volumes', 'dicom_ct2');
    const files = fs.readdirSync(dir).reverse().map((f) => picked(path.join(dir, f), `dicom_ct2/${f}`));
    const keep = { irregularSpacing: 'keep' } as const; // dicom_ct2 holds slices 18 and 180-182 of a CT
    const [got, want] = await Promise.all([readVolumeFromFiles(files, keep), readDicomSeries(dir, keep)]);
    expect(got.shape).toEqual([4, 16, 16]);
    expect(got.shape).toEqual(want.shape);
    expect(got.affine).toEqual(want.affine);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    expect(got.source).toBe('dicom_ct2/');
    expect(got.meta.series).toEqual(want.meta.series);
  });

  test('a single .dcm file is a one-slice series', async () => {
    const v = await readVolumeFromFiles([picked(fixturePath('volumes', 'CT_small.dcm'))]);
    expect(v.shape).toEqual([1, 128, 128]);
  });

  test('bad input names the file and what is expected', async () => {
    await expect(readVolumeFromFiles([])).rejects.toThrow(/no files given/);
    await expect(readVolumeFromFiles([bytes('notes.txt', 'hello')])).rejects.toThrow(/'notes.txt' is neither NIfTI .* nor DICOM/);
    const nii = fs.readFileSync(fixturePath('volumes', 'standard.nii.gz'));
    await expect(readVolumeFromFiles([bytes('a.nii.gz', nii), bytes('b.nii.gz', nii)])).rejects.toThrow(/expected one NIfTI file, got 2 \(a.nii.gz, b.nii.gz\)/);
    await expect(readVolumeFromFiles([bytes('corrupt.nii.gz', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]))])).rejects.toThrow(/^corrupt.nii.gz: /);
    await expect(readVolumeFromFiles([picked(fixturePath('volumes', 'MR_truncated.dcm'))])).rejects.toThrow(/MR_truncated.dcm/);
  });
});
