/**
 * Structure-aware mutations of real files, as fast-check arbitraries (so a failing input shrinks
 * to fewer and smaller mutations). A mutation hits the raw bytes (`outer`) or the structure inside
 * a container (`inner`): the inflated bytes of a gzip file (re-gzipped afterwards), the pickle of
 * a torch zip (the archive rebuilt around it), the JSON header of a safetensors file or the dict
 * of a `.npy` file (their length fields fixed up), so mutations reach the parsers behind checksums.
 */
import * as fc from 'fast-check';
import { gunzipSync, gzipSync, unzipSync } from 'fflate';
import { zipArchive } from '../torch_builder';

export type Mutation =
  | { kind: 'bit'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'int'; at: number; width: 1 | 2 | 4 | 8; le: boolean; value: number }
  | { kind: 'float'; at: number; width: 4 | 8; le: boolean; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'copy'; from: number; length: number; to: number }
  | { kind: 'number'; index: number; value: string }
  | { kind: 'token'; at: number; value: string };

/** One fuzz input: which seed, which layer, which mutations. */
export interface FuzzInput {
  seed: number;
  inner: boolean;
  mutations: Mutation[];
}

const INTS = [0, 1, -1, 2, 255, 256, 0x7f, 0x80, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, -0x80000000, 0xffffffff, 1e9, 2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1, 348, 540, 352];
const FLOATS = [0, -0, 1, -1, NaN, Infinity, -Infinity, 1e38, -1e38, 1e-45, 0.5, 1e9, 65504];
const NUMBERS = ['0', '-1', '1', '2147483647', '2147483648', '4294967296', '9007199254740991', '1e309', '-1e309', '1e9', '', '1.5', '65535', '000', 'NaN'];
const TOKENS = ['"__proto__"', '__proto__', 'null', '[]', '{}', '"', ',', ':', '-1', '1e400', '"constructor"', "'shape': (0,), ", "'descr': '<f4', ", ')', '(', '\\', '\0', '\n'];

const at = fc.nat({ max: 2 ** 31 - 1 });

/** A single mutation; offsets are taken modulo the length of what they hit. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('bit' as const), at, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at, value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('int' as const), at, width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), le: fc.boolean(), value: fc.constantFrom(...INTS) }),
  fc.record({ kind: fc.constant('float' as const), at, width: fc.constantFrom(4 as const, 8 as const), le: fc.boolean(), value: fc.constantFrom(...FLOATS) }),
  fc.record({ kind: fc.constant('truncate' as const), at }),
  fc.record({ kind: fc.constant('delete' as const), at, length: fc.nat({ max: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('copy' as const), from: at, length: fc.integer({ min: 1, max: 4096 }), to: at }),
  fc.record({ kind: fc.constant('number' as const), index: fc.nat({ max: 200 }), value: fc.constantFrom(...NUMBERS) }),
  fc.record({ kind: fc.constant('token' as const), at, value: fc.constantFrom(...TOKENS) }),
);

/** Inputs over `seeds` seed files. */
export function inputArb(seeds: number): fc.Arbitrary<FuzzInput> {
  return fc.record({ seed: fc.nat({ max: seeds - 1 }), inner: fc.boolean(), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 6 }) });
}

function splice(b: Uint8Array, start: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, start));
  out.set(insert, start);
  out.set(b.subarray(start + remove), start + insert.length);
  return out;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Applies one mutation to bytes (a copy is returned when the length changes). */
export function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  const n = b.length;
  if (n === 0) return m.kind === 'insert' ? Uint8Array.from(m.bytes) : b;
  switch (m.kind) {
    case 'bit': {
      const out = b.slice();
      out[m.at % n] ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      const out = b.slice();
      out[m.at % n] = m.value;
      return out;
    }
    case 'int':
    case 'float': {
      const out = b.slice();
      const p = m.at % Math.max(1, n - m.width + 1);
      const tmp = new DataView(new ArrayBuffer(8));
      if (m.kind === 'float') {
        if (m.width === 4) tmp.setFloat32(0, m.value, m.le);
        else tmp.setFloat64(0, m.value, m.le);
      } else if (m.width === 8) tmp.setBigInt64(0, BigInt(Math.trunc(m.value)), m.le);
      else if (m.width === 4) tmp.setUint32(0, m.value >>> 0, m.le);
      else if (m.width === 2) tmp.setUint16(0, m.value & 0xffff, m.le);
      else tmp.setUint8(0, m.value & 0xff);
      for (let k = 0; k < m.width && p + k < n; k++) out[p + k] = tmp.getUint8(k);
      return out;
    }
    case 'truncate':
      return b.slice(0, m.at % n);
    case 'delete': {
      const p = m.at % n;
      return splice(b, p, Math.min(m.length, n - p));
    }
    case 'insert':
      return splice(b, m.at % (n + 1), 0, Uint8Array.from(m.bytes));
    case 'copy': {
      const from = m.from % n;
      const part = b.slice(from, Math.min(n, from + m.length));
      return splice(b, m.to % (n + 1), 0, part);
    }
    case 'token':
      return splice(b, m.at % (n + 1), 0, latin1(m.value));
    case 'number': {
      // The index-th run of ASCII digits (a number in a JSON or Python header, a DICOM string).
      let seen = 0;
      for (let i = 0; i < n; i++) {
        if (b[i] >= 0x30 && b[i] <= 0x39 && (i === 0 || !(b[i - 1] >= 0x30 && b[i - 1] <= 0x39))) {
          if (seen++ === m.index % 201) {
            let j = i;
            while (j < n && b[j] >= 0x30 && b[j] <= 0x39) j++;
            return splice(b, i, j - i, latin1(m.value));
          }
        }
      }
      return b;
    }
  }
}

/** How a seed's inner structure is reached and put back. */
export type Layer = 'gzip' | 'torch-zip' | 'safetensors' | 'npy' | 'none';

/** The layer of a seed file, from its bytes. */
export function layerOf(bytes: Uint8Array): Layer {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'torch-zip';
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) return 'npy';
  if (bytes.length > 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0) return 'safetensors';
  return 'none';
}

function mutateAll(b: Uint8Array, ms: Mutation[]): Uint8Array {
  return ms.reduce(applyMutation, b);
}

/** The bytes of a fuzz input. */
export function materialise(seed: Uint8Array, input: FuzzInput): Uint8Array {
  try {
    return materialiseLayer(seed, input, input.inner ? layerOf(seed) : 'none');
  } catch {
    // A seed that is itself broken (a truncated archive) has no inner layer to reach.
    return mutateAll(seed, input.mutations);
  }
}

function materialiseLayer(seed: Uint8Array, input: FuzzInput, layer: Layer): Uint8Array {
  switch (layer) {
    case 'gzip':
      return gzipSync(mutateAll(gunzipSync(seed), input.mutations), { level: 1 });
    case 'torch-zip': {
      const entries = unzipSync(seed);
      const names = Object.keys(entries);
      const pkl = names.find((k) => k.endsWith('data.pkl'));
      if (!pkl) return mutateAll(seed, input.mutations);
      return zipArchive(names.map((name) => ({ name, data: name === pkl ? mutateAll(entries[name], input.mutations) : entries[name] })));
    }
    case 'safetensors': {
      const len = Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));
      if (8 + len > seed.length) return mutateAll(seed, input.mutations);
      const header = mutateAll(seed.subarray(8, 8 + len), input.mutations);
      const out = new Uint8Array(8 + header.length + seed.length - 8 - len);
      new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
      out.set(header, 8);
      out.set(seed.subarray(8 + len), 8 + header.length);
      return out;
    }
    case 'npy': {
      const major = seed[6];
      const start = major === 1 ? 10 : 12;
      const len = major === 1 ? seed[8] | (seed[9] << 8) : new DataView(seed.buffer, seed.byteOffset).getUint32(8, true);
      if (start + len > seed.length) return mutateAll(seed, input.mutations);
      const header = mutateAll(seed.subarray(start, start + len), input.mutations);
      const out = new Uint8Array(start + header.length + seed.length - start - len);
      out.set(seed.subarray(0, start));
      const v = new DataView(out.buffer);
      if (major === 1) v.setUint16(8, Math.min(0xffff, header.length), true);
      else v.setUint32(8, header.length, true);
      out.set(header, start);
      out.set(seed.subarray(start + len), start + header.length);
      return out;
    }
    default:
      return mutateAll(seed, input.mutations);
  }
}
