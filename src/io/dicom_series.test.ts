import * as fs from 'node:fs';
import * as path from 'node:path';
import { dicomElement, dicomFile, dicomImage } from '../../test/dicom_builder';
import { fixturePath } from '../../test/helpers';
import { parseDicom, readDicomSeries } from './dicom';
import { listDicomSeries, selectDicomImages, splitDicomPhases } from './dicom_series';
import { readVolumeFromFiles } from './volume_files';

function header(name: string, z: number, fields: { acquisition?: number; trigger?: number; series?: string; bValue?: number } = {}) {
  const extra: [number, Uint8Array][] = [
    [0x00200032, dicomElement(0x00200032, 'DS', `0\\0\\${z}`)],
    [0x00200037, dicomElement(0x00200037, 'DS', '1\\0\\0\\0\\1\\0')],
  ];
  if (fields.acquisition !== undefined) extra.push([0x00200012, dicomElement(0x00200012, 'IS', String(fields.acquisition))]);
  if (fields.trigger !== undefined) extra.push([0x00181060, dicomElement(0x00181060, 'DS', String(fields.trigger))]);
  if (fields.bValue !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, fields.bValue, true);
    extra.push([0x00189087, dicomElement(0x00189087, 'FD', b)]);
  }
  const els = dicomImage(2, 2, new Uint8Array(8), extra);
  const file = dicomFile(fields.series ? els.map((e) => (e[0] === 0x20 && e[1] === 0 && e[2] === 0x0e ? dicomElement(0x0020000e, 'UI', fields.series!) : e)) : els);
  return { header: parseDicom(file, name, { pixels: false }), item: name };
}

describe('DICOM series and phases', () => {
  const dce = fixturePath('dicom', 'dce');

  it('lists a folder holding two phases and refuses to merge them', async () => {
    await expect(readDicomSeries(dce)).rejects.toThrow(
      /dce: series [0-9.]+ holds 2 phases that differ in TemporalPositionIdentifier \(0020,0100\) \(0: 1 \(4 images\), 1: 2 \(4 images\)\); stacking them would merge phases into one volume: choose one with --phase N/,
    );
    const late = await readDicomSeries(dce, { phase: 1, canonical: false });
    expect(late.shape).toEqual([4, 12, 12]);
    expect((late.meta.files as string[]).map((f) => path.basename(f))).toEqual(['p2_s0.dcm', 'p2_s1.dcm', 'p2_s2.dcm', 'p2_s3.dcm']);
    expect(late.meta.phase).toEqual({ index: 1, of: 2, key: 'temporalPositionIdentifier', value: 2 });
    const series = late.meta.series as { phases: number; phaseValues: number[]; slices: number; shape: number[]; description: string; images: number }[];
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ description: 'synthetic dce', images: 8, phases: 2, phaseKey: 'temporalPositionIdentifier', phaseValues: [1, 2], slices: 4, shape: [4, 12, 12] });
    const early = await readDicomSeries(dce, { phase: 'first', canonical: false });
    expect((early.meta.files as string[]).every((f) => path.basename(f).startsWith('p1_'))).toBe(true);
    await expect(readDicomSeries(dce, { phase: 2 })).rejects.toThrow(/dce: phase 2 does not exist; series [0-9.]+ has phases 0: 1 \(4 images\), 1: 2 \(4 images\)/);
    // The page's reader applies the same rule.
    const files = fs.readdirSync(dce).map((f) => ({ name: `dce/${f}`, arrayBuffer: async () => new Uint8Array(fs.readFileSync(path.join(dce, f))).buffer }));
    await expect(readVolumeFromFiles(files)).rejects.toThrow(/holds 2 phases/);
    expect(Array.from((await readVolumeFromFiles(files, { phase: 1, canonical: false })).data)).toEqual(Array.from(late.data));
  });

  it('splits by the first field that separates repeated positions, and keeps a CT with many acquisitions whole', () => {
    const byAcquisition = [header('a1', 0, { acquisition: 1, trigger: 5 }), header('a2', 1, { acquisition: 1, trigger: 5 }), header('b1', 0, { acquisition: 2, trigger: 5 }), header('b2', 1, { acquisition: 2, trigger: 5 })];
    const split = splitDicomPhases(byAcquisition);
    expect(split.key).toBe('acquisitionNumber');
    expect(split.phases.map((p) => p.items.map((x) => x.item))).toEqual([['a1', 'a2'], ['b1', 'b2']]);
    // Diffusion b-values, where no other field separates the repeats.
    const dwi = splitDicomPhases([header('b0', 0, { acquisition: 1, bValue: 0 }), header('b1000', 0, { acquisition: 1, bValue: 1000 }), header('b0z', 1, { acquisition: 1, bValue: 0 }), header('b1000z', 1, { acquisition: 1, bValue: 1000 })]);
    expect(dwi.key).toBe('diffusionBValue');
    expect(dwi.phases.map((p) => [p.value, p.items.map((x) => x.item)])).toEqual([[0, ['b0', 'b0z']], [1000, ['b1000', 'b1000z']]]);
    // Distinct positions: one volume, whatever its AcquisitionNumbers (sequential CT).
    expect(splitDicomPhases([header('c1', 0, { acquisition: 4 }), header('c2', 1, { acquisition: 44 })]).key).toBeNull();
    // Nothing separates the repeats: one phase, and stacking names the duplicates.
    expect(splitDicomPhases([header('d1', 0), header('d2', 0)]).phases).toHaveLength(1);
  });

  it('reads an enhanced multi-frame file as a volume, frames ordered by their own positions', async () => {
    const [plain, enhanced] = await Promise.all([readDicomSeries(fixturePath('dicom', 'ct'), { canonical: false }), readDicomSeries(fixturePath('dicom', 'ct_enhanced'), { canonical: false })]);
    expect(enhanced.shape).toEqual([6, 24, 20]);
    expect(enhanced.affine).toEqual(plain.affine);
    expect(Array.from(enhanced.data)).toEqual(Array.from(plain.data));
    // Stored in the order 4, 1, 6, 2, 5, 3 of the slices: frame 2 holds the lowest slice.
    expect((enhanced.meta.files as string[]).map((f) => f.replace(/.*\[/, '['))).toEqual(['[frame 2]', '[frame 4]', '[frame 6]', '[frame 1]', '[frame 5]', '[frame 3]']);
    // One file holding two phases (TemporalPositionIndex): listed, refused unmerged, each phase readable.
    const file = path.join(fixturePath('dicom', 'ct_enhanced_2phases'), 'enhanced.dcm');
    await expect(readDicomSeries(file)).rejects.toThrow(/holds 2 phases that differ in TemporalPositionIdentifier \(0020,0100\) \(0: 1 \(6 images\), 1: 2 \(6 images\)\)/);
    const second = await readDicomSeries(file, { phase: 1, canonical: false });
    expect(second.meta.series).toMatchObject([{ images: 12, phases: 2, slices: 6, shape: [6, 24, 20] }]);
    expect(Array.from(second.data)).toEqual(Array.from(plain.data, (v) => v + 100));
  });

  it('picks the largest series by default and lists every one', () => {
    const items = [header('x1', 0, { series: '1.1' }), header('y1', 0, { series: '2.2' }), header('y2', 1, { series: '2.2' })];
    expect(listDicomSeries(items).map((s) => [s.uid, s.images, s.phases])).toEqual([['2.2', 2, 1], ['1.1', 1, 1]]);
    expect(selectDicomImages(items, 'f').chosen).toEqual(['y1', 'y2']);
    expect(selectDicomImages(items, 'f', { seriesInstanceUid: '1.1' }).chosen).toEqual(['x1']);
    expect(() => selectDicomImages(items, 'f', { seriesInstanceUid: '9' })).toThrow("f: no series with SeriesInstanceUID '9'; found 2.2 (2 images), 1.1 (1 images)");
    expect(() => selectDicomImages(items, 'f', { phase: 1 })).toThrow('f: series 2.2 has one phase; --phase 1 does not exist (phases count from 0)');
  });
});
