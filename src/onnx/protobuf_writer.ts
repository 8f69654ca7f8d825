/**
 * A minimal protocol-buffers encoder: varints, fixed32 floats, length-delimited strings, bytes and
 * nested messages, enough to write ONNX's messages. Nested messages are kept as lists of chunks
 * and joined once at the end, so large tensors (raw weight bytes) are copied a single time.
 */

/** Protobuf wire types used by ONNX. */
const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

const TWO_POW_32 = 2 ** 32;
const textEncoder = new TextEncoder();

/**
 * Builds one protobuf message. Fields are appended in call order; `finish()` returns the bytes.
 *
 * @example
 * const w = new ProtoWriter();
 * w.int64(1, 150);            // field 1 = 150: bytes 08 96 01
 * w.string(2, 'hi');          // field 2 = "hi": bytes 12 02 68 69
 * w.finish();                 // Uint8Array [0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69]
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.size + this.scratch.length;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  private pushChunk(bytes: Uint8Array): void {
    this.flushScratch();
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** An unsigned varint; negative values are written as 64-bit two's complement (10 bytes), as protobuf's int64. */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`ProtoWriter: expected a safe integer, got ${value}`);
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        this.scratch.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.scratch.push(Number(v));
      return;
    }
    let v = value;
    // Above 2^32 bitwise operators would truncate: divide instead.
    while (v >= 0x80) {
      this.scratch.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.scratch.push(v);
  }

  private tag(field: number, wire: number): void {
    if (!(Number.isInteger(field) && field > 0 && field < 2 ** 29)) throw new Error(`ProtoWriter: invalid field number ${field}`);
    this.varint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field (varint). */
  int64(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  /** A bytes field. The bytes are referenced, not copied, until {@link finish}. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH);
    this.varint(value.length);
    this.pushChunk(value);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** A nested message field. */
  message(field: number, inner: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH);
    this.varint(inner.length);
    inner.flushScratch();
    for (const c of inner.chunks) this.pushChunk(c);
    return this;
  }

  /** A packed repeated int64 field (one length-delimited run of varints). */
  packedInt64(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.tag(field, WIRE_LENGTH);
    this.varint(inner.length);
    inner.flushScratch();
    for (const c of inner.chunks) this.pushChunk(c);
    return this;
  }

  /** A packed repeated float field. */
  packedFloat(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  /** The encoded message. */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Largest message protobuf (and so ONNX without external data) can hold: 2 GiB - 1. */
export const PROTOBUF_MAX_BYTES = TWO_POW_32 / 2 - 1;
