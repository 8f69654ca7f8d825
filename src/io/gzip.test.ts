import { gzipSync, deflateSync } from 'fflate';
import { crc32 } from './crc32';
import { GunzipStream, gunzipBounded } from './gzip';
import { InflateStream } from './inflate';
import { concatBytes } from '../utils/bytes';

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff; // incompressible: each DEFLATE input chunk yields about as many bytes
  }
  return out;
}


describe('crc32', () => {
  it('gives the check value of the CRC-32 catalogue', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('continues across chunks', () => {
    const b = bytesOf(1000, 3);
    expect(crc32(b.subarray(400), crc32(b.subarray(0, 400)))).toBe(crc32(b));
  });
});

describe('InflateStream', () => {
  it('inflates only as far as asked and finds where the stream ends', () => {
    const plain = bytesOf(300_000, 1);
    const packed = concatBytes(deflateSync(plain), new Uint8Array([9, 9, 9]));
    const s = new InflateStream(packed, 'x', 1000);
    s.fill(1000);
    expect(s.produced).toBeLessThan(plain.length);
    expect(Array.from(s.data())).toEqual(Array.from(plain.subarray(0, 1000)));
    s.drain(plain.length);
    expect(s.produced).toBe(plain.length);
    expect(s.end).toBe(packed.length - 3);
    expect(s.crc).toBe(crc32(plain));
  });

  it('refuses a stream that inflates past the limit', () => {
    const bomb = deflateSync(new Uint8Array(8 * 2 ** 20));
    const s = new InflateStream(bomb, 'bomb', 16);
    expect(() => s.drain(2 ** 20)).toThrow(/bomb: inflates past 1048576 bytes/);
    expect(s.data().length).toBe(16);
  });
});

describe('GunzipStream', () => {
  const a = bytesOf(70_000, 5);
  const b = bytesOf(50_000, 6);

  it('reads every member of a multi-member file (as bgzip writes) as one stream', () => {
    const gz = concatBytes(gzipSync(a, { filename: 'a.nii' }), gzipSync(b));
    const out = gunzipBounded(gz, 1 << 20, 'ab.gz');
    expect(out.length).toBe(a.length + b.length);
    expect(Array.from(out.subarray(a.length - 3, a.length + 3))).toEqual([...a.subarray(-3), ...b.subarray(0, 3)]);
  });

  it('keeps only the bytes asked for while still checking the whole stream', () => {
    const gz = concatBytes(gzipSync(a), gzipSync(b));
    const s = new GunzipStream(gz, 'ab.gz', 80_000);
    s.fill(80_000);
    s.finish(a.length + b.length);
    expect(s.data().length).toBe(80_000);
    expect(s.data()[75_000]).toBe(b[5_000]);
  });

  it('refuses a corrupted member by its CRC-32', () => {
    const plain = new Uint8Array(5000);
    const gz = gzipSync(plain, { level: 0 });
    gz[100] ^= 1; // a stored block: the flipped bit reaches the output unnoticed by DEFLATE
    expect(() => gunzipBounded(gz, 1 << 20, 'c.gz')).toThrow(/c\.gz: gzip member 1 fails its CRC-32 check/);
  });

  it('refuses a wrong ISIZE', () => {
    const gz = gzipSync(a);
    gz[gz.length - 4] ^= 1;
    expect(() => gunzipBounded(gz, 1 << 20, 'i.gz')).toThrow(/ISIZE says/);
  });

  it('names a truncated file', () => {
    const gz = gzipSync(a);
    expect(() => gunzipBounded(gz.subarray(0, gz.length - 5), 1 << 20, 't.gz')).toThrow(/t\.gz: gzip member 1 lacks its 8-byte CRC-32\/ISIZE trailer/);
    expect(() => gunzipBounded(gz.subarray(0, 200), 1 << 20, 't.gz')).toThrow(/t\.gz: gzip member 1: .*truncated/);
  });

  it('does not believe an ISIZE that claims 4 GiB: nothing is reserved up front', () => {
    const gz = gzipSync(a);
    new DataView(gz.buffer).setUint32(gz.length - 4, 0xffffffff, true);
    const s = new GunzipStream(gz, 'big.gz', 100);
    s.fill(100);
    expect(s.data().length).toBe(100);
    expect(() => s.finish(1 << 20)).toThrow(/ISIZE says 4294967295 bytes, it inflated to 70000/);
  });

  it('tolerates zero padding after the last member but refuses other trailing bytes', () => {
    expect(gunzipBounded(concatBytes(gzipSync(a), new Uint8Array(7)), 1 << 20, 'p.gz').length).toBe(a.length);
    expect(() => gunzipBounded(concatBytes(gzipSync(a), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])), 1 << 20, 'g.gz')).toThrow(/g\.gz: gzip member 2 at byte \d+: no gzip magic/);
  });
});
