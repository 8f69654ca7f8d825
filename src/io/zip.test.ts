import { zipSync } from 'fflate';
import { bytesSource } from './byte_source';
import { ZipReader } from './zip';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function archive(): Uint8Array {
  return zipSync({ 'a/stored.txt': [text('hello stored'), { level: 0 }], 'a/deflated.txt': [text('x'.repeat(5000)), { level: 9 }] });
}

/** Offset of the central-directory record of `name`. */
function centralRecord(zip: Uint8Array, name: string): number {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 46 < zip.byteLength; i++) {
    if (v.getUint32(i, true) !== 0x02014b50) continue;
    const n = v.getUint16(i + 28, true);
    if (new TextDecoder().decode(zip.subarray(i + 46, i + 46 + n)) === name) return i;
  }
  throw new Error(`no record for ${name}`);
}

describe('ZipReader', () => {
  it('lists entries and reads stored and deflated ones', async () => {
    const zip = await ZipReader.open(bytesSource(archive(), 'a.zip'));
    expect(zip.names().sort()).toEqual(['a/deflated.txt', 'a/stored.txt']);
    expect(new TextDecoder().decode(await zip.read('a/stored.txt'))).toBe('hello stored');
    expect(new TextDecoder().decode(await zip.read('a/deflated.txt'))).toBe('x'.repeat(5000));
    const r = await zip.storedRange('a/stored.txt');
    expect(r.size).toBe(12);
    await expect(zip.read('a/missing')).rejects.toThrow(/a\.zip: no entry 'a\/missing' in the archive/);
  });

  it('refuses a truncated archive', async () => {
    const zip = archive();
    await expect(ZipReader.open(bytesSource(zip.subarray(0, zip.byteLength - 30), 't.zip'))).rejects.toThrow(/t\.zip: no ZIP end-of-central-directory record/);
    await expect(ZipReader.open(bytesSource(new Uint8Array(10), 'tiny.zip'))).rejects.toThrow(/too short for a ZIP archive \(10 bytes\)/);
  });

  it('refuses an entry whose size claims more bytes than the archive holds', async () => {
    const zip = archive().slice();
    const rec = centralRecord(zip, 'a/stored.txt');
    const v = new DataView(zip.buffer);
    v.setUint32(rec + 20, 1 << 30, true);
    v.setUint32(rec + 24, 1 << 30, true);
    await expect(ZipReader.open(bytesSource(zip, 'big.zip'))).rejects.toThrow(/entry 'a\/stored\.txt' claims 1073741824 bytes .* beyond the archive's data/);
  });

  it('refuses a deflated entry claiming more output than DEFLATE can produce, without allocating it', async () => {
    const zip = archive().slice();
    const rec = centralRecord(zip, 'a/deflated.txt');
    new DataView(zip.buffer).setUint32(rec + 24, 0xfffffff0, true);
    const reader = await ZipReader.open(bytesSource(zip, 'bomb.zip'));
    await expect(reader.read('a/deflated.txt')).rejects.toThrow(/claims 4294967280 bytes from \d+ compressed, more than DEFLATE can produce/);
  });

  it('refuses a deflated entry that inflates to a different size than declared', async () => {
    const zip = archive().slice();
    const rec = centralRecord(zip, 'a/deflated.txt');
    new DataView(zip.buffer).setUint32(rec + 24, 6000, true);
    const reader = await ZipReader.open(bytesSource(zip, 'lie.zip'));
    await expect(reader.read('a/deflated.txt')).rejects.toThrow(/inflated to 5000 bytes, header says 6000/);
  });

  it('refuses a central directory that claims more entries than it can hold', async () => {
    const zip = archive().slice();
    const v = new DataView(zip.buffer);
    const eocd = zip.byteLength - 22;
    expect(v.getUint32(eocd, true)).toBe(0x06054b50);
    v.setUint16(eocd + 8, 60000, true);
    v.setUint16(eocd + 10, 60000, true);
    await expect(ZipReader.open(bytesSource(zip, 'many.zip'))).rejects.toThrow(/claims 60000 entries but holds only \d+ bytes/);
  });
});
