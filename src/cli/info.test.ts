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
