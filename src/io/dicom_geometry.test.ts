import { dicomElement, dicomFile, dicomImage } from '../../test/dicom_builder';
import { dicomImagesToVolume, parseDicom, type DicomImage } from './dicom';

// A 3 x 2 slice whose pixels are `base + i`, at `position`, with the given orientation.
function slice(name: string, position: number[] | null, options: { base?: number; orientation?: number[] | null; instance?: number; spacing?: number } = {}): DicomImage {
  const px = new Uint8Array(12);
  for (let i = 0; i < 6; i++) px[2 * i] = (options.base ?? 0) + i;
  const extra: [number, Uint8Array][] = [[0x00280030, dicomElement(0x00280030, 'DS', `${options.spacing ?? 1}\\${options.spacing ?? 1}`)]];
  if (position) extra.push([0x00200032, dicomElement(0x00200032, 'DS', position.join('\\'))]);
  const orientation = options.orientation === undefined ? [1, 0, 0, 0, 1, 0] : options.orientation;
  if (orientation) extra.push([0x00200037, dicomElement(0x00200037, 'DS', orientation.join('\\'))]);
  if (options.instance !== undefined) extra.push([0x00200013, dicomElement(0x00200013, 'IS', String(options.instance))]);
  return parseDicom(dicomFile(dicomImage(3, 2, px, extra)), name);
}

describe('DICOM slice geometry', () => {
  it('orders slices by position along the normal, not by file name or InstanceNumber', () => {
    // Sagittal: rows along -z... the normal is row x column = (0,1,0) x (0,0,-1) = (-1, 0, 0).
    const sag = [0, 1, 0, 0, 0, -1];
    const images = [slice('a.dcm', [5, 0, 0], { base: 50, orientation: sag, instance: 1 }), slice('b.dcm', [-5, 0, 0], { base: 150, orientation: sag, instance: 3 }), slice('c.dcm', [0, 0, 0], { base: 100, orientation: sag, instance: 2 })];
    const v = dicomImagesToVolume(images, 'sag', { canonical: false });
    // Along (-1, 0, 0): x = 5 first, then 0, then -5.
    expect(v.meta.files).toEqual(['a.dcm', 'c.dcm', 'b.dcm']);
    expect([v.data[0], v.data[6], v.data[12]]).toEqual([50, 100, 150]);
    expect(v.spacing[0]).toBeCloseTo(5, 9);
    // Slice axis in RAS: LPS (-5, 0, 0) is RAS (+5, 0, 0).
    expect(v.affine.map((r) => r[0])).toEqual([5, 0, 0, 0]);
  });

  it('refuses missing positions or orientations, naming the files', () => {
    expect(() => dicomImagesToVolume([slice('a.dcm', [0, 0, 0]), slice('b.dcm', null), slice('c.dcm', [0, 0, 2])], 's')).toThrow(
      "s: 'b.dcm' has no ImagePositionPatient (0020,0032); mst-ts orders slices by position along the slice normal and will not guess the order from file names or InstanceNumber",
    );
    expect(() => dicomImagesToVolume([slice('a.dcm', [0, 0, 0], { orientation: null }), slice('b.dcm', [0, 0, 1], { orientation: null })], 's')).toThrow(
      "s: 'a.dcm' and 'b.dcm' have no ImageOrientationPatient (0020,0037)",
    );
    // One image needs neither.
    expect(dicomImagesToVolume([slice('one.dcm', null, { orientation: null })], 's', { canonical: false }).shape).toEqual([1, 3, 2]);
  });

  it('refuses mixed orientations and duplicated positions, naming the files', () => {
    expect(() => dicomImagesToVolume([slice('ax.dcm', [0, 0, 0]), slice('loc.dcm', [0, 0, 1], { orientation: [0, 1, 0, 0, 0, -1] })], 's')).toThrow(
      "s: 'loc.dcm' has ImageOrientationPatient [0, 1, 0, 0, 0, -1] but 'ax.dcm' has [1, 0, 0, 0, 1, 0]; images of mixed orientations",
    );
    expect(() => dicomImagesToVolume([slice('a.dcm', [0, 0, 0]), slice('b.dcm', [0, 0, 2]), slice('c.dcm', [1, 1, 2])], 's')).toThrow(
      "s: 'b.dcm' and 'c.dcm' share one position along the slice normal (2.000 mm): duplicated slices, or several phases or acquisitions of one series",
    );
  });

  it('refuses uneven gaps, keeps them on request, or resamples them linearly', () => {
    const images = [0, 1, 2, 4].map((z, k) => slice(`s${k}.dcm`, [0, 0, z], { base: 10 * k }));
    expect(() => dicomImagesToVolume(images, 's')).toThrow("s: slice gaps vary from 1.000 to 2.000 mm (median 1.000; e.g. 2.000 mm between 's2.dcm' and 's3.dcm')");
    const kept = dicomImagesToVolume(images, 's', { canonical: false, irregularSpacing: 'keep' });
    expect(kept.shape).toEqual([4, 3, 2]);
    expect(kept.meta.irregularSliceSpacing).toBe(true);
    const even = dicomImagesToVolume(images, 's', { canonical: false, irregularSpacing: 'resample' });
    expect(even.shape).toEqual([5, 3, 2]);
    expect(even.spacing[0]).toBe(1);
    // z = 3 lies halfway between the slices at z = 2 (base 20) and z = 4 (base 30).
    expect(Array.from(even.data.subarray(18, 24))).toEqual([25, 26, 27, 28, 29, 30]);
    expect(Array.from(even.data.subarray(24, 30))).toEqual([30, 31, 32, 33, 34, 35]);
    expect(even.meta.resampled).toEqual(['uneven slice gaps: 4 slices resampled linearly to 5 at 1.000 mm']);
    // Within the tolerance (1 % of the gap), rounding in the positions is no irregularity.
    expect(dicomImagesToVolume([0, 2.5, 5.004].map((z, k) => slice(`r${k}.dcm`, [0, 0, z])), 's').shape[0]).toBe(3);
  });

  it('refuses a gantry tilt, or shifts each slice onto the first one\'s grid', () => {
    // Each slice 1 mm further along +y (the column direction: one row) per 2 mm along z.
    const images = [0, 1, 2].map((k) => slice(`t${k}.dcm`, [0, k, 2 * k], { base: 10 * k + 1 }));
    expect(() => dicomImagesToVolume(images, 's')).toThrow(
      "s: slices from 't0.dcm' to 't2.dcm' drift 2.00 mm in plane over 4.00 mm along the normal: a gantry tilt of 26.57 degrees",
    );
    const v = dicomImagesToVolume(images, 's', { canonical: false, gantryTilt: 'resample' });
    expect(v.shape).toEqual([3, 3, 2]);
    expect(v.spacing[0]).toBe(2);
    // Slice k's row r sits at row r + k of the first slice's grid; uncovered rows take the minimum (1).
    expect(Array.from(v.data.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(v.data.subarray(6, 12))).toEqual([1, 1, 11, 12, 13, 14]);
    expect(Array.from(v.data.subarray(12, 18))).toEqual([1, 1, 1, 1, 21, 22]);
    expect(v.meta.resampled).toEqual(["gantry tilt of 26.57 degrees: slices shifted in plane onto the first slice's grid"]);
  });
});
