import * as tf from '@tensorflow/tfjs';
import type { StateDict } from '../nn/module';
import { withByteSource, type ByteSource } from './byte_source';
import { writeFileAtomic } from './files';
import { RAW_DTYPE_BYTES, decodeRaw, floatsToBfloat16, floatsToHalf, readDecoded, type RawDtype } from './raw_dtypes';

export { halfToFloat } from './raw_dtypes';

/** Element types mst-ts reads from safetensors; floats become float32 tensors, integers int32. */
export type SafetensorsDtype = RawDtype;

const BYTES = RAW_DTYPE_BYTES;

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range relative to the end of the header. */
  dataOffsets: [number, number];
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  entries: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

// A header past this size is certainly corrupt (real ones are a few hundred KB at most).
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Parses and validates a safetensors header against the size of the buffer: the header length,
 * JSON, dtypes, shapes (no overflow), and that data ranges lie inside the file, match the shape
 * and do not overlap.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, source = 'safetensors'): SafetensorsHeader {
  const headerLen = checkHeaderLength(bytes.subarray(0, 8), bytes.byteLength, source);
  return parseSafetensorsJson(bytes.subarray(8, 8 + headerLen), bytes.byteLength, source);
}

/** The header length from the first 8 bytes, checked against the file size. */
function checkHeaderLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || first8.byteLength < 8) throw new Error(`${source}: file too short for a safetensors header (${fileSize} bytes)`);
  const headerLen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
    const other = otherFormat(first8);
    if (other) throw new Error(`${source}: not a safetensors file but ${other}: read it with loadCheckpoint, which picks the reader by the file's content`);
    throw new Error(`${source}: header claims ${headerLen} bytes but the file has ${fileSize - 8} after the length field`);
  }
  return headerLen;
}

/** The checkpoint format other than safetensors that these first bytes begin, if any. */
function otherFormat(head: Uint8Array): string | null {
  if (head[0] === 0x50 && head[1] === 0x4b) return 'a zip archive (torch.save, .pth/.pt/.bin/.ckpt)';
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return `a pickle (protocol ${head[1]}: a legacy torch.save file)`;
  return null;
}

/**
 * Reads and validates the header of a safetensors source without reading any tensor data, so
 * listing a multi-GB file costs a few kilobytes.
 */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  const headerLen = checkHeaderLength(await src.read(0, Math.min(8, src.size)), src.size, src.name);
  return parseSafetensorsJson(await src.read(8, headerLen), src.size, src.name);
}

/** Validates the JSON header (bytes after the length field) of a file of `fileSize` bytes. */
function parseSafetensorsJson(headerBytes: Uint8Array, fileSize: number, source: string): SafetensorsHeader {
  const headerLen = headerBytes.byteLength;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(headerBytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: header is not a JSON object`);
  const dataStart = 8 + headerLen;
  const dataLen = fileSize - dataStart;
  // Null-prototype: a tensor named `__proto__` is an entry like any other, not a prototype.
  const entries: Record<string, SafetensorsEntry> = Object.create(null);
  let metadata: Record<string, string> = Object.create(null);
  const ranges: [number, number, string][] = [];
  for (const [key, raw] of Object.entries(json)) {
    if (key === '__metadata__') {
      if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string'))) {
        throw new Error(`${source}: __metadata__ must map strings to strings`);
      }
      metadata = Object.assign(Object.create(null), raw);
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafetensorsDtype;
    if (!(typeof dtype === 'string' && dtype in BYTES)) throw new Error(`${source}: tensor '${key}' has unsupported dtype ${String(e?.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor '${key}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const numel = shape.reduce((a: number, b: number) => a * b, 1);
    if (!Number.isSafeInteger(numel * BYTES[dtype])) throw new Error(`${source}: tensor '${key}' shape [${shape}] overflows`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) {
      throw new Error(`${source}: tensor '${key}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    if (offs[1] > dataLen) throw new Error(`${source}: tensor '${key}' data [${offs}] lies beyond the file's ${dataLen} data bytes`);
    if (offs[1] - offs[0] !== numel * BYTES[dtype]) {
      throw new Error(`${source}: tensor '${key}' holds ${offs[1] - offs[0]} bytes but ${dtype}[${shape}] needs ${numel * BYTES[dtype]}`);
    }
    entries[key] = { dtype, shape: shape as number[], dataOffsets: [offs[0], offs[1]] };
    ranges.push([offs[0], offs[1], key]);
  }
  // As the reference implementation: the ranges tile the data section, from 0 to its end, without
  // gaps or overlaps; a header length cut short or into the padding shifts them and is caught here.
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  let last = '';
  for (const [start, stop, key] of ranges) {
    if (start < end) throw new Error(`${source}: tensors '${last}' and '${key}' overlap`);
    if (start > end) throw new Error(`${source}: tensor '${key}' starts at data byte ${start}, leaving bytes ${end}..${start} of the data section unused (offsets must tile it)`);
    end = stop;
    last = key;
  }
  if (end !== dataLen) throw new Error(`${source}: the tensors cover ${end} of the ${dataLen} data bytes after the header (offsets must tile the data section; header length wrong?)`);
  return { entries, metadata, dataStart };
}

/** Decodes one entry to a typed array: float32 for float types, int32 for integer and bool types. */
export function decodeSafetensorsEntry(bytes: Uint8Array, header: SafetensorsHeader, key: string): Float32Array | Int32Array {
  const e = header.entries[key];
  const start = header.dataStart + e.dataOffsets[0];
  const n = e.shape.reduce((a, b) => a * b, 1);
  try {
    return decodeRaw(e.dtype, bytes.subarray(start, header.dataStart + e.dataOffsets[1]), n);
  } catch (err) {
    throw new Error(`safetensors: tensor '${key}': ${(err as Error).message}`);
  }
}

/**
 * Reads a safetensors file (path in Node, or bytes anywhere) into a state dict of float32 (and
 * int32) tensors. F32, F16, BF16, F64 and integer types are converted; int8 weights written by
 * {@link encodeSafetensors} with `dtype: 'int8'` are dequantised. The header is validated
 * against the file size before anything is allocated. A path is read tensor by tensor through a
 * file handle, so a multi-GB file never sits in memory next to its tensors.
 *
 * @example
 * const sd = await loadSafetensors('mst.safetensors');
 * model.loadStateDict(sd);
 */
export async function loadSafetensors(pathOrBytes: string | Uint8Array): Promise<StateDict> {
  return withByteSource(pathOrBytes, async (src) => {
    const header = await readSafetensorsHeader(src);
    const int8 = header.metadata.mst_ts_weight_dtype === 'int8';
    const out: StateDict = Object.create(null);
    const read = async (key: string, e: SafetensorsEntry): Promise<Float32Array | Int32Array> => {
      try {
        return await readDecoded(src, header.dataStart + e.dataOffsets[0], e.dtype, e.shape.reduce((a, b) => a * b, 1));
      } catch (err) {
        throw new Error(`${src.name}: tensor '${key}': ${(err as Error).message}`);
      }
    };
    try {
      for (const [key, e] of Object.entries(header.entries)) {
        if (int8 && key.endsWith(INT8_SCALE_SUFFIX)) continue;
        const scaleEntry = int8 && e.dtype === 'I8' ? header.entries[key + INT8_SCALE_SUFFIX] : undefined;
        let data = await read(key, e);
        if (scaleEntry) {
          if (scaleEntry.dtype !== 'F32' || scaleEntry.shape.length !== 1 || scaleEntry.shape[0] !== e.shape[0]) {
            throw new Error(`${src.name}: int8 tensor '${key}' [${e.shape}] needs F32 scales [${e.shape[0]}] under '${key}${INT8_SCALE_SUFFIX}', got ${scaleEntry.dtype} [${scaleEntry.shape}]`);
          }
          data = dequantizeInt8(data as Int32Array, (await read(key + INT8_SCALE_SUFFIX, scaleEntry)) as Float32Array);
        }
        out[key] = data instanceof Float32Array ? tf.tensor(data, e.shape, 'float32') : tf.tensor(data, e.shape, 'int32');
      }
    } catch (err) {
      for (const t of Object.values(out)) t.dispose();
      throw err;
    }
    return out;
  }, 'safetensors');
}

function dequantizeInt8(q: Int32Array, scales: Float32Array): Float32Array {
  const rows = scales.length;
  const cols = rows === 0 ? 0 : q.length / rows;
  const out = new Float32Array(q.length);
  for (let r = 0; r < rows; r++) {
    const s = scales[r];
    for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c] * s;
  }
  return out;
}

/**
 * How float tensors are stored: `float32` (F32, exact), `float16` (F16) or `bfloat16` (BF16),
 * half the bytes, or `int8` (I8 with one float32 scale per output channel, a quarter). Readers
 * convert back to float32 on load ({@link loadSafetensors}; PyTorch's safetensors reads F16 and
 * BF16 as such, and the int8 layout is mst-ts's own).
 */
export type WeightDtype = 'float32' | 'float16' | 'bfloat16' | 'int8';

/** Options of {@link encodeSafetensors} and {@link saveSafetensors}. */
export interface SafetensorsWriteOptions {
  /**
   * Storage of float tensors of rank >= 2 (weight matrices, convolution kernels, embeddings;
   * default `float32`). Rank 0-1 tensors (biases, norms, LayerScale) stay float32: they are a
   * tiny share of the bytes and the most sensitive to rounding. Integer tensors stay I32.
   */
  dtype?: WeightDtype;
}

/** Key suffix of an int8 tensor's per-output-channel scales (F32, shape `[shape[0]]`). */
export const INT8_SCALE_SUFFIX = '.__int8_scale';

const WEIGHT_DTYPES: readonly WeightDtype[] = ['float32', 'float16', 'bfloat16', 'int8'];

/**
 * Symmetric per-output-channel int8 quantisation of a `[rows, ...]` tensor (PyTorch layout: axis 0
 * is the output channel): `q = round(x / s)`, `s = max |row| / 127` (1 for an all-zero row).
 */
function quantizeInt8(values: Float32Array, rows: number): { q: Int8Array; scales: Float32Array } {
  const cols = rows === 0 ? 0 : values.length / rows;
  const q = new Int8Array(values.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      if (v > max) max = v;
      else if (-v > max) max = -v;
    }
    scales[r] = max > 0 ? max / 127 : 1;
    // Rounding half away from zero; |x / s| <= 127 by construction (a float32 s rounds at most 1 ulp).
    const inv = 1 / scales[r];
    for (let c = 0; c < cols; c++) {
      const x = values[r * cols + c] * inv;
      const k = x >= 0 ? (x + 0.5) | 0 : -((-x + 0.5) | 0);
      q[r * cols + c] = k > 127 ? 127 : k < -127 ? -127 : k;
    }
  }
  return { q, scales };
}

/**
 * Encodes a state dict as safetensors bytes, keys sorted: F32 (or, with `options.dtype`, F16, BF16
 * or int8 for float tensors of rank >= 2) and I32 for int tensors. With `int8`, each such tensor
 * `k` is stored as I8 next to `k` + {@link INT8_SCALE_SUFFIX}, and the metadata field
 * `mst_ts_weight_dtype` says `int8`.
 *
 * @example
 * const half = await encodeSafetensors(model.stateDict(), undefined, { dtype: 'float16' });
 */
export async function encodeSafetensors(dict: StateDict, metadata?: Record<string, string>, options: SafetensorsWriteOptions = {}): Promise<Uint8Array> {
  const dtype = options.dtype ?? 'float32';
  if (!WEIGHT_DTYPES.includes(dtype)) throw new Error(`encodeSafetensors: dtype must be one of ${WEIGHT_DTYPES.join(', ')}, got '${String(dtype)}'`);
  if (!littleEndianHost) throw new Error('encodeSafetensors: big-endian hosts are not supported');
  // No prototype: a tensor named '__proto__' is written under its name, not as the header's prototype.
  const header: Record<string, unknown> = Object.create(null);
  const meta = dtype === 'int8' ? { ...metadata, mst_ts_weight_dtype: 'int8' } : metadata;
  if (meta) header.__metadata__ = meta;
  const entries: [string, RawDtype, number[], Uint8Array][] = [];
  for (const key of Object.keys(dict)) {
    const t = dict[key];
    if (key.endsWith(INT8_SCALE_SUFFIX)) throw new Error(`encodeSafetensors: key '${key}' ends with the reserved suffix ${INT8_SCALE_SUFFIX}`);
    const isInt = t.dtype === 'int32' || t.dtype === 'bool';
    const values = await t.data();
    if (isInt) {
      entries.push([key, 'I32', t.shape, bytesOf(Int32Array.from(values as Int32Array))]);
      continue;
    }
    const floats = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    if (dtype === 'float32' || t.rank < 2) entries.push([key, 'F32', t.shape, bytesOf(Float32Array.from(floats))]);
    else if (dtype === 'float16') entries.push([key, 'F16', t.shape, bytesOf(floatsToHalf(floats))]);
    else if (dtype === 'bfloat16') entries.push([key, 'BF16', t.shape, bytesOf(floatsToBfloat16(floats))]);
    else {
      const { q, scales } = quantizeInt8(floats, t.shape[0]);
      entries.push([key, 'I8', t.shape, bytesOf(q)], [key + INT8_SCALE_SUFFIX, 'F32', [t.shape[0]], bytesOf(scales)]);
    }
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let offset = 0;
  for (const [key, code, shape, raw] of entries) {
    header[key] = { dtype: code, shape, data_offsets: [offset, offset + raw.byteLength] };
    offset += raw.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const [, , , raw] of entries) {
    out.set(raw, pos);
    pos += raw.byteLength;
  }
  return out;
}

function bytesOf(a: Float32Array | Int32Array | Uint16Array | Int8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes a state dict to a safetensors file atomically (write to a temporary file, then rename),
 * float tensors stored as `options.dtype` (see {@link encodeSafetensors}).
 *
 * @example
 * await saveSafetensors(model.stateDict(), 'mst.f16.safetensors', undefined, { dtype: 'float16' });
 */
export async function saveSafetensors(dict: StateDict, path: string, metadata?: Record<string, string>, options: SafetensorsWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, await encodeSafetensors(dict, metadata, options));
}
