import { crc32 } from './crc32';
import { InflateStream } from './inflate';

/** Whether `bytes` start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * A gzip file (RFC 1952) read lazily: one or more members (as `bgzip` and `cat a.gz b.gz` write)
 * whose inflated bytes form one stream. {@link fill} inflates only as far as asked and
 * {@link keep} bounds what is stored; {@link finish} inflates what is left without storing it, to
 * check every member's CRC-32 and ISIZE, and refuses a stream that runs on too long.
 *
 * @example
 * const gz = new GunzipStream(bytes, 'scan.nii.gz', 540);
 * gz.fill(540); const header = gz.data();
 * gz.keep = need; gz.fill(need); gz.finish(need + 16 * 2 ** 20);
 */
export class GunzipStream {
  private readonly done: Uint8Array[] = [];
  private doneBytes = 0;
  private member: InflateStream;
  // Offset of the current member's DEFLATE data in the file.
  private dataStart = 0;
  private members = 0;
  private finished = false;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
    private keepBytes: number,
  ) {
    this.member = this.open(0);
  }

  /** Output bytes to store; raising it is allowed until that many have been produced. */
  set keep(n: number) {
    this.keepBytes = n;
    this.member.keep = Math.max(0, n - this.doneBytes);
  }

  get keep(): number {
    return this.keepBytes;
  }

  /** Output bytes produced so far, stored or not. */
  get produced(): number {
    return this.doneBytes + this.member.produced;
  }

  // Parses the member header at `at` and starts inflating after it.
  private open(at: number): InflateStream {
    const b = this.bytes;
    const fail = (what: string): never => {
      throw new Error(`${this.source}: gzip member ${this.members + 1} at byte ${at}: ${what}`);
    };
    if (at + 10 > b.length) fail('header truncated');
    if (b[at] !== 0x1f || b[at + 1] !== 0x8b) fail('no gzip magic number (1f 8b)');
    if (b[at + 2] !== 8) fail(`compression method ${b[at + 2]} (only 8, DEFLATE, exists)`);
    const flags = b[at + 3];
    if (flags & 0xe0) fail(`reserved flag bits set (FLG ${flags})`);
    let p = at + 10;
    if (flags & 4) {
      if (p + 2 > b.length) fail('FEXTRA length truncated');
      p += 2 + (b[p] | (b[p + 1] << 8));
    }
    for (const bit of [8, 16]) {
      if (flags & bit) {
        const z = b.indexOf(0, p);
        if (z < 0) fail(`${bit === 8 ? 'FNAME' : 'FCOMMENT'} is not terminated`);
        p = z + 1;
      }
    }
    if (flags & 2) p += 2;
    if (p > b.length) fail('header runs past the end of the file');
    this.dataStart = p;
    this.members++;
    return new InflateStream(b.subarray(p), `${this.source}: gzip member ${this.members}`, Math.max(0, this.keepBytes - this.doneBytes));
  }

  // Checks the ended member's trailer and opens the next member, if any; false at the end.
  private next(): boolean {
    const m = this.member;
    const trailerAt = this.dataStart + m.end;
    if (trailerAt + 8 > this.bytes.length) throw new Error(`${this.source}: gzip member ${this.members} lacks its 8-byte CRC-32/ISIZE trailer (truncated)`);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + trailerAt, 8);
    const crc = v.getUint32(0, true);
    const isize = v.getUint32(4, true);
    if (crc !== m.crc) throw new Error(`${this.source}: gzip member ${this.members} fails its CRC-32 check (stored ${hex(crc)}, computed ${hex(m.crc)}): the data is corrupt`);
    if (isize !== m.produced % 2 ** 32) throw new Error(`${this.source}: gzip member ${this.members} ISIZE says ${isize} bytes, it inflated to ${m.produced}: the data is corrupt`);
    this.done.push(m.data());
    this.doneBytes += m.produced;
    let at = trailerAt + 8;
    // Zero padding after the last member is tolerated, as by gzip(1) and Python.
    while (at < this.bytes.length && this.bytes[at] === 0) at++;
    if (at >= this.bytes.length) {
      this.finished = true;
      return false;
    }
    this.member = this.open(trailerAt + 8);
    return true;
  }

  /** Inflates until `n` bytes have been produced or the last member ends. */
  fill(n: number): void {
    while (!this.finished && this.produced < n) {
      this.member.fill(n - this.doneBytes);
      if (this.member.ended) this.next();
    }
  }

  /** Inflates to the end, checking every trailer; refuses more than `maxTotal` bytes in all. */
  finish(maxTotal: number, why = ''): void {
    while (!this.finished) {
      this.member.drain(maxTotal - this.doneBytes, why);
      this.next();
    }
  }

  /** The stored output: the first {@link keep} bytes (fewer if the stream is shorter). */
  data(): Uint8Array {
    const parts = [...this.done, this.finished ? new Uint8Array(0) : this.member.data()].filter((p) => p.length > 0);
    const size = Math.min(this.keepBytes, parts.reduce((s, p) => s + p.length, 0));
    if (parts.length <= 1) return (parts[0] ?? new Uint8Array(0)).subarray(0, size);
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      const take = Math.min(p.length, size - at);
      out.set(p.subarray(0, take), at);
      at += take;
    }
    return out;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Reads a whole gzip file of at most `maxBytes` inflated bytes, checking every member's trailer. */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number, source: string): Uint8Array {
  const gz = new GunzipStream(bytes, source, maxBytes);
  gz.finish(maxBytes);
  return gz.data();
}

export { crc32 };
