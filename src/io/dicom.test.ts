import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fixturePath, needs } from '../../test/helpers';
import { concatBytes, dicomElement, dicomFile, dicomImage, dicomPrefix } from '../../test/dicom_builder';
import { dicomImagesToVolume, parseDicom, parseDicomAsync, readDicomSeries } from './dicom';

interface DicomRef {
  transferSyntax: string;
  rows: number;
  columns: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  seriesInstanceUid: string;
  position: number[];
  orientation: number[];
  pixelSpacing: number[];
  pixelSum?: number;
  first?: number;
  last?: number;
  pixelError?: string;
}
interface SeriesRef {
  shape: number[];
  affine: number[][];
  sum: number;
  checksum: number;
  order: string[];
  seriesInstanceUid: string;
}

const REF = JSON.parse(fs.readFileSync(fixturePath('volumes', 'volumes_ref.json'), 'utf8')) as {
  dicom: Record<string, DicomRef>;
  series: Record<string, SeriesRef>;
};
const SYSTEM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

function check(file: string, ref: DicomRef): void {
  const img = parseDicom(new Uint8Array(fs.readFileSync(file)), file);
  expect(img.transferSyntax).toBe(ref.transferSyntax);
  expect([img.rows, img.columns]).toEqual([ref.rows, ref.columns]);
  expect(img.rescaleSlope).toBe(ref.rescaleSlope);
  expect(img.rescaleIntercept).toBe(ref.rescaleIntercept);
  expect(img.seriesInstanceUid).toBe(ref.seriesInstanceUid);
  if (ref.position.length) expect(img.position).toEqual(ref.position);
  if (ref.orientation.length) expect(img.orientation).toEqual(ref.orientation);
  if (ref.pixelSpacing.length) expect(img.pixelSpacing).toEqual(ref.pixelSpacing);
  const px = img.pixels!;
  expect(px.reduce((a, v) => a + v, 0)).toBe(ref.pixelSum);
  expect(px[0]).toBe(ref.first);
  expect(px[px.length - 1]).toBe(ref.last);
}

describe('parseDicom against pydicom', () => {
  it.each(['CT_small.dcm', 'MR_small.dcm', 'MR_small_bigendian.dcm', 'MR_small_implicit.dcm', 'MR_small_RLE.dcm'])('%s', (name) => {
    check(fixturePath('volumes', name), REF.dicom[name]);
  });

  const files = ['MR_small_expb.dcm', 'MR_small_padded.dcm', 'liver_1frame.dcm', 'rtdose_rle_1frame.dcm', 'image_dfl.dcm'];
  const system = needs(fs.existsSync(SYSTEM), "pydicom's test files", 'apt-get install python3-pydicom') ? it.each(files) : it.skip.each(files);
  system('installed pydicom file %s', (name) => {
    check(`${SYSTEM}/${name}`, REF.dicom[`system:${name}`]);
  });
});

describe('DICOM errors', () => {
  it('says that a compressed syntax is read asynchronously, naming it', () => {
    const file = fixturePath('volumes', 'MR_small_jpeg_ls_lossless.dcm');
    expect(() => parseDicom(new Uint8Array(fs.readFileSync(file)), file)).toThrow(
      /MR_small_jpeg_ls_lossless\.dcm: pixel data is encoded as JPEG-LS Lossless \(1\.2\.840\.10008\.1\.2\.4\.80\), which needs a codec loaded asynchronously: read it with parseDicomAsync/,
    );
  });

  it("decodes pydicom's JPEG-LS lossless MR to the values of its uncompressed twin", async () => {
    const read = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(fixturePath('volumes', name)));
    const [ls, plain] = [await parseDicomAsync(read('MR_small_jpeg_ls_lossless.dcm'), 'ls.dcm'), parseDicom(read('MR_small.dcm'), 'plain.dcm')];
    expect(ls.transferSyntax).toBe('1.2.840.10008.1.2.4.80');
    expect(Array.from(ls.pixels!)).toEqual(Array.from(plain.pixels!));
  });

  it('names a truncated file', () => {
    const file = fixturePath('volumes', 'MR_truncated.dcm');
    expect(() => parseDicom(new Uint8Array(fs.readFileSync(file)), file)).toThrow(/MR_truncated\.dcm: truncated DICOM file|MR_truncated\.dcm: pixel data has \d+ bytes/);
    const cut = new Uint8Array(fs.readFileSync(fixturePath('volumes', 'MR_small.dcm'))).subarray(0, 1000);
    expect(() => parseDicom(cut, 'cut.dcm')).toThrow(/^cut\.dcm: truncated DICOM file/);
    expect(() => parseDicom(new Uint8Array(200), 'zeros.dcm')).toThrow('zeros.dcm: not a DICOM file');
  });
});

describe('readDicomSeries', () => {
  const ref = REF.series.dicom_ct2;

  it('stacks a series along the slice normal with rescaling and an RAS affine, as pydicom', async () => {
    const folder = fixturePath('volumes', 'dicom_ct2');
    // Slices 18 and 180-182 of a CT: uneven gaps, refused unless kept.
    await expect(readDicomSeries(folder)).rejects.toThrow(/slice gaps vary from 1\.250 to 202\.500 mm \(median 1\.250; e\.g\. 202\.500 mm between '.*17106' and '.*17136'\)/);
    const raw = await readDicomSeries(folder, { canonical: false, irregularSpacing: 'keep' });
    expect(raw.shape).toEqual(ref.shape);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(raw.affine[r][c]).toBeCloseTo(ref.affine[r][c], 4);
    expect((raw.meta.files as string[]).map((f) => path.basename(f))).toEqual(ref.order);
    expect(raw.meta.seriesInstanceUid).toBe(ref.seriesInstanceUid);
    expect(raw.meta.slices).toBe(4);
    expect(raw.meta.irregularSliceSpacing).toBe(true);
    let sum = 0;
    let checksum = 0;
    const [D, H, W] = raw.shape;
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      const v = raw.data[(d * H + h) * W + w];
      sum += v;
      checksum += v * ((d * 7 + h * 13 + w * 17) % 11);
    }
    expect(sum).toBe(ref.sum);
    expect(checksum).toBe(ref.checksum);
    const can = await readDicomSeries(folder, { irregularSpacing: 'keep' });
    expect(can.orientation).toBe('SPL');
    expect(can.shape).toEqual([4, 16, 16]);
  });

  it('groups by SeriesInstanceUID, picks the largest and honours an explicit choice', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-dicom-'));
    try {
      for (const f of fs.readdirSync(fixturePath('volumes', 'dicom_ct2'))) fs.copyFileSync(fixturePath('volumes', 'dicom_ct2', f), path.join(dir, f));
      fs.copyFileSync(fixturePath('volumes', 'MR_small.dcm'), path.join(dir, 'other.dcm'));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not dicom');
      const v = await readDicomSeries(dir, { canonical: false, irregularSpacing: 'keep' });
      expect(v.meta.seriesInstanceUid).toBe(ref.seriesInstanceUid);
      expect((v.meta.series as { images: number }[]).map((s) => s.images).sort()).toEqual([1, 4]);
      const mr = await readDicomSeries(dir, { seriesInstanceUid: REF.dicom['MR_small.dcm'].seriesInstanceUid });
      expect(mr.shape).toEqual([1, 64, 64]);
      await expect(readDicomSeries(dir, { seriesInstanceUid: '1.2.3' })).rejects.toThrow("no series with SeriesInstanceUID '1.2.3'");
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('rejects slices of different sizes', () => {
    const a = parseDicom(new Uint8Array(fs.readFileSync(fixturePath('volumes', 'MR_small.dcm'))), 'a.dcm');
    const b = parseDicom(new Uint8Array(fs.readFileSync(fixturePath('volumes', 'CT_small.dcm'))), 'b.dcm');
    expect(() => dicomImagesToVolume([a, b], 'mixed')).toThrow("mixed: 'b.dcm' is 128 x 128 but 'a.dcm' is 64 x 64");
  });
});

describe('hostile and broken DICOM headers', () => {
  const px = (n: number): Uint8Array => new Uint8Array(2 * n).map((_, i) => (i % 2 ? 0 : i % 251));

  it('refuses a negative or absurd NumberOfFrames before allocating', () => {
    const frames = (v: string): Uint8Array => dicomFile(dicomImage(4, 4, px(16), [[0x00280008, dicomElement(0x00280008, 'IS', v)]]));
    expect(() => parseDicom(frames('-3'), 'neg.dcm')).toThrow('neg.dcm: NumberOfFrames (0028,0008) must be a positive integer, got -3');
    expect(() => parseDicom(frames('1000000000'), 'huge.dcm')).toThrow(/huge\.dcm: Rows x Columns x NumberOfFrames = 4 x 4 x 1000000000 pixels, more than the limit/);
    expect(() => parseDicom(frames('1000'), 'many.dcm')).toThrow('many.dcm: pixel data has 32 bytes, Rows x Columns x NumberOfFrames = 4 x 4 x 1000 of 16 bits need 32000 (truncated?)');
  });

  it('checks Rows x Columns against the pixel data before allocating', () => {
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseDicom(dicomFile(dicomImage(65535, 65535, px(16))), 'wide.dcm')).toThrow(/wide\.dcm: Rows x Columns x NumberOfFrames = 65535 x 65535 x 1 pixels, more than the limit/);
    expect(() => parseDicom(dicomFile(dicomImage(20000, 20000, px(16))), 'big.dcm')).toThrow('big.dcm: pixel data has 32 bytes, Rows x Columns x NumberOfFrames = 20000 x 20000 x 1 of 16 bits need 800000000 (truncated?)');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });

  it('reads empty or zero NumberOfFrames as one frame (as pydicom), not zero slices', () => {
    for (const v of ['', '0']) {
      const img = parseDicom(dicomFile(dicomImage(4, 4, px(16), [[0x00280008, dicomElement(0x00280008, 'IS', v)]])), 'f.dcm');
      expect(img.frames).toBe(1);
      expect(dicomImagesToVolume([img], 'f.dcm', { canonical: false }).shape).toEqual([1, 4, 4]);
    }
  });

  it('refuses a zero or negative PixelSpacing instead of a singular affine', () => {
    for (const v of ['0.8\\0', '-1\\0.5']) {
      const img = parseDicom(dicomFile(dicomImage(4, 4, px(16), [[0x00280030, dicomElement(0x00280030, 'DS', v)]])), 'p.dcm');
      expect(() => dicomImagesToVolume([img], 'p.dcm')).toThrow(/^p\.dcm: PixelSpacing \(0028,0030\) of 'p\.dcm' is \[-?[0-9.]+, [0-9.]+\]; both must be positive$/);
    }
  });

  it('reads an empty RescaleSlope as absent (slope 1), not 0', () => {
    const img = parseDicom(dicomFile(dicomImage(4, 4, px(16), [[0x00281052, dicomElement(0x00281052, 'DS', '-1024')], [0x00281053, dicomElement(0x00281053, 'DS', '')]])), 's.dcm');
    expect(img.rescaleSlope).toBe(1);
    const v = dicomImagesToVolume([img], 's.dcm', { canonical: false });
    expect(v.data[1]).toBe(2 - 1024);
    expect(() => parseDicom(dicomFile(dicomImage(4, 4, px(16), [[0x00281053, dicomElement(0x00281053, 'DS', '0')]])), 'z.dcm')).toThrow('z.dcm: RescaleSlope (0028,1053) is 0');
  });

  it('ignores an empty SliceThickness instead of giving a singular affine', () => {
    const img = parseDicom(dicomFile(dicomImage(4, 4, px(16), [[0x00180050, dicomElement(0x00180050, 'DS', '')]])), 't.dcm');
    expect(img.sliceThickness).toBeNull();
    const v = dicomImagesToVolume([img], 't.dcm', { canonical: false });
    expect(v.spacing[0]).toBe(1);
  });

  const rtdose = '/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose_1frame.dcm';
  (fs.existsSync(rtdose) ? it : it.skip)("reads pydicom's rtdose_1frame.dcm (empty SliceThickness) with a non-singular affine", async () => {
    const v = await readDicomSeries(rtdose, { canonical: false });
    expect(v.spacing.every((s) => s > 0)).toBe(true);
  });

  it('refuses deeply nested sequences with an error, not a stack overflow', () => {
    const depth = 20000;
    const open = concatBytes(dicomElement(0x00400275, 'SQ', new Uint8Array(0), 0xffffffff), new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]));
    const close = new Uint8Array([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const nested = concatBytes(...Array<Uint8Array>(depth).fill(open), ...Array<Uint8Array>(depth).fill(close));
    const els = dicomImage(4, 4, px(16));
    els.splice(2, 0, nested); // after (0020,000E), before group 0028
    expect(() => parseDicom(dicomFile(els), 'deep.dcm')).toThrow(/deep\.dcm: sequences nested deeper than 64 levels at byte \d+/);
    // Nesting within the limit is skipped as before.
    const ok = dicomImage(4, 4, px(16));
    ok.splice(2, 0, concatBytes(...Array<Uint8Array>(10).fill(open), ...Array<Uint8Array>(10).fill(close)));
    expect(parseDicom(dicomFile(ok), 'ok.dcm').pixels!.length).toBe(16);
  });

  it('reads the header of a deflated dataset of 256 MiB without inflating all of it', () => {
    const filler = dicomElement(0x00431001, 'OB', new Uint8Array(256 * 2 ** 20));
    const els = dicomImage(4, 4, px(16));
    els.splice(els.length - 1, 0, filler); // a private element after group 0028, before the pixel data
    const body = concatBytes(...els);
    // node:zlib writes the same raw DEFLATE as any encoder, in a fraction of the time.
    const file = concatBytes(dicomPrefix('1.2.840.10008.1.2.1.99'), new Uint8Array(zlib.deflateRawSync(body)));
    const t0 = Date.now();
    const before = process.memoryUsage().arrayBuffers;
    const header = parseDicom(file, 'dfl.dcm', { pixels: false });
    expect(header.rows).toBe(4);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    expect(Date.now() - t0).toBeLessThan(10000);
    // A full read inflates it all, once, into a buffer of the stream's size.
    expect(parseDicom(file, 'dfl.dcm').pixels![5]).toBe(10);
  });
});
