import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { gzipSync } from 'fflate';
import { fixturePath, needs } from '../../test/helpers';
import { encodeNifti, parseNifti, readNifti } from './nifti';
import { toCanonical, type Volume } from './volume';

interface NiftiRef {
  shape: number[];
  affine: number[][];
  dtype: string;
  nanCount: number;
  sum: number;
  checksum: number;
  first: number;
  last: number;
}

const REF = JSON.parse(fs.readFileSync(fixturePath('volumes', 'volumes_ref.json'), 'utf8')) as { nifti: Record<string, NiftiRef> };
const SYSTEM = '/usr/lib/python3/dist-packages/nibabel/tests/data';

// nibabel's (i, j, k) = our (w, h, d); sums skip NaN as the reference does.
function compare(v: Volume, ref: NiftiRef): void {
  const [ni, nj, nk] = ref.shape;
  expect(v.shape).toEqual([nk, nj, ni]);
  expect(v.dtype).toBe(ref.dtype);
  for (let r = 0; r < 4; r++) {
    const row = [ref.affine[r][2], ref.affine[r][1], ref.affine[r][0], ref.affine[r][3]];
    row.forEach((x, c) => expect(v.affine[r][c]).toBeCloseTo(x, 4));
  }
  let sum = 0;
  let checksum = 0;
  let nan = 0;
  let k = 0;
  for (let d = 0; d < nk; d++) for (let h = 0; h < nj; h++) for (let w = 0; w < ni; w++, k++) {
    const x = v.data[k];
    if (Number.isNaN(x)) {
      nan++;
      continue;
    }
    sum += x;
    checksum += x * ((w * 7 + h * 13 + d * 17) % 11);
  }
  expect(nan).toBe(ref.nanCount);
  expect(sum).toBeCloseTo(ref.sum, 5 - Math.max(0, Math.round(Math.log10(Math.abs(ref.sum) + 1))));
  expect(Math.abs(checksum - ref.checksum)).toBeLessThanOrEqual(1e-6 * Math.abs(ref.checksum) + 1e-3);
  expect(Number.isNaN(v.data[0]) ? 0 : v.data[0]).toBeCloseTo(ref.first, 4);
}

// Every voxel of the canonical volume sits at the same world position as in the raw volume.
function expectSameWorld(raw: Volume, can: Volume): void {
  const inv = invert(raw.affine);
  const [D, H, W] = can.shape;
  const [, H0, W0] = raw.shape;
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const x = [0, 1, 2].map((r) => can.affine[r][0] * d + can.affine[r][1] * h + can.affine[r][2] * w + can.affine[r][3]);
    const idx = [0, 1, 2].map((r) => Math.round(inv[r][0] * x[0] + inv[r][1] * x[1] + inv[r][2] * x[2] + inv[r][3]));
    const a = can.data[(d * H + h) * W + w];
    const b = raw.data[(idx[0] * H0 + idx[1]) * W0 + idx[2]];
    if (!(Number.isNaN(a) && Number.isNaN(b))) expect(a).toBe(b);
  }
}

function invert(m: number[][]): number[][] {
  const a = m.slice(0, 3).map((r) => r.slice(0, 3));
  const det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const c = (r: number, k: number): number => {
    const rows = [0, 1, 2].filter((i) => i !== r);
    const cols = [0, 1, 2].filter((i) => i !== k);
    const v = a[rows[0]][cols[0]] * a[rows[1]][cols[1]] - a[rows[0]][cols[1]] * a[rows[1]][cols[0]];
    return ((r + k) % 2 === 0 ? v : -v) / det;
  };
  const inv = [0, 1, 2].map((r) => [0, 1, 2].map((k) => c(k, r)));
  return inv.map((row) => [...row, -(row[0] * m[0][3] + row[1] * m[1][3] + row[2] * m[2][3])]);
}

describe('readNifti against nibabel', () => {
  it.each(['standard.nii.gz', 'example_nifti2.nii.gz', 'qform_scaled.nii', 'sform_be.nii.gz'])('%s', async (name) => {
    const raw = await readNifti(fixturePath('volumes', name), { canonical: false });
    compare(raw, REF.nifti[name]);
    const can = await readNifti(fixturePath('volumes', name));
    expect(['SPL', 'AIL', 'LIP']).toContain(can.orientation);
    expectSameWorld(raw, can);
  });

  it('reads big-endian float32 and reports NaN voxels by file and index', async () => {
    const path = fixturePath('volumes', 'resampled_anat_moved.nii');
    await expect(readNifti(path)).rejects.toThrow(/resampled_anat_moved\.nii: voxel \(d, h, w\) = \(\d+, \d+, \d+\) is NaN/);
    compare(await readNifti(path, { canonical: false, allowNonFinite: true }), REF.nifti['resampled_anat_moved.nii']);
  });

  it('applies scl_slope and scl_inter and picks a 4D volume', async () => {
    const v = await readNifti(fixturePath('volumes', 'qform_scaled.nii'), { canonical: false });
    expect(v.meta.sclSlope).toBe(2);
    expect(v.meta.sclInter).toBe(-5);
    expect(((v.data[0] + 5) / 2) % 1).toBe(0);
    const v1 = await readNifti(fixturePath('volumes', 'example_nifti2.nii.gz'), { canonical: false, volume: 1 });
    expect(v1.meta.volumes).toBe(2);
    expect(v1.data).not.toEqual((await readNifti(fixturePath('volumes', 'example_nifti2.nii.gz'), { canonical: false })).data);
    await expect(readNifti(fixturePath('volumes', 'example_nifti2.nii.gz'), { volume: 2 })).rejects.toThrow('volume index must be an integer in [0, 2), got 2');
  });

  const files = ['anatomical.nii', 'functional.nii', 'example4d.nii.gz', 'reoriented_anat_moved.nii'];
  const system = needs(fs.existsSync(SYSTEM), "nibabel's test data", 'apt-get install python3-nibabel') ? it.each(files) : it.skip.each(files);
  system('installed nibabel file %s', async (name) => {
    compare(await readNifti(`${SYSTEM}/${name}`, { canonical: false, allowNonFinite: true }), REF.nifti[`system:${name}`]);
  });
});

describe('NIfTI errors', () => {
  it('names the file and the problem', () => {
    const good = fs.readFileSync(fixturePath('volumes', 'qform_scaled.nii'));
    expect(() => parseNifti(new Uint8Array(good.subarray(0, 400)), 'cut.nii')).toThrow(/cut\.nii: truncated NIfTI data: int16\[5, 6, 7\] needs \d+ bytes/);
    expect(() => parseNifti(new Uint8Array(100), 'tiny.nii')).toThrow('tiny.nii: not a NIfTI file (expected at least a 348-byte header, got 100 bytes)');
    expect(() => parseNifti(new Uint8Array(400), 'zero.nii')).toThrow('zero.nii: not a NIfTI file (sizeof_hdr must be 348 or 540');
    const gz = fs.readFileSync(fixturePath('volumes', 'example_nifti2.nii.gz'));
    expect(() => parseNifti(new Uint8Array(gz.subarray(0, 5000)), 'part.nii.gz')).toThrow(/part\.nii\.gz: (gzip member 1: corrupt or truncated DEFLATE|truncated NIfTI)/);
    const bad = new Uint8Array(good);
    new DataView(bad.buffer).setInt16(70, 128, true);
    expect(() => parseNifti(bad, 'rgb.nii')).toThrow('rgb.nii: unsupported NIfTI datatype RGB24 (code 128)');
  });
});

describe('encodeNifti', () => {
  it('round-trips voxels and an oblique affine through .nii.gz', async () => {
    const src = await readNifti(fixturePath('volumes', 'qform_scaled.nii'), { canonical: false });
    const back = parseNifti(encodeNifti(src), 'round-trip', { canonical: false });
    expect(back.shape).toEqual(src.shape);
    expect(Array.from(back.data)).toEqual(Array.from(src.data));
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(back.affine[r][c]).toBeCloseTo(src.affine[r][c], 5);
    expect(back.meta.sformCode).toBe(1);
    // With the sform cleared, the written qform alone must give the same affine.
    const bytes = encodeNifti(src, { gzip: false });
    new DataView(bytes.buffer).setInt16(254, 0, true);
    const q = parseNifti(bytes, 'qform only', { canonical: false });
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(q.affine[r][c]).toBeCloseTo(src.affine[r][c], 4);
    expect(toCanonical(q).orientation).toBe(toCanonical(src).orientation);
  });
});

describe('hostile and broken NIfTI files', () => {
  const small = { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), shape: [2, 3, 4] as [number, number, number], affine: [[2, 0, 0, 1], [0, 3, 0, 2], [0, 0, 4, 3], [0, 0, 0, 1]] };
  const plain = (): Uint8Array => encodeNifti(small, { gzip: false });
  const f32 = (b: Uint8Array, at: number, v: number): Uint8Array => {
    new DataView(b.buffer, b.byteOffset).setFloat32(at, v, true);
    return b;
  };

  it('refuses a NaN vox_offset instead of reading voxels from byte 0', () => {
    expect(() => parseNifti(f32(plain(), 108, NaN), 'nan.nii')).toThrow('nan.nii: vox_offset must be a finite, non-negative byte offset, got NaN');
  });

  it('checks the length of every volume of a 4D file, not only the one asked for', () => {
    const b = plain();
    const view = new DataView(b.buffer);
    view.setInt16(40, 4, true);
    view.setInt16(48, 2, true); // dim[4] = 2 volumes; the file holds one
    expect(() => parseNifti(b, 'cut4d.nii', { volume: 0 })).toThrow(/cut4d\.nii: truncated NIfTI data: float32\[4, 3, 2, 2\] needs 192 bytes from vox_offset 352, the file has 96/);
  });

  it('refuses an infinite scl_inter with a valid slope (nibabel does too)', () => {
    const b = f32(f32(plain(), 112, 2), 116, Infinity);
    expect(() => parseNifti(b, 'inter.nii')).toThrow('inter.nii: scl_slope 2 with a non-finite scl_inter Infinity');
    // A zero slope still means "no scaling", whatever the intercept.
    expect(parseNifti(f32(f32(plain(), 112, 0), 116, Infinity), 'noscale.nii', { canonical: false }).data[5]).toBe(5);
  });

  it('falls back to the qform when the sform is NaN, and refuses when there is none', () => {
    const b = f32(plain(), 280, NaN);
    const v = parseNifti(b, 'nansform.nii', { canonical: false });
    expect(v.meta.affineFrom).toBe('qform');
    expect(v.affine.flat().every(Number.isFinite)).toBe(true);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(v.affine[r][c]).toBeCloseTo(small.affine[r][c], 5);
    new DataView(b.buffer).setInt16(252, 0, true); // qform_code 0
    expect(() => parseNifti(b, 'nansform.nii')).toThrow(/nansform\.nii: sform \(srow_x\/y\/z\) \[NaN, .* is not finite or has a zero-length axis, and there is no usable qform/);
  });

  it('treats a sform with a zero-length axis like a NaN one (no spacing of 0)', () => {
    const b = plain();
    for (const r of [0, 1, 2]) f32(b, 280 + 16 * r + 4 * 2, 0); // column i of srow_x/y/z
    const v = parseNifti(b, 'flat.nii', { canonical: false });
    expect(v.meta.affineFrom).toBe('qform');
    expect(v.spacing.every((x) => x > 0)).toBe(true);
  });

  it('reads an undefined qform/sform code (257) as unknown, as nibabel does', () => {
    const b = plain();
    const view = new DataView(b.buffer);
    view.setInt16(252, 257, true);
    view.setInt16(254, 0, true);
    const v = parseNifti(b, 'code.nii', { canonical: false });
    expect(v.meta.qformCode).toBe(0);
    expect(v.meta.affineFrom).toBe('pixdim');
  });

  it('refuses corrupted voxels in a .nii.gz by the gzip CRC-32', () => {
    const gz = gzipSync(plain(), { level: 0 });
    gz[gz.length - 8 - 20] ^= 0x40; // a voxel byte of the stored block
    expect(() => parseNifti(gz, 'flip.nii.gz')).toThrow(/flip\.nii\.gz: gzip member 1 fails its CRC-32 check/);
  });

  it('reads a multi-member gzip file (bgzip) like a single-member one', () => {
    const b = plain();
    const multi = new Uint8Array([...gzipSync(b.subarray(0, 200)), ...gzipSync(b.subarray(200, 380)), ...gzipSync(b.subarray(380))]);
    const v = parseNifti(multi, 'bgzip.nii.gz', { canonical: false });
    expect(Array.from(v.data)).toEqual(Array.from(parseNifti(b, 'plain.nii', { canonical: false }).data));
  });

  it('does not inflate a gzip bomb past what the header describes', () => {
    const bomb = new Uint8Array(plain().length + 64 * 2 ** 20);
    bomb.set(plain());
    const gz = new Uint8Array(zlib.gzipSync(bomb, { level: 9 })); // node's zlib: the same format, built faster
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseNifti(gz, 'bomb.nii.gz')).toThrow(/bomb\.nii\.gz: gzip member 1: inflates past 16777664 bytes \(the header describes 448\); refused/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(48 * 2 ** 20);
  });

  it('ignores a gzip ISIZE that claims 4 GiB until the trailer is checked', () => {
    const gz = gzipSync(plain());
    new DataView(gz.buffer).setUint32(gz.length - 4, 0xffffffff, true);
    expect(() => parseNifti(gz, 'isize.nii.gz')).toThrow('isize.nii.gz: gzip member 1 ISIZE says 4294967295 bytes, it inflated to 448: the data is corrupt');
  });

  it('refuses dims whose voxels no gzip file of this size can hold, before inflating them', () => {
    const b = plain();
    const view = new DataView(b.buffer);
    [1000, 1000, 500].forEach((d, k) => view.setInt16(42 + 2 * k, d, true));
    expect(() => parseNifti(gzipSync(b), 'claims.nii.gz')).toThrow(/claims\.nii\.gz: the header describes 2000000352 bytes, more than \d+ gzip bytes can inflate to/);
  });
});
