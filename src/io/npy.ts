import * as tf from '@tensorflow/tfjs';
import { readBytes } from './files';
import { halfToFloat } from './raw_dtypes';
import { gatherStrided } from './strided';

/** NumPy element types {@link readNpy} understands. */
export type NpyDtype = 'float16' | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

/** The typed array each {@link NpyDtype} is returned in (float16 is widened to float32). */
export type NpyData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** An array read from a `.npy` file: values in C (row-major) order, in the host's byte order. */
export interface NpyArray {
  /** Element values in C order (a Fortran-ordered file is transposed on read). */
  data: NpyData;
  /** Shape, `[]` for a scalar. */
  shape: number[];
  /** NumPy's element type of the file. */
  dtype: NpyDtype;
}

interface DtypeInfo {
  dtype: NpyDtype;
  bytes: number;
}

const KINDS: Record<string, DtypeInfo> = {
  f2: { dtype: 'float16', bytes: 2 },
  f4: { dtype: 'float32', bytes: 4 },
  f8: { dtype: 'float64', bytes: 8 },
  i1: { dtype: 'int8', bytes: 1 },
  u1: { dtype: 'uint8', bytes: 1 },
  i2: { dtype: 'int16', bytes: 2 },
  u2: { dtype: 'uint16', bytes: 2 },
  i4: { dtype: 'int32', bytes: 4 },
  u4: { dtype: 'uint32', bytes: 4 },
  i8: { dtype: 'int64', bytes: 8 },
  u8: { dtype: 'uint64', bytes: 8 },
  b1: { dtype: 'bool', bytes: 1 },
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TYPED: Record<Exclude<NpyDtype, 'float16' | 'bool'>, new (buffer: ArrayBuffer) => NpyData> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses `.npy` bytes (format versions 1, 2 and 3; little- or big-endian; C or Fortran order).
 * The header is validated against the buffer before anything is allocated: a file shorter than
 * its shape needs is an error naming both sizes.
 *
 * @example
 * const { data, shape, dtype } = parseNpy(bytes); // shape [32, 256, 256], dtype 'uint8'
 */
export function parseNpy(bytes: Uint8Array, source = 'npy'): NpyArray {
  if (bytes.byteLength < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new Error(`${source}: not a NumPy .npy file (expected magic \\x93NUMPY, got ${bytes.byteLength} bytes starting ${hexStart(bytes)})`);
  }
  const major = bytes[6];
  if (bytes[7] !== 0) throw new Error(`${source}: unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw new Error(`${source}: truncated .npy v${major} preamble (${bytes.byteLength} bytes)`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${source}: unsupported .npy format version ${major}.${bytes[7]} (expected 1, 2 or 3)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.byteLength) throw new Error(`${source}: header claims ${headerLen} bytes but the file has ${bytes.byteLength - headerStart} after the preamble (truncated?)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, source);

  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const info = m ? KINDS[m[2] + m[3]] : undefined;
  if (!m || !info) {
    throw new Error(`${source}: unsupported dtype '${descr}' (expected one of float16/32/64, int8/16/32/64, uint8/16/32/64, bool)`);
  }
  // '=' means native order, which for files written by numpy on every common machine is little.
  const littleEndian = m[1] !== '>';
  const numel = shape.reduce((a, b) => a * b, 1);
  const need = numel * info.bytes;
  // A zero dimension hides the others' product: NumPy refuses shapes whose nonzero dims overflow too.
  const nonzero = shape.reduce((a, b) => a * Math.max(b, 1), 1) * info.bytes;
  if (!Number.isSafeInteger(need) || !Number.isSafeInteger(nonzero)) throw new Error(`${source}: shape [${shape.join(', ')}] overflows`);
  const have = bytes.byteLength - dataStart;
  if (need > have) {
    throw new Error(`${source}: ${info.dtype}[${shape.join(', ')}] needs ${need} data bytes but the file has ${have} (truncated?)`);
  }
  let data = decode(info, bytes.subarray(dataStart, dataStart + need), numel, littleEndian);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { data, shape, dtype: info.dtype };
}

/**
 * Reads a NumPy `.npy` file (path in Node, or bytes anywhere). Versions 1-3, either byte order,
 * float16/32/64, (u)int8/16/32/64 and bool; Fortran-ordered arrays are returned in C order.
 *
 * @example
 * const vol = await readNpy('mrnet/train/axial/0000.npy'); // { shape: [44, 256, 256], dtype: 'uint8', data }
 * const x = npyToTensor(vol, 'float32');                   // tf.Tensor3D [D, H, W]
 */
export async function readNpy(pathOrBytes: string | Uint8Array | ArrayBuffer): Promise<NpyArray> {
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : 'npy';
  return parseNpy(await readBytes(pathOrBytes), source);
}

/** The typed arrays {@link encodeNpy} writes, with their `.npy` descriptors (little-endian). */
const DESCR: [new (n: number) => NpyData, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int8Array, '|i1'],
  [Uint8Array, '|u1'],
  [Int16Array, '<i2'],
  [Uint16Array, '<u2'],
  [Int32Array, '<i4'],
  [Uint32Array, '<u4'],
  [BigInt64Array, '<i8'],
  [BigUint64Array, '<u8'],
];

/**
 * Encodes a C-ordered array as `.npy` bytes (format version 1, little-endian, the dtype of the
 * typed array), the format NumPy's `np.load` and {@link parseNpy} read.
 *
 * @example
 * fs.writeFileSync('volume.npy', encodeNpy(volume.data, volume.shape)); // np.load('volume.npy').shape == (D, H, W)
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`encodeNpy: invalid shape [${shape.join(', ')}]`);
  if (size !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] holds ${size} values, the data has ${data.length}`);
  const descr = DESCR.find(([ctor]) => data instanceof ctor)?.[1];
  if (!descr) throw new Error('encodeNpy: expected a numeric typed array');
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic, version and length take 10 bytes; the header ends in a newline on a 64-byte boundary.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out.set([1, 0], 6);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) out.set(bytes, 10 + header.length);
  else {
    const w = data.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[10 + header.length + i + j] = bytes[i + w - 1 - j];
  }
  return out;
}

/**
 * Makes a tfjs tensor of an {@link NpyArray}. By default float types become float32, integer
 * types int32 (64-bit and uint32 values must fit int32) and bool stays bool; pass `dtype` to
 * convert (e.g. `'float32'` for a uint8 volume).
 */
export function npyToTensor(npy: NpyArray, dtype?: 'float32' | 'int32' | 'bool'): tf.Tensor {
  const isFloat = npy.dtype.startsWith('float');
  const target = dtype ?? (isFloat ? 'float32' : npy.dtype === 'bool' ? 'bool' : 'int32');
  const n = npy.data.length;
  if (target === 'float32') {
    const out = npy.data instanceof Float32Array ? npy.data : new Float32Array(n);
    if (out !== npy.data) for (let i = 0; i < n; i++) out[i] = Number(npy.data[i]);
    return tf.tensor(out, npy.shape, 'float32');
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(npy.data[i]);
    if (target === 'int32' && (v > 2147483647 || v < -2147483648 || !Number.isInteger(v))) {
      throw new Error(`npyToTensor: ${npy.dtype} value ${npy.data[i]} at index ${i} is not an int32`);
    }
    out[i] = target === 'bool' ? (v !== 0 ? 1 : 0) : v;
  }
  return tf.tensor(out, npy.shape, target);
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

type Literal = string | boolean | number | Literal[];

/**
 * Parses the header's Python literal as NumPy does (`ast.literal_eval`): a dict whose keys must be
 * exactly `descr`, `fortran_order` and `shape`; a repeated key takes its last value, as in Python.
 */
function parseHeader(header: string, source: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${source}: malformed header ${JSON.stringify(header.trim().slice(0, 200))} (${what} at character ${i})`);
  };
  const ws = (): void => {
    // Python's own whitespace only (NumPy's literal_eval refuses \xa0 or \v).
    while (i < header.length && /[ \t\n\r\f]/.test(header[i])) i++;
  };
  const value = (): Literal => {
    ws();
    const c = header[i];
    if (c === "'" || c === '"') {
      const end = header.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const v = header.slice(i + 1, end);
      i = end + 1;
      return v;
    }
    if (c === '(') {
      i++;
      const items: Literal[] = [];
      for (;;) {
        ws();
        if (header[i] === ')') {
          i++;
          return items;
        }
        const v = value();
        if (Array.isArray(v)) fail('nested tuple');
        items.push(v);
        ws();
        if (header[i] === ',') i++;
        else if (header[i] !== ')') fail("expected ',' or ')'");
      }
    }
    if (c === '[') throw new Error(`${source}: structured dtypes are not supported (expected a plain numeric dtype)`);
    const m = /^(True|False|[-+]?\d+L?)/.exec(header.slice(i, i + 40));
    if (!m) return fail('expected a string, tuple, integer, True or False');
    i += m[1].length;
    if (m[1] === 'True' || m[1] === 'False') return m[1] === 'True';
    const digits = m[1].replace(/L$/, '');
    if (digits.replace(/^[-+]/, '').length > 16) fail(`integer ${digits} is too large`);
    return Number(digits);
  };
  ws();
  if (header[i] !== '{') fail("expected '{'");
  i++;
  const dict = new Map<string, Literal>();
  for (;;) {
    ws();
    if (header[i] === '}') {
      i++;
      break;
    }
    const key = value();
    if (typeof key !== 'string') fail('a key that is not a string');
    ws();
    if (header[i] !== ':') fail("expected ':'");
    i++;
    dict.set(key as string, value());
    ws();
    if (header[i] === ',') i++;
    else if (header[i] !== '}') fail("expected ',' or '}'");
  }
  ws();
  if (i !== header.length) fail('text after the dict');
  const keys = [...dict.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') throw new Error(`${source}: header keys are [${keys.join(', ')}]; NumPy requires exactly descr, fortran_order and shape`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new Error(`${source}: header 'descr' must be a string, got ${JSON.stringify(descr)}`);
  if (typeof fortran !== 'boolean') throw new Error(`${source}: header 'fortran_order' must be True or False, got ${JSON.stringify(fortran)}`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${source}: header 'shape' must be a tuple of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return { descr, fortranOrder: fortran, shape: shape as number[] };
}

function decode(info: DtypeInfo, bytes: Uint8Array, n: number, le: boolean): NpyData {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fill = <A extends { [i: number]: number | bigint }>(out: A, get: (i: number) => number | bigint): A => {
    for (let i = 0; i < n; i++) out[i] = get(i);
    return out;
  };
  if (le === LITTLE_ENDIAN_HOST && info.dtype !== 'float16' && info.dtype !== 'bool') {
    // Same byte order: one copy into a fresh, aligned buffer.
    return new TYPED[info.dtype](bytes.slice(0, n * info.bytes).buffer);
  }
  switch (info.dtype) {
    case 'float16':
      return fill(new Float32Array(n), (i) => halfToFloat(v.getUint16(2 * i, le)));
    case 'float32':
      return fill(new Float32Array(n), (i) => v.getFloat32(4 * i, le));
    case 'float64':
      return fill(new Float64Array(n), (i) => v.getFloat64(8 * i, le));
    case 'int8':
      return fill(new Int8Array(n), (i) => v.getInt8(i));
    case 'uint8':
      return bytes.slice(0, n);
    case 'bool':
      return fill(new Uint8Array(n), (i) => (bytes[i] ? 1 : 0));
    case 'int16':
      return fill(new Int16Array(n), (i) => v.getInt16(2 * i, le));
    case 'uint16':
      return fill(new Uint16Array(n), (i) => v.getUint16(2 * i, le));
    case 'int32':
      return fill(new Int32Array(n), (i) => v.getInt32(4 * i, le));
    case 'uint32':
      return fill(new Uint32Array(n), (i) => v.getUint32(4 * i, le));
    case 'int64':
      return fill(new BigInt64Array(n), (i) => v.getBigInt64(8 * i, le));
    case 'uint64':
      return fill(new BigUint64Array(n), (i) => v.getBigUint64(8 * i, le));
  }
}

/** Fortran (column-major) data to C order: element (i0, ..., ik) sits at sum i_j * prod_{l<j} shape_l. */
function fortranToC(data: NpyData, shape: number[]): NpyData {
  const strides: number[] = [];
  let s = 1;
  for (const d of shape) {
    strides.push(s);
    s *= d;
  }
  const out = new (data.constructor as new (n: number) => NpyData)(data.length);
  gatherStrided<number | bigint>(data, out, shape, strides, 0);
  return out;
}
