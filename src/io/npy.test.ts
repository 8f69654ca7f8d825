import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { fixturePath, readFixture } from '../../test/helpers';
import { encodeNpy, npyToTensor, parseNpy, readNpy } from './npy';
import { readVolume } from './read_volume';

interface ManifestEntry {
  dtype: string;
  order: string;
  shape: number[];
  values: (number | boolean)[];
  fortran: boolean;
}

// Written by tools/reference/checkpoints_ref.py with numpy.
const manifest = JSON.parse(fs.readFileSync(fixturePath('checkpoints', 'npy', 'manifest.json'), 'utf8')) as Record<string, ManifestEntry>;

describe('readNpy', () => {
  it.each(Object.keys(manifest))('reads %s as numpy wrote it', async (name) => {
    const want = manifest[name];
    const npy = await readNpy(fixturePath('checkpoints', 'npy', name));
    expect(npy.dtype).toBe(want.dtype);
    expect(npy.shape).toEqual(want.shape);
    const got = Array.from(npy.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
    const expected = want.values.map((v) => (typeof v === 'boolean' ? Number(v) : want.dtype === 'float32' ? Math.fround(v) : v));
    expect(got).toEqual(expected);
  });

  it('returns float32 data for float32 files and converts a uint8 volume to a float32 tensor', async () => {
    const npy = await readNpy(readFixture('checkpoints', 'npy', 'volume_u1.npy'));
    expect(npy.data).toBeInstanceOf(Uint8Array);
    const x = npyToTensor(npy, 'float32');
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([4, 5, 6]);
    expect(Array.from(await x.data()).slice(0, 3)).toEqual([0, 1, 2]);
    x.dispose();
    const f = await readNpy(fixturePath('checkpoints', 'npy', 'f4_be.npy'));
    expect(f.data).toBeInstanceOf(Float32Array);
  });

  it('makes int32 and bool tensors by default for integer and bool files', async () => {
    const i8 = npyToTensor(await readNpy(fixturePath('checkpoints', 'npy', 'i8_be.npy')));
    expect(i8.dtype).toBe('int32');
    expect(Array.from(await i8.data()).slice(0, 3)).toEqual([0, -1000000, -2000000]);
    const b = npyToTensor(await readNpy(fixturePath('checkpoints', 'npy', 'bool.npy')));
    expect(b.dtype).toBe('bool');
    tf.dispose([i8, b]);
  });

  it('refuses a truncated file, naming what it needs and what it has', async () => {
    await expect(readNpy(fixturePath('checkpoints', 'npy', 'truncated.npy'))).rejects.toThrow(/truncated\.npy: float32\[2, 3, 4\] needs 96 data bytes but the file has 86 \(truncated\?\)/);
  });

  it('refuses a header longer than the file, a foreign file and unsupported dtypes', () => {
    const good = readFixture('checkpoints', 'npy', 'f4_le.npy');
    expect(() => parseNpy(good.subarray(0, 40))).toThrow(/header claims 118 bytes but the file has 30 after the preamble/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/not a NumPy \.npy file \(expected magic \\x93NUMPY, got 11 bytes starting 01 02 03/);
    const header = "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }";
    const bytes = new Uint8Array(10 + header.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    bytes.set(new TextEncoder().encode(header), 10);
    expect(() => parseNpy(bytes)).toThrow(/unsupported dtype '<c8'/);
  });

  it('refuses a shape that cannot fit the file without allocating it', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }";
    const bytes = new Uint8Array(10 + header.length);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    bytes.set(new TextEncoder().encode(header), 10);
    expect(() => parseNpy(bytes)).toThrow(/needs 4000000000000000000 data bytes but the file has 0|overflows/);
  });
});

describe('encodeNpy', () => {
  it.each(['f4_le.npy', 'f8_le.npy', 'u1.npy', 'i1.npy', 'i2_le.npy', 'i4_le.npy', 'i8_le.npy', 'scalar.npy', 'volume_u1.npy'])(
    'writes %s byte for byte as numpy did',
    (name) => {
      const bytes = readFixture('checkpoints', 'npy', name);
      const npy = parseNpy(bytes);
      expect(Buffer.from(encodeNpy(npy.data, npy.shape)).equals(Buffer.from(bytes))).toBe(true);
    },
  );

  it('writes big-endian input little-endian, and names a shape that does not fit the data', () => {
    const be = parseNpy(readFixture('checkpoints', 'npy', 'f4_be.npy'));
    const back = parseNpy(encodeNpy(be.data, be.shape));
    expect(back.shape).toEqual(be.shape);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(be.data as Float32Array));
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow('encodeNpy: shape [2, 3] holds 6 values, the data has 5');
    expect(() => encodeNpy(new Float32Array(6), [2, -3])).toThrow('encodeNpy: invalid shape [2, -3]');
  });
});

describe('hostile .npy headers', () => {
  // A version 1.0 file with the header text given verbatim and `data` after it.
  const npyWith = (header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array => {
    const text = header + ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const out = new Uint8Array(10 + text.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, text.length, true);
    for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
    out.set(data, 10 + text.length);
    return out;
  };

  it('resolves a repeated key as NumPy does: the last value wins', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const npy = parseNpy(npyWith("{'descr': '|i1', 'fortran_order': False, 'shape': (8,), 'descr': '<f4', 'shape': (2,), }", data), 'dup.npy');
    expect(npy.dtype).toBe('float32');
    expect(Array.from(npy.data as Float32Array)).toEqual([1.5, -2]);
  });

  it('refuses keys NumPy refuses, and values of the wrong type, naming the key', () => {
    expect(() => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'extra': 1}"), 'x.npy')).toThrow(
      'x.npy: header keys are [descr, extra, fortran_order, shape]; NumPy requires exactly descr, fortran_order and shape',
    );
    expect(() => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': 0, 'shape': (0,)}"), 'f.npy')).toThrow("f.npy: header 'fortran_order' must be True or False, got 0");
    expect(() => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), 's.npy')).toThrow("s.npy: header 'shape' must be a tuple of non-negative integers, got [-1]");
  });

  it('refuses a shape whose nonzero dimensions overflow, even with a zero among them', () => {
    expect(() => parseNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9007199254740991), }"), 'z.npy')).toThrow('z.npy: shape [0, 9007199254740991] overflows');
  });

  it('does not return an empty array as a volume', async () => {
    const dir = fs.mkdtempSync(`${require('node:os').tmpdir()}/mst-npy-`);
    try {
      fs.writeFileSync(`${dir}/empty.npy`, npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4, 4), }"));
      await expect(readVolume(`${dir}/empty.npy`)).rejects.toThrow(/empty\.npy: an empty array \(shape \[0, 4, 4\]\) is no volume/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
