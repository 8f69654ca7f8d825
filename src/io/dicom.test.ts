import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturePath, needs } from '../../test/helpers';
import { dicomImagesToVolume, parseDicom, readDicomSeries } from './dicom';

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
  it('names an unsupported compressed transfer syntax', () => {
    const file = fixturePath('volumes', 'MR_small_jpeg_ls_lossless.dcm');
    expect(() => parseDicom(new Uint8Array(fs.readFileSync(file)), file)).toThrow(/MR_small_jpeg_ls_lossless\.dcm: pixel data is encoded as JPEG-LS Lossless \(1\.2\.840\.10008\.1\.2\.4\.80\)/);
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
    const raw = await readDicomSeries(folder, { canonical: false });
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
    const can = await readDicomSeries(folder);
    expect(can.orientation).toBe('SPL');
    expect(can.shape).toEqual([4, 16, 16]);
  });

  it('groups by SeriesInstanceUID, picks the largest and honours an explicit choice', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-dicom-'));
    try {
      for (const f of fs.readdirSync(fixturePath('volumes', 'dicom_ct2'))) fs.copyFileSync(fixturePath('volumes', 'dicom_ct2', f), path.join(dir, f));
      fs.copyFileSync(fixturePath('volumes', 'MR_small.dcm'), path.join(dir, 'other.dcm'));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not dicom');
      const v = await readDicomSeries(dir, { canonical: false });
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
