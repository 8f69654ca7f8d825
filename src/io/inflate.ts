import { Inflate } from 'fflate';
import { crc32 } from './crc32';

// fflate's streaming inflater keeps its state in `s` (f: the final block was read, l: a block is
// still open, p: bit position in `p`, the input not yet consumed); its own multi-member gunzip
// finds the end of a stream from the same fields. The version is pinned in package.json.
interface InflateInternals {
  s: { f?: number; l?: unknown; p?: number };
  p: Uint8Array;
}

// Input fed per step: DEFLATE expands at most ~1032:1, so one step produces at most ~8 MiB.
const INPUT_CHUNK = 8 * 1024;

/**
 * A raw DEFLATE stream inflated lazily and within bounds: output is produced only as far as a
 * caller asks ({@link fill}), only the first `keep` bytes are stored (the rest is counted and
 * checksummed, then dropped), and the offset where the stream ends in its input is known, so a
 * container (gzip, DICOM) can read its trailer.
 *
 * @example
 * const s = new InflateStream(deflated, 'entry', 1024);
 * s.fill(1024);            // inflate until 1 KiB is out (or the stream ends)
 * s.data();                // the first <= 1 KiB
 * s.drain(64 * 2 ** 20);   // to the end, refusing a stream longer than 64 MiB
 */
export class InflateStream {
  private readonly inflater: Inflate;
  private out = new Uint8Array(0);
  private kept = 0;
  private pushed = 0;
  /** Output bytes produced so far, kept or not. */
  produced = 0;
  /** CRC-32 of everything produced so far. */
  crc = 0;
  /** Whether the final block has been read. */
  ended = false;
  /** Offset in the input right after the stream's last byte, once {@link ended}. */
  end = -1;

  private keepBytes: number;

  constructor(
    private readonly input: Uint8Array,
    private readonly what: string,
    keep: number,
    /** Compute {@link crc} (gzip and ZIP need it; DICOM's raw DEFLATE has no checksum). */
    private readonly checksum = true,
  ) {
    this.keepBytes = keep;
    this.inflater = new Inflate((chunk) => this.onData(chunk));
  }

  /**
   * How many output bytes to store. Lowering it drops stored bytes past the new value; raising
   * it after bytes past the old value were dropped is an error.
   */
  get keep(): number {
    return this.keepBytes;
  }

  set keep(n: number) {
    if (n > this.keepBytes && this.produced > this.keepBytes) throw new Error(`${this.what}: cannot keep ${n} bytes, those past ${this.keepBytes} were already dropped`);
    this.keepBytes = n;
    this.kept = Math.min(this.kept, Math.max(0, n));
  }

  private onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.checksum) this.crc = crc32(chunk, this.crc);
    const take = Math.min(Math.max(0, this.keepBytes - this.kept), chunk.length);
    if (take > 0) {
      if (this.kept + take > this.out.length) {
        // Grow geometrically, never past `keep`.
        const grown = new Uint8Array(Math.min(this.keepBytes, Math.max(this.kept + take, 2 * this.out.length, 65536)));
        grown.set(this.out.subarray(0, this.kept));
        this.out = grown;
      }
      this.out.set(chunk.subarray(0, take), this.kept);
      this.kept += take;
    }
    this.produced += chunk.length;
  }

  private step(): void {
    const stop = Math.min(this.input.length, this.pushed + INPUT_CHUNK);
    const final = stop === this.input.length;
    try {
      this.inflater.push(this.input.subarray(this.pushed, stop), final);
    } catch (e) {
      throw new Error(`${this.what}: corrupt or truncated DEFLATE data after ${this.produced} bytes (${(e as Error).message})`);
    }
    this.pushed = stop;
    const st = this.inflater as unknown as InflateInternals;
    if (st.s.f && !st.s.l) {
      this.ended = true;
      this.end = this.pushed - st.p.length + (((st.s.p ?? 0) + 7) >> 3);
    } else if (final) {
      throw new Error(`${this.what}: DEFLATE data ends before its final block (truncated)`);
    }
  }

  /** Inflates until `n` bytes have been produced or the stream ends. */
  fill(n: number): void {
    while (!this.ended && this.produced < n) this.step();
  }

  /** Inflates to the end of the stream; throws once more than `maxTotal` bytes have come out. */
  drain(maxTotal: number, why = ''): void {
    while (!this.ended) {
      this.step();
      if (this.produced > maxTotal) throw new Error(`${this.what}: inflates past ${maxTotal} bytes${why}; refused (a decompression bomb or a corrupt stream)`);
    }
  }

  /** The stored output (at most `keep` bytes). */
  data(): Uint8Array {
    return this.out.subarray(0, this.kept);
  }
}

/**
 * Inflates a whole raw DEFLATE stream of at most `maxBytes` output bytes (the caller's limit,
 * and never more than the input can expand to) and returns it.
 */
export function inflateBounded(input: Uint8Array, maxBytes: number, what: string, checksum = true): { data: Uint8Array; crc: number; end: number } {
  const s = new InflateStream(input, what, maxBytes, checksum);
  s.drain(maxBytes);
  return { data: s.data(), crc: s.crc, end: s.end };
}
