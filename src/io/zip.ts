import type { ByteSource } from './byte_source';
import { crc32 } from './crc32';
import { InflateStream } from './inflate';
import { DEFLATE_MAX_RATIO } from './limits';

/** One file of a ZIP archive, from its central-directory record. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated (the only methods read). */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  /** CRC-32 of the uncompressed data, as the central directory records it. */
  crc: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

/**
 * A minimal, bounds-checked ZIP reader over a {@link ByteSource}: the central directory (ZIP64
 * included), stored and deflated entries. It never reads outside the archive and never allocates
 * more than an entry's bytes in the archive can hold, whatever the headers claim. Enough for the
 * archives `torch.save` writes.
 *
 * @example
 * const zip = await ZipReader.open(await openByteSource('model.pth'));
 * zip.names(); // ['archive/data.pkl', 'archive/data/0', ...]
 * const pkl = await zip.read('archive/data.pkl');
 */
export class ZipReader {
  private constructor(
    readonly source: ByteSource,
    private readonly entries: Map<string, ZipEntry>,
    /** Where the central directory starts: no entry's data may reach past it. */
    private readonly dataLimit: number,
  ) {}

  /** Reads and validates the central directory. */
  static async open(source: ByteSource): Promise<ZipReader> {
    const name = source.name;
    if (source.size < EOCD_SIZE) throw new Error(`${name}: too short for a ZIP archive (${source.size} bytes)`);
    const tailLen = Math.min(source.size, EOCD_SIZE + 0xffff);
    const tailStart = source.size - tailLen;
    const tail = await source.read(tailStart, tailLen);
    const tv = view(tail);
    let eocd = -1;
    for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${name}: no ZIP end-of-central-directory record (truncated or not a ZIP archive)`);
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    const eocdAbs = tailStart + eocd;
    let cdEnd = eocdAbs;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocdAbs < 20) throw new Error(`${name}: ZIP64 archive without a ZIP64 locator`);
      const loc = view(await source.read(eocdAbs - 20, 20));
      if (loc.getUint32(0, true) !== SIG_EOCD64_LOCATOR) throw new Error(`${name}: ZIP64 archive without a ZIP64 locator`);
      const rec64Offset = u64(loc, 8, name);
      if (rec64Offset + 56 > eocdAbs - 20) throw new Error(`${name}: ZIP64 end record offset ${rec64Offset} lies outside the archive`);
      const rec = view(await source.read(rec64Offset, 56));
      if (rec.getUint32(0, true) !== SIG_EOCD64) throw new Error(`${name}: bad ZIP64 end-of-central-directory signature`);
      count = u64(rec, 32, name);
      cdSize = u64(rec, 40, name);
      cdOffset = u64(rec, 48, name);
      cdEnd = rec64Offset;
    }
    if (cdOffset + cdSize > cdEnd) throw new Error(`${name}: central directory [${cdOffset}, ${cdOffset + cdSize}) lies outside the archive (truncated?)`);
    if (count * CENTRAL_SIZE > cdSize) throw new Error(`${name}: central directory claims ${count} entries but holds only ${cdSize} bytes`);
    const cd = await source.read(cdOffset, cdSize);
    const cv = view(cd);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_SIZE > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) throw new Error(`${name}: corrupt central directory at entry ${i}`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc = cv.getUint32(p + 16, true);
      let compressedSize = cv.getUint32(p + 20, true);
      let uncompressedSize = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let localHeaderOffset = cv.getUint32(p + 42, true);
      const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
      if (end > cdSize) throw new Error(`${name}: corrupt central directory at entry ${i}`);
      const entryName = new TextDecoder().decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
      // ZIP64 extra field: the 64-bit values of the fields saturated above, in this order.
      let q = p + CENTRAL_SIZE + nameLen;
      const extraEnd = q + extraLen;
      while (q + 4 <= extraEnd) {
        const id = cv.getUint16(q, true);
        const size = cv.getUint16(q + 2, true);
        if (q + 4 + size > extraEnd) break;
        if (id === 0x0001) {
          let r = q + 4;
          const next = (): number => {
            if (r + 8 > q + 4 + size) throw new Error(`${name}: corrupt ZIP64 field of '${entryName}'`);
            const v = u64(cv, r, name);
            r += 8;
            return v;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        q += 4 + size;
      }
      if (flags & 1) throw new Error(`${name}: entry '${entryName}' is encrypted`);
      if (localHeaderOffset + LOCAL_SIZE + compressedSize > cdOffset) {
        throw new Error(`${name}: entry '${entryName}' claims ${compressedSize} bytes at ${localHeaderOffset}, beyond the archive's data (truncated?)`);
      }
      // Readers disagree on which of two same-named entries counts (torch the first, Python the last).
      if (entries.has(entryName)) throw new Error(`${name}: the archive holds two entries named '${entryName}'; refusing an ambiguous archive`);
      entries.set(entryName, { name: entryName, method, compressedSize, uncompressedSize, crc, localHeaderOffset });
      p = end;
    }
    return new ZipReader(source, entries, cdOffset);
  }

  /** Names of all entries, in central-directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether an entry exists. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry called `name`, or an error naming it. */
  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.source.name}: no entry '${name}' in the archive`);
    return e;
  }

  /**
   * Absolute offset of an entry's (compressed) data, after its local header; checked to lie with
   * the whole compressed payload inside the archive's data section.
   */
  async dataOffset(name: string): Promise<number> {
    const e = this.entry(name);
    const local = view(await this.source.read(e.localHeaderOffset, LOCAL_SIZE));
    if (local.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${this.source.name}: bad local header for '${name}'`);
    const start = e.localHeaderOffset + LOCAL_SIZE + local.getUint16(26, true) + local.getUint16(28, true);
    if (start + e.compressedSize > this.dataLimit) {
      throw new Error(`${this.source.name}: data of '${name}' [${start}, ${start + e.compressedSize}) runs past the archive's data (truncated or corrupt)`);
    }
    return start;
  }

  /**
   * An uncompressed entry's data range `[offset, offset + size)` in the archive, for reading
   * parts of a large stored entry without loading it; deflated entries are an error (use
   * {@link read}).
   */
  async storedRange(name: string): Promise<{ offset: number; size: number }> {
    const e = this.entry(name);
    if (e.method !== 0) throw new Error(`${this.source.name}: entry '${name}' is compressed (method ${e.method})`);
    if (e.compressedSize !== e.uncompressedSize) throw new Error(`${this.source.name}: stored entry '${name}' has mismatched sizes`);
    return { offset: await this.dataOffset(name), size: e.uncompressedSize };
  }

  /**
   * The uncompressed bytes of an entry (stored or deflated), checked against its CRC-32. An entry
   * claiming more than `maxBytes` is refused before anything is read; a deflated one is inflated
   * into a buffer of the size its header claims and no further.
   */
  async read(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
    const e = this.entry(name);
    const start = await this.dataOffset(name);
    const what = `${this.source.name}: entry '${name}'`;
    if (e.uncompressedSize > maxBytes) throw new Error(`${what} holds ${e.uncompressedSize} bytes, more than the limit of ${maxBytes}`);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize) throw new Error(`${what}: stored entry has mismatched sizes`);
      data = await this.source.read(start, e.compressedSize);
    } else if (e.method === 8) {
      if (e.uncompressedSize > e.compressedSize * DEFLATE_MAX_RATIO + 1024) {
        throw new Error(`${what} claims ${e.uncompressedSize} bytes from ${e.compressedSize} compressed, more than DEFLATE can produce`);
      }
      const stream = new InflateStream(await this.source.read(start, e.compressedSize), what, e.uncompressedSize);
      stream.drain(e.uncompressedSize, ` (its header says ${e.uncompressedSize})`);
      if (stream.produced !== e.uncompressedSize) throw new Error(`${what} inflated to ${stream.produced} bytes, header says ${e.uncompressedSize}`);
      data = stream.data();
    } else {
      throw new Error(`${what} uses compression method ${e.method} (only stored and deflate are supported)`);
    }
    const crc = crc32(data);
    if (crc !== e.crc) throw new Error(`${what} fails its CRC-32 check (recorded ${e.crc.toString(16)}, computed ${crc.toString(16)}): the archive is corrupt`);
    return data;
  }

  /**
   * The first `length` uncompressed bytes of a deflated entry, inflating no further (the entry's
   * CRC-32 cannot be checked on a part).
   */
  async readPrefix(name: string, length: number): Promise<Uint8Array> {
    const e = this.entry(name);
    if (e.method !== 8) throw new Error(`${this.source.name}: entry '${name}' is not deflated (method ${e.method})`);
    const start = await this.dataOffset(name);
    const stream = new InflateStream(await this.source.read(start, e.compressedSize), `${this.source.name}: entry '${name}'`, length, false);
    stream.fill(length);
    if (stream.produced < length) throw new Error(`${this.source.name}: entry '${name}' inflates to ${stream.produced} bytes, ${length} are needed`);
    return stream.data();
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, offset: number, name: string): number {
  const x = v.getBigUint64(offset, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${name}: ZIP64 field value ${x} is too large`);
  return Number(x);
}
