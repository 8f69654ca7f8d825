import type { ByteSource } from './byte_source';

/**
 * Element types found in checkpoint files, named as safetensors names them. Floats decode to
 * float32, integers and booleans to int32 (tfjs has no 64-bit or 16-bit types).
 */
export type RawDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each {@link RawDtype}. */
export const RAW_DTYPE_BYTES: Readonly<Record<RawDtype, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Whether a dtype decodes to float32 (true) or int32 (false). */
export function isFloatDtype(dtype: RawDtype): boolean {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64';
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 half to float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

// Every half value, built once on first use (256 KB): a table lookup beats the arithmetic on
// multi-million-element F16 checkpoints.
let halfTable: Float32Array | undefined;
function getHalfTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  return halfTable;
}

/**
 * float32 values to IEEE 754 half bits, rounded to nearest even (as `torch.Tensor.half()`):
 * magnitudes past 65504 become infinity, below 2^-24 zero or subnormal.
 */
export function floatsToHalf(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // Subnormal half (or zero): the implicit bit joins the mantissa, shifted right by 14 - e.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const m = mant | 0x800000;
      const shift = 14 - e;
      const half = m >>> shift;
      const rest = m & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      out[i] = sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
    } else {
      const half = (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      // A carry out of the mantissa correctly bumps the exponent (up to infinity).
      out[i] = sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
    }
  }
  return out;
}

/** float32 values to bfloat16 bits (the upper half of float32), rounded to nearest even; NaN stays NaN. */
export function floatsToBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Decodes `n` elements of `dtype` from `bytes` (which must hold at least `n` elements) to float32
 * (float types) or int32 (integer and bool types). 64-bit integers outside the int32 range are
 * an error rather than silently wrapped.
 */
export function decodeRaw(dtype: RawDtype, bytes: Uint8Array, n: number, littleEndian = true): Float32Array | Int32Array {
  const need = n * RAW_DTYPE_BYTES[dtype];
  if (bytes.byteLength < need) throw new Error(`decodeRaw: ${dtype}[${n}] needs ${need} bytes, got ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, need);
  const native = littleEndian === LITTLE_ENDIAN_HOST;
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      if (native) new Uint8Array(out.buffer).set(bytes.subarray(0, need));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, littleEndian);
      return out;
    }
    case 'F16': {
      const table = getHalfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, littleEndian)];
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, littleEndian) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, littleEndian);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(8 * i + (littleEndian ? 0 : 4), littleEndian);
        const hi = view.getInt32(8 * i + (littleEndian ? 4 : 0), littleEndian);
        // Fits int32 exactly when the high word is the sign extension of the low word.
        if (hi !== (lo | 0) >> 31) throw new Error(`decodeRaw: I64 value at index ${i} (${view.getBigInt64(8 * i, littleEndian)}) does not fit int32`);
        out[i] = lo | 0;
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      if (native) new Uint8Array(out.buffer).set(bytes.subarray(0, need));
      else for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, littleEndian);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, littleEndian);
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
      for (let i = 0; i < n; i++) out[i] = bytes[i];
      return out;
    }
  }
}

/**
 * Reads and decodes `n` elements at `offset` of a source. F32 (and I32) in the host's byte order
 * are read straight into the result's memory, so a large tensor costs one copy, not two.
 */
export async function readDecoded(src: ByteSource, offset: number, dtype: RawDtype, n: number, littleEndian = true): Promise<Float32Array | Int32Array> {
  const length = n * RAW_DTYPE_BYTES[dtype];
  // Checked before allocating, so a corrupt size cannot request more memory than the file holds.
  if (!Number.isSafeInteger(length) || offset < 0 || offset + length > src.size) {
    throw new Error(`${src.name}: ${dtype}[${n}] at offset ${offset} needs ${length} bytes, beyond the file's ${src.size}`);
  }
  if (littleEndian === LITTLE_ENDIAN_HOST && (dtype === 'F32' || dtype === 'I32')) {
    const out = dtype === 'F32' ? new Float32Array(n) : new Int32Array(n);
    await src.readInto(offset, new Uint8Array(out.buffer));
    return out;
  }
  return decodeRaw(dtype, await src.read(offset, length), n, littleEndian);
}
