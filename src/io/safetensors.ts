import * as tf from '@tensorflow/tfjs';
import type { StateDict } from '../nn/module';
import { readBytes, writeFileAtomic } from './files';

/** Element types mst-ts reads from safetensors; all become float32 tensors except I32 (int32). */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

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
  if (bytes.byteLength < 8) throw new Error(`${source}: file too short for a safetensors header (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
    throw new Error(`${source}: header claims ${headerLen} bytes but the file has ${bytes.byteLength - 8} after the length field`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: header is not a JSON object`);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const entries: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [key, raw] of Object.entries(json)) {
    if (key === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
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
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new Error(`${source}: tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap`);
  }
  return { entries, metadata, dataStart };
}

/** Decodes one entry to a typed array: float32 for float and 64-bit types, int32 for smaller ints. */
export function decodeSafetensorsEntry(bytes: Uint8Array, header: SafetensorsHeader, key: string): Float32Array | Int32Array {
  const e = header.entries[key];
  const start = header.dataStart + e.dataOffsets[0];
  const n = e.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, e.dataOffsets[1] - e.dataOffsets[0]);
  switch (e.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      return out;
    }
  }
}

/** IEEE half to float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Reads a safetensors file (path in Node, or bytes anywhere) into a state dict of float32 (and
 * int32) tensors. F32, F16, BF16, F64 and integer types are converted. The header is validated
 * against the file size before anything is allocated.
 *
 * @example
 * const sd = await loadSafetensors('mst.safetensors');
 * model.loadStateDict(sd);
 */
export async function loadSafetensors(pathOrBytes: string | Uint8Array): Promise<StateDict> {
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : 'safetensors';
  const bytes = await readBytes(pathOrBytes);
  const header = parseSafetensorsHeader(bytes, source);
  const out: StateDict = {};
  for (const [key, e] of Object.entries(header.entries)) {
    const data = decodeSafetensorsEntry(bytes, header, key);
    out[key] = data instanceof Float32Array ? tf.tensor(data, e.shape, 'float32') : tf.tensor(data, e.shape, 'int32');
  }
  return out;
}

/** Encodes a state dict as safetensors bytes (F32, or I32 for int tensors), keys sorted. */
export async function encodeSafetensors(dict: StateDict, metadata?: Record<string, string>): Promise<Uint8Array> {
  const keys = Object.keys(dict).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const key of keys) {
    const t = dict[key];
    const isInt = t.dtype === 'int32' || t.dtype === 'bool';
    const values = await t.data();
    const arr = isInt ? Int32Array.from(values as Int32Array) : Float32Array.from(values as Float32Array);
    const raw = new Uint8Array(arr.buffer);
    if (!littleEndianHost) throw new Error('encodeSafetensors: big-endian hosts are not supported');
    header[key] = { dtype: isInt ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + raw.byteLength] };
    chunks.push(raw);
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
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes a state dict to a safetensors file atomically (write to a temporary file, then rename). */
export async function saveSafetensors(dict: StateDict, path: string, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, await encodeSafetensors(dict, metadata));
}
