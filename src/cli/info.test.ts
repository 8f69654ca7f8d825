import { fixturePath } from '../../test/helpers';
import { infoCommand } from './info';

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  });
  try {
    const code = await infoCommand.run(args);
    return { code, out: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('mst-ts info', () => {
  it('prints a DICOM series as JSON', async () => {
    // Slices 18 and 180-182 of a CT: refused as uneven unless kept.
    await expect(run([fixturePath('volumes', 'dicom_ct2'), '--json'])).rejects.toThrow(/slice gaps vary from 1\.250 to 202\.500 mm/);
    const { code, out } = await run([fixturePath('volumes', 'dicom_ct2'), '--json', '--irregular-spacing', 'keep']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.format).toBe('dicom');
    expect(r.shape).toEqual([4, 16, 16]);
    expect(r.orientation).toBe('SPL');
    expect(r.slices).toBe(4);
    expect(r.seriesInstanceUid).toBe('1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2');
    expect(r.dtype).toBe('int16');
    expect(r.min).toBeLessThanOrEqual(r.mean);
    expect(r.affine).toHaveLength(4);
  });

  it('gives a JPEG-LS or JPEG 2000 compressed CT series the figures of its uncompressed twin', async () => {
    const read = async (name: string): Promise<Record<string, unknown>> => JSON.parse((await run([fixturePath('dicom', name), '--json'])).out) as Record<string, unknown>;
    const plain = await read('ct');
    expect(plain).toMatchObject({ format: 'dicom', shape: [6, 24, 20], orientation: 'SPL', slices: 6, dtype: 'uint16', transferSyntax: '1.2.840.10008.1.2.1' });
    const figures = (r: Record<string, unknown>): unknown[] => [r.shape, r.spacing, r.affine, r.orientation, r.min, r.max, r.mean, r.dtype, r.slices, r.seriesInstanceUid, r.series];
    for (const [name, uid] of [['ct_jpegls', '1.2.840.10008.1.2.4.80'], ['ct_j2k', '1.2.840.10008.1.2.4.90']]) {
      const packed = await read(name);
      expect(packed.transferSyntax).toBe(uid);
      expect(figures(packed)).toEqual(figures(plain));
    }
  });

  it('lists a folder of two phases, reads phase 0 unless told, and says so', async () => {
    const folder = fixturePath('dicom', 'dce');
    const r = JSON.parse((await run([folder, '--json'])).out);
    expect(r.shape).toEqual([4, 12, 12]);
    expect(r.phase).toEqual({ index: 0, of: 2, key: 'temporalPositionIdentifier', value: 1 });
    expect(r.series).toHaveLength(1);
    expect(r.series[0]).toMatchObject({ description: 'synthetic dce', phases: 2, slices: 4, shape: [4, 12, 12], images: 8 });
    const second = JSON.parse((await run([folder, '--json', '--phase', '1'])).out);
    expect(second.phase.value).toBe(2);
    expect(second.mean).not.toBe(r.mean);
    const text = (await run([folder])).out;
    expect(text).toMatch(/phase: +0 of 2 \(temporalPositionIdentifier 1\); phase 0 by default, choose with --phase N/);
    expect(text).toMatch(/synthetic dce': 8 images, 2 phase\(s\) by temporalPositionIdentifier, \[4, 12, 12\]/);
    await expect(run([folder, '--phase', 'x'])).rejects.toThrow("--phase must be a phase index (0, 1, ...), got 'x'");
    await expect(run([folder, '--irregular-spacing', 'maybe'])).rejects.toThrow("--irregular-spacing must be refuse, resample or keep, got 'maybe'");
  });

  it('prints a NIfTI file as text and in raw order', async () => {
    const { out } = await run([fixturePath('volumes', 'standard.nii.gz')]);
    expect(out).toMatch(/format: +nifti1/);
    expect(out).toMatch(/shape: +\[/);
    const raw = JSON.parse((await run([fixturePath('volumes', 'standard.nii.gz'), '--json', '--raw'])).out);
    expect(raw.shape).toEqual([7, 5, 4]);
    expect(raw.max).toBe(255);
  });

  it('rejects bad arguments and names a missing file', async () => {
    await expect(run([])).rejects.toThrow('expected one file or folder, got 0');
    await expect(run(['x.npy', '--spacing', '1,2'])).rejects.toThrow("--spacing must be three positive numbers D,H,W, got '1,2'");
    await expect(run([fixturePath('volumes', 'nope.nii.gz')])).rejects.toThrow(/cannot read '.*nope\.nii\.gz': no such file or folder/);
  });
});
