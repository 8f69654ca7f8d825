import * as fs from 'node:fs';
import * as path from 'node:path';
import { dicomFile, dicomImage } from '../../test/dicom_builder';
import { fixturePath, needs } from '../../test/helpers';
import { parseDicom, parseDicomAsync, readDicomSeries } from './dicom';
import { readVolumeFromFiles } from './volume_files';
import { COMPRESSED_TRANSFER_SYNTAXES, decodeCompressedFrame, encapsulatedFrames } from './dicom_codecs';

// Written by tools/reference/dicom_codecs_ref.py: a CT series of 6 slices (12 bits stored,
// intercept -1024), compressed by dcmtk and GDCM; pydicom's pixel sums of the sources.
const dir = (name: string): string => fixturePath('dicom', name);
const REF = JSON.parse(fs.readFileSync(dir('ref.json'), 'utf8')) as Record<string, { sum: number; first: number; min: number; max: number; frames: number } | string>;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('compressed DICOM', () => {
  it('reads the uncompressed source as pydicom, sorted by position whatever the file names', async () => {
    const v = await readDicomSeries(dir('ct'), { canonical: false });
    expect(v.shape).toEqual([6, 24, 20]);
    expect(v.spacing.map((s) => +s.toFixed(6))).toEqual([2.5, 0.8, 0.7]);
    expect((v.meta.files as string[]).map((f) => path.basename(f))).toEqual(['im5.dcm', 'im4.dcm', 'im3.dcm', 'im2.dcm', 'im1.dcm', 'im0.dcm']);
    const plane = 24 * 20;
    for (let k = 0; k < 6; k++) {
      const ref = REF[`ct/im${5 - k}.dcm`] as { sum: number };
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += v.data[k * plane + i] + 1024;
      expect(sum).toBe(ref.sum);
    }
  });

  it.each([
    ['ct_jpegls', '1.2.840.10008.1.2.4.80'],
    ['ct_j2k', '1.2.840.10008.1.2.4.90'],
    ['ct_jpeg_lossless', '1.2.840.10008.1.2.4.70'],
    ['ct_rle', '1.2.840.10008.1.2.5'],
    ['ct_htj2k', '1.2.840.10008.1.2.4.201'],
  ])('lossless %s decodes to the uncompressed voxels exactly', async (name, uid) => {
    expect(REF[name]).toBe(uid);
    const [plain, packed] = await Promise.all([readDicomSeries(dir('ct'), { canonical: false }), readDicomSeries(dir(name), { canonical: false })]);
    expect(packed.meta.transferSyntax).toBe(uid);
    expect(packed.shape).toEqual(plain.shape);
    expect(packed.affine).toEqual(plain.affine);
    expect(maxAbsDiff(packed.data, plain.data)).toBe(0);
  });

  it("reads a picked compressed folder (the page's reader) as Node reads the uncompressed one", async () => {
    const folder = dir('ct_j2k');
    const files = fs.readdirSync(folder).map((f) => ({ name: `ct_j2k/${f}`, arrayBuffer: async () => new Uint8Array(fs.readFileSync(path.join(folder, f))).buffer }));
    const [picked, plain] = await Promise.all([readVolumeFromFiles(files), readDicomSeries(dir('ct'))]);
    expect(picked.shape).toEqual(plain.shape);
    expect(Array.from(picked.data)).toEqual(Array.from(plain.data));
  });

  it.each([
    // name, the toolkit's own decoding, the codec's bound on the error against the source
    ['ct_jpegls_near', 'ct_jpegls_near_decoded', 2],
    ['ct_j2k_lossy', 'ct_j2k_lossy_decoded', 64],
  ])('lossy %s decodes as the toolkit that wrote it does, within its tolerance of the source', async (name, decoded, bound) => {
    const [plain, packed, theirs] = await Promise.all([readDicomSeries(dir('ct')), readDicomSeries(dir(name)), readDicomSeries(dir(decoded))]);
    expect(maxAbsDiff(packed.data, theirs.data)).toBe(0);
    const err = maxAbsDiff(packed.data, plain.data);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(bound);
  });

  it('decodes 8-bit JPEG baseline as dcmtk does (within 1 for IDCT rounding)', async () => {
    const [plain, packed, theirs] = await Promise.all([readDicomSeries(dir('mr8')), readDicomSeries(dir('mr8_baseline')), readDicomSeries(dir('mr8_baseline_decoded'))]);
    expect(packed.meta.transferSyntax).toBe('1.2.840.10008.1.2.4.50');
    expect(maxAbsDiff(packed.data, theirs.data)).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(packed.data, plain.data)).toBeLessThanOrEqual(16);
  });

  it('keeps signed JPEG 2000 samples negative', async () => {
    const [plain, packed] = await Promise.all([readDicomSeries(dir('signed')), readDicomSeries(dir('signed_j2k'))]);
    expect(plain.data.some((v) => v < 0)).toBe(true);
    expect(maxAbsDiff(packed.data, plain.data)).toBe(0);
    expect((REF['signed/signed.dcm'] as { min: number }).min).toBe(Math.min(...plain.data) + 1024); // CT: RescaleIntercept -1024
  });

  it('inverts MONOCHROME1 within its stored range', async () => {
    const file = path.join(dir('mono1'), 'mono1.dcm');
    const img = parseDicom(new Uint8Array(fs.readFileSync(file)), file);
    const v = await readDicomSeries(file, { canonical: false });
    expect(img.photometricInterpretation).toBe('MONOCHROME1');
    expect(v.data[0]).toBe(255 - img.pixels![0]);
    const ref = REF['mono1/mono1.dcm'] as { sum: number };
    expect(v.data.reduce((a, b) => a + b, 0)).toBe(64 * 255 - ref.sum);
  });

  const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
  const colour = needs(fs.existsSync(PYDICOM), "pydicom's test files", 'apt-get install python3-pydicom') ? it : it.skip;
  colour("reads pydicom's colour files as luminance of pydicom's RGB (native, RLE, 16-bit, 2 frames)", async () => {
    for (const f of ['SC_rgb_small_odd.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_rle_16bit.dcm', 'SC_rgb_rle_2frame.dcm']) {
      const ref = REF[`pydicom:${f}`] as { sum: number; first: number; frames: number };
      const img = await parseDicomAsync(new Uint8Array(fs.readFileSync(`${PYDICOM}/${f}`)), f);
      expect(img.frames).toBe(ref.frames);
      expect(img.pixels![0]).toBeCloseTo(ref.first, 3);
      expect(img.pixels!.reduce((a, b) => a + b, 0) / ref.sum).toBeCloseTo(1, 6);
    }
    // The same colour bars as JPEG baseline (YBR_FULL_422, lossy): libjpeg-turbo's RGB, within JPEG's error.
    const [rle, jpeg] = await Promise.all(['SC_rgb_rle.dcm', 'SC_rgb_jpeg_dcmtk.dcm'].map(async (f) => parseDicomAsync(new Uint8Array(fs.readFileSync(`${PYDICOM}/${f}`)), f)));
    let err = 0;
    for (let i = 0; i < rle.pixels!.length; i++) err += Math.abs(rle.pixels![i] - jpeg.pixels![i]);
    expect(err / rle.pixels!.length).toBeLessThan(2);
    const ybr422 = new Uint8Array(fs.readFileSync(`${PYDICOM}/SC_ybr_full_422_uncompressed.dcm`));
    expect(() => parseDicom(ybr422, 'y.dcm')).toThrow('y.dcm: colour pixel data in YBR_FULL_422 is not supported uncompressed (expected RGB or YBR_FULL)');
  });

  it('names a syntax whose codec is missing or that it cannot decode', async () => {
    const file = path.join(dir('ct_jpegls'), 'im0.dcm');
    const bytes = new Uint8Array(fs.readFileSync(file));
    expect(() => parseDicom(bytes, 'a.dcm')).toThrow('a.dcm: pixel data is encoded as JPEG-LS Lossless (1.2.840.10008.1.2.4.80), which needs a codec loaded asynchronously: read it with parseDicomAsync');
    expect(parseDicom(bytes, 'a.dcm', { pixels: false }).rows).toBe(24);
    expect((await parseDicomAsync(bytes, 'a.dcm')).pixels!.length).toBe(480);
    await expect(readDicomSeries(dir('ct_jpeg_extended'))).rejects.toThrow(/frame 0 \(JPEG Extended \(Process 2 & 4\)\): 12-bit lossy JPEG is not decoded/);
    const mpeg = dicomFile(dicomImage(2, 2, new Uint8Array(8)), '1.2.840.10008.1.2.4.100');
    expect(() => parseDicom(mpeg, 'm.dcm', { pixels: false })).toThrow(/^m\.dcm: pixel data is encoded as MPEG2 Main Profile \/ Main Level \(1\.2\.840\.10008\.1\.2\.4\.100\), which mst-ts does not decode/);
    expect(() => parseDicom(dicomFile(dicomImage(2, 2, new Uint8Array(8)), '1.2.3.4'), 'u.dcm')).toThrow(/^u\.dcm: pixel data is encoded as an unknown transfer syntax \(1\.2\.3\.4\)/);
  });

  it('refuses a frame whose codestream disagrees with Rows and Columns, before decoding it', async () => {
    const frame = new Uint8Array(fs.readFileSync(path.join(dir('ct_jpegls'), 'im0.dcm')));
    const img = parseDicom(frame, 'a.dcm', { encoded: true });
    const codestream = img.encodedFrames![0];
    const expectation = { rows: 24, columns: 20, samplesPerPixel: 1, bitsAllocated: 16, source: 'a.dcm', frame: 0 };
    await expect(decodeCompressedFrame('1.2.840.10008.1.2.4.80', codestream, { ...expectation, rows: 4000 })).rejects.toThrow(
      'a.dcm: frame 0 (JPEG-LS Lossless): the codestream holds 20 x 24 pixels of 1 sample(s), the DICOM header says 20 x 4000 of 1 (Columns, Rows, SamplesPerPixel)',
    );
    const huge = codestream.slice();
    // The SOF55 frame header's height: claim 65535 rows.
    const sof = huge.findIndex((b, i) => b === 0xff && huge[i + 1] === 0xf7);
    huge[sof + 5] = 0xff;
    huge[sof + 6] = 0xff;
    await expect(decodeCompressedFrame('1.2.840.10008.1.2.4.80', huge, expectation)).rejects.toThrow(/holds 20 x 65535 pixels/);
    await expect(decodeCompressedFrame('1.2.840.10008.1.2.4.90', codestream, expectation)).rejects.toThrow(/not a JPEG 2000 codestream/);
    await expect(decodeCompressedFrame('1.2.840.10008.1.2.4.80', codestream.subarray(0, 40), expectation)).rejects.toThrow(/a\.dcm: frame 0 \(JPEG-LS Lossless\): the codec failed/);
    expect(Object.keys(COMPRESSED_TRANSFER_SYNTAXES)).toContain('1.2.840.10008.1.2.4.201');
  });

  it('splits encapsulated frames by the offset table, one per fragment, or joins one frame', () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3, 4, 5, 6]);
    const c = new Uint8Array([7, 8]);
    expect(encapsulatedFrames([new Uint8Array(0), a, b], 2, 'x')).toEqual([a, b]);
    expect(encapsulatedFrames([new Uint8Array(0), a, b], 1, 'x')).toEqual([new Uint8Array([1, 2, 3, 4, 5, 6])]);
    const table = new Uint8Array(8);
    new DataView(table.buffer).setUint32(4, 8 + a.length + 8 + b.length, true);
    expect(encapsulatedFrames([table, a, b, c], 2, 'x')).toEqual([new Uint8Array([1, 2, 3, 4, 5, 6]), c]);
    expect(() => encapsulatedFrames([new Uint8Array(0), a, b, c], 2, 'x')).toThrow('x: 3 pixel data fragments for NumberOfFrames 2, and no Basic Offset Table to split them');
  });
});
