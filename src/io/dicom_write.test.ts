import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturePath } from '../../test/helpers';
import { decimalString, derivedUid, dicomHeaderFields, readDicomSourceInfo, saliencyDicomSeries, writeSaliencyDicom, type DicomSourceInfo } from './dicom_write';
import { parseDicom } from './dicom';
import { readVolume } from './read_volume';
import type { Affine } from './volume';

// The committed series test/fixtures/dicom_out/ is what the writer makes of this map over the CT
// series dicom_ct2 (4 slices at irregular positions, read with irregularSpacing 'keep') with UID seed 'mst-ts fixture';
// tools/reference/dicom_out_ref.py reads it with pydicom (and dciodvfy) into pydicom_summary.json.
// MST_UPDATE_FIXTURES=1 rewrites it (then rerun the reference script).
const SOURCE = fixturePath('volumes', 'dicom_ct2');
const OUT_FIXTURE = fixturePath('dicom_out');
const SEED = 'mst-ts fixture';
const mapOf = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i / 7) * 0.3 + 0.1);

async function source(): Promise<{ scan: Awaited<ReturnType<typeof readVolume>>; info: DicomSourceInfo }> {
  const scan = await readVolume(SOURCE, { canonical: false, irregularSpacing: 'keep' });
  return { scan, info: await readDicomSourceInfo(scan.meta.files as string[]) };
}

describe('saliencyDicomSeries', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-dicom-out-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one image per source slice that mst-ts reads back onto the source grid, in its study and Frame of Reference', async () => {
    const { scan, info } = await source();
    expect(info.slices?.map((s) => s.position?.[2])).toEqual([-99.480003, 103.019997, 104.269997, 105.519997]);
    const map = mapOf(scan.data.length);
    const out = path.join(dir, 'ct2');
    const files = await writeSaliencyDicom(out, { data: map, shape: scan.shape, affine: scan.affine }, info, { uidSeed: SEED });
    expect(files.map((f) => path.basename(f))).toEqual(['IM00001.dcm', 'IM00002.dcm', 'IM00003.dcm', 'IM00004.dcm']);
    const back = await readVolume(out, { canonical: false, irregularSpacing: 'keep' });
    expect(back.shape).toEqual(scan.shape);
    back.affine.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(scan.affine[r][c], 5)));
    const step = 0.6 / 65535;
    let worst = 0;
    back.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - map[i]))));
    expect(worst).toBeLessThanOrEqual(step / 2 + 1e-7);
    for (const [k, f] of files.entries()) {
      const fields = dicomHeaderFields(fs.readFileSync(f), f);
      const src = dicomHeaderFields(fs.readFileSync((scan.meta.files as string[])[k]));
      // Each image sits on its source image, including the first, 122 mm below the others.
      expect(fields.position.split('\\').map(Number)).toEqual(src.position.split('\\').map(Number));
      expect(fields.frameOfReferenceUid).toBe(src.frameOfReferenceUid);
      expect(fields.studyInstanceUid).toBe(src.studyInstanceUid);
      expect(fields.seriesInstanceUid).not.toBe(src.seriesInstanceUid);
      expect(fields.seriesInstanceUid).toBe(derivedUid(SEED, info.seriesInstanceUid, 'series'));
      expect(fields.modality).toBe('OT');
      expect(fields.seriesNumber).toBe('1002');
      // De-identified: no name, ID, birth date, accession number or study date of the source.
      expect([fields.patientName, fields.patientId, fields.patientBirthDate, fields.accessionNumber, fields.studyDate]).toEqual(['', '', '', '', '']);
      expect(src.patientName).toBe('Doe^Archibald');
      const image = parseDicom(fs.readFileSync(f), f);
      expect(image.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.7');
      expect(image.pixelSpacing).toEqual([0.488281, 0.488281]);
    }
  });

  it('is deterministic given a seed (the committed fixture), new without one, and copies the patient only when asked', async () => {
    const { scan, info } = await source();
    const volume = { data: mapOf(scan.data.length), shape: scan.shape, affine: scan.affine };
    const a = saliencyDicomSeries(volume, info, { uidSeed: SEED });
    if (process.env.MST_UPDATE_FIXTURES === '1') {
      fs.mkdirSync(OUT_FIXTURE, { recursive: true });
      for (const f of a.files) fs.writeFileSync(path.join(OUT_FIXTURE, f.name), f.bytes);
    }
    for (const f of a.files) expect(Buffer.from(f.bytes).equals(fs.readFileSync(path.join(OUT_FIXTURE, f.name)))).toBe(true);
    const b = saliencyDicomSeries(volume, info);
    const c = saliencyDicomSeries(volume, info);
    expect(b.seriesInstanceUid).not.toBe(c.seriesInstanceUid);
    expect(b.seriesInstanceUid).toMatch(/^2\.25\.[1-9][0-9]{0,38}$/);
    const rooted = saliencyDicomSeries(volume, info, { uidSeed: 1, uidRoot: '1.2.826.0.1.3680043.10.999' });
    expect(rooted.seriesInstanceUid).toMatch(/^1\.2\.826\.0\.1\.3680043\.10\.999\.[1-9][0-9]*$/);
    expect(rooted.seriesInstanceUid.length).toBeLessThanOrEqual(64);
    const kept = dicomHeaderFields(saliencyDicomSeries(volume, info, { uidSeed: SEED, copyPatient: true }).files[0].bytes);
    expect([kept.patientName, kept.patientId, kept.accessionNumber, kept.studyDate]).toEqual(['Doe^Archibald', '77654033', '2', '19950903']);
  });

  it("equals what pydicom reads of the committed series: geometry, UIDs and every rescaled voxel", () => {
    const summary = JSON.parse(fs.readFileSync(path.join(OUT_FIXTURE, 'pydicom_summary.json'), 'utf8')) as {
      files: { name: string; sopClassUid: string; frameOfReferenceUid: string; studyInstanceUid: string; position: number[]; orientation: number[]; pixelSpacing: number[]; patientName: string; values: number[] }[];
      dciodvfyErrors: string[] | null;
    };
    const map = mapOf(4 * 16 * 16);
    expect(summary.files).toHaveLength(4);
    summary.files.forEach((f, d) => {
      expect(f.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.7');
      expect(f.frameOfReferenceUid).toBe('1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4');
      expect(f.orientation).toEqual([1, 0, 0, 0, 1, 0]);
      expect(f.pixelSpacing).toEqual([0.488281, 0.488281]);
      expect(f.patientName).toBe('');
      const image = parseDicom(fs.readFileSync(path.join(OUT_FIXTURE, f.name)), f.name);
      expect(f.position).toEqual(image.position);
      f.values.forEach((v, i) => {
        expect(Math.abs(v - ((image.pixels as Float32Array)[i] * image.rescaleSlope + image.rescaleIntercept))).toBeLessThan(1e-6);
        expect(Math.abs(v - map[d * 256 + i])).toBeLessThan(5e-6);
      });
    });
    // dciodvfy (dicom3tools) finds no error in the Secondary Capture IOD, where it was installed.
    if (summary.dciodvfyErrors !== null) expect(summary.dciodvfyErrors).toEqual([]);
  });

  it('writes a regular grid from its affine alone, in any orientation, and names what is missing', async () => {
    const affine: Affine = [[0, 0.8, 0, -10], [0, 0, -0.9, 30], [-2.5, 0, 0, 40], [0, 0, 0, 1]];
    const volume = { data: Float32Array.from({ length: 3 * 5 * 6 }, (_, i) => i), shape: [3, 5, 6] as [number, number, number], affine };
    const info: DicomSourceInfo = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', frameOfReferenceUid: '1.2.3.5' };
    const out = path.join(dir, 'regular');
    fs.mkdirSync(out, { recursive: true });
    for (const f of saliencyDicomSeries(volume, info, { uidSeed: 2 }).files) fs.writeFileSync(path.join(out, f.name), f.bytes);
    const back = await readVolume(out, { canonical: false, irregularSpacing: 'keep' });
    expect(back.shape).toEqual([3, 5, 6]);
    // The reader stacks slices along row x column; this grid's slices run the other way, so it reverses them.
    const flipped = back.affine[0][0] * affine[0][0] + back.affine[1][0] * affine[1][0] + back.affine[2][0] * affine[2][0] < 0;
    const d = (k: number): number => (flipped ? 2 - k : k);
    // 16-bit steps of 89 / 65535 over the range 0..89.
    for (let k = 0; k < 3; k++) expect(Math.abs(back.data[k * 30 + 7] - volume.data[d(k) * 30 + 7])).toBeLessThanOrEqual(89 / 65535 / 2 + 1e-6);
    expect(() => saliencyDicomSeries(volume, { ...info, frameOfReferenceUid: '' })).toThrow(/the source has no frameOfReferenceUid; a viewer overlays a series only in the study and Frame of Reference of its source/);
    expect(() => saliencyDicomSeries(volume, { ...info, slices: [] })).toThrow(/the source lists 0 images, the volume has 3 slices/);
    expect(() => saliencyDicomSeries({ ...volume, data: new Float32Array(3) }, info)).toThrow(/3 values do not fill \[3, 5, 6\]/);
    expect(() => derivedUid(1, '1.2', 'series', '1.02.3')).toThrow(/UID root '1\.02\.3'/);
  });

  it('writes decimal strings of at most 16 characters', () => {
    for (const x of [0, 1, -1, 0.1, 1 / 3, -1e-20, 123456789.123456789, 9.15540417936e-6, -0.19999946653842926, 1e300]) {
      const s = decimalString(x);
      expect(s.length).toBeLessThanOrEqual(16);
      expect(Number(s)).toBeCloseTo(x, Math.max(0, 10 - Math.ceil(Math.log10(Math.abs(x) + 1e-30))));
    }
  });
});
