import * as tf from '@tensorflow/tfjs';
import { bytesSource, type ByteSource } from './byte_source';
import { PickleGlobal, PickleOpaque, TorchTensorRef, torchStorageFromPid, unpickleAt, type PickleDict, type TorchStorage } from './pickle';
import { RAW_DTYPE_BYTES, decodeRaw, isFloatDtype, readDecoded } from './raw_dtypes';
import { MAX_EXPANDED_ELEMENTS, MAX_PICKLE_BYTES, MAX_PLAIN_NODES } from './limits';
import { gatherStrided, isContiguous, stridedExtent } from './strided';
import { ZipReader } from './zip';

/** The two container formats of `torch.save`. */
export type TorchCheckpointFormat = 'torch-zip' | 'torch-legacy';

/** Options of {@link openTorchCheckpoint}. */
export interface TorchCheckpointOptions {
  /**
   * Keep objects of classes outside the allowlist as inert placeholders instead of refusing the
   * file (nothing is executed either way; see {@link ./pickle}).
   */
  opaqueObjects?: boolean;
}

/** An opened torch checkpoint: its unpickled object tree and a way to read its tensors. */
export interface TorchCheckpoint {
  format: TorchCheckpointFormat;
  /** The object `torch.save` was given, as plain values with {@link TorchTensorRef} leaves. */
  root: unknown;
  /** Reads one tensor (floats as float32, integers and bools as int32), honouring strides and offsets. */
  tensor(ref: TorchTensorRef, name?: string): Promise<tf.Tensor>;
}

// Legacy (pre-1.6) files begin with this number pickled as a LONG1.
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

// Locates the bytes of a storage, at least `need` of them (a deflated entry is inflated that far).
type Locate = (s: TorchStorage, need: number) => Promise<{ source: ByteSource; loc: StorageLocation }>;

// Elements that expanded (stride-0) views of one checkpoint have added so far.
interface ExpansionBudget {
  used: number;
}

interface StorageLocation {
  /** Absolute byte offset of element 0 in the source. */
  offset: number;
  /** Bytes available for the storage. */
  bytes: number;
}

/**
 * Opens a checkpoint written by `torch.save`: the zip format (PyTorch >= 1.6) or the legacy
 * format. Only the pickle is read here; tensor data is read on demand through the source, so a
 * file-backed source never holds the whole file in memory (legacy files are read whole).
 *
 * @example
 * const ckpt = await openTorchCheckpoint(await openByteSource('epoch=12.ckpt'));
 * const { tensors } = findStateDict(ckpt.root); // Lightning: the entries of 'state_dict'
 * const w = await ckpt.tensor(tensors[0][1], tensors[0][0]);
 */
export async function openTorchCheckpoint(src: ByteSource, options: TorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  const head = await src.read(0, Math.min(4, src.size));
  if (head[0] === 0x50 && head[1] === 0x4b) return openZip(src, options);
  return openLegacy(src, options);
}

async function openZip(src: ByteSource, options: TorchCheckpointOptions): Promise<TorchCheckpoint> {
  const zip = await ZipReader.open(src);
  const pkls = zip.names().filter((n) => /^[^/]*\/?data\.pkl$/.test(n));
  if (pkls.length !== 1) throw new Error(`${src.name}: not a torch.save archive (expected one '<name>/data.pkl', found ${pkls.length} among ${zip.names().length} entries)`);
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  if (zip.has(`${prefix}constants.pkl`)) throw new Error(`${src.name}: a TorchScript archive (torch.jit.save) holds code, not a state dict; save model.state_dict() with torch.save instead`);
  let littleEndian = true;
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little' && order !== 'big') throw new Error(`${src.name}: unknown byteorder '${order}'`);
    littleEndian = order === 'little';
  }
  const storages = new Map<string, TorchStorage>();
  const pickle = await zip.read(pkls[0], MAX_PICKLE_BYTES);
  const root = unpickleAt(pickle, 0, {
    source: `${src.name}: ${pkls[0]}`,
    opaqueObjects: options.opaqueObjects,
    persistentLoad: (pid) => {
      const s = torchStorageFromPid(pid, src.name);
      const name = `${prefix}data/${s.key}`;
      const e = zip.entry(name);
      const need = s.numel * RAW_DTYPE_BYTES[s.dtype];
      if (e.uncompressedSize < need) throw new Error(`${src.name}: storage '${s.key}' claims ${s.numel} ${s.dtype} elements (${need} bytes) but its entry holds ${e.uncompressedSize}`);
      const prev = storages.get(s.key);
      if (prev && (prev.dtype !== s.dtype || prev.numel !== s.numel)) throw new Error(`${src.name}: storage '${s.key}' is declared twice with different types`);
      storages.set(s.key, s);
      return s;
    },
  }).value;
  const inflated = new Map<string, Uint8Array>();
  const locate: Locate = async (s, need) => {
    const name = `${prefix}data/${s.key}`;
    const e = zip.entry(name);
    if (e.method === 0) {
      const r = await zip.storedRange(name);
      return { source: src, loc: { offset: r.offset, bytes: r.size } };
    }
    // torch.save stores entries uncompressed; other zip tools may deflate them: inflate only as
    // far as the tensors read so far need (a deflated entry may be a bomb).
    let data = inflated.get(name);
    if (!data || data.byteLength < need) {
      data = await zip.readPrefix(name, need);
      inflated.set(name, data);
    }
    return { source: bytesSource(data, name), loc: { offset: 0, bytes: data.byteLength } };
  };
  const budget: ExpansionBudget = { used: 0 };
  return { format: 'torch-zip', root, tensor: (ref, key) => readTensor(ref, key, littleEndian, locate, src.name, budget) };
}

async function openLegacy(src: ByteSource, options: TorchCheckpointOptions): Promise<TorchCheckpoint> {
  const bytes = await src.read(0, src.size);
  const opts = { source: src.name, opaqueObjects: options.opaqueObjects };
  let magic: unknown;
  let pos: number;
  try {
    ({ value: magic, end: pos } = unpickleAt(bytes, 0, opts));
  } catch {
    magic = undefined;
    pos = 0;
  }
  if (magic !== LEGACY_MAGIC) throw new Error(`${src.name}: not a torch checkpoint (neither a zip archive nor a legacy torch.save file)`);
  const protocol = unpickleAt(bytes, pos, opts);
  if (protocol.value !== 1001) throw new Error(`${src.name}: unsupported legacy torch protocol ${String(protocol.value)} (expected 1001)`);
  const sysInfo = unpickleAt(bytes, protocol.end, opts);
  const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  const littleEndian = info.get('little_endian') !== false;
  const storages = new Map<string, TorchStorage>();
  const main = unpickleAt(bytes, sysInfo.end, {
    ...opts,
    persistentLoad: (pid) => {
      if (Array.isArray(pid) && pid[0] === 'module') return null;
      const s = torchStorageFromPid(pid, src.name);
      storages.set(s.key, s);
      return s;
    },
  });
  const keys = unpickleAt(bytes, main.end, opts);
  if (!Array.isArray(keys.value)) throw new Error(`${src.name}: corrupt legacy checkpoint (storage key list missing)`);
  // After the pickles: for each key, an int64 element count and the raw elements.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const locations = new Map<string, StorageLocation>();
  let p = keys.end;
  for (const k of keys.value as unknown[]) {
    const s = storages.get(String(k));
    if (!s) throw new Error(`${src.name}: legacy storage '${String(k)}' is not referenced by the pickle`);
    if (p + 8 > bytes.byteLength) throw new Error(`${src.name}: truncated legacy checkpoint at storage '${s.key}'`);
    const count = Number(dv.getBigInt64(p, littleEndian));
    if (count !== s.numel) throw new Error(`${src.name}: legacy storage '${s.key}' holds ${count} elements, the pickle says ${s.numel}`);
    const size = s.numel * RAW_DTYPE_BYTES[s.dtype];
    if (p + 8 + size > bytes.byteLength) throw new Error(`${src.name}: truncated legacy checkpoint: storage '${s.key}' needs ${size} bytes at ${p + 8}, file has ${bytes.byteLength}`);
    locations.set(s.key, { offset: p + 8, bytes: size });
    p += 8 + size;
  }
  const mem = bytesSource(bytes, src.name);
  const locate: Locate = async (s) => {
    const loc = locations.get(s.key);
    if (!loc) throw new Error(`${src.name}: storage '${s.key}' has no data in the file`);
    return { source: mem, loc };
  };
  const budget: ExpansionBudget = { used: 0 };
  return { format: 'torch-legacy', root: main.value, tensor: (ref, key) => readTensor(ref, key, littleEndian, locate, src.name, budget) };
}

async function readTensor(
  ref: TorchTensorRef,
  key: string | undefined,
  littleEndian: boolean,
  locate: Locate,
  sourceName: string,
  budget: ExpansionBudget,
): Promise<tf.Tensor> {
  const what = `${sourceName}: tensor${key ? ` '${key}'` : ''}`;
  const s = ref.storage;
  const numel = ref.shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(numel)) throw new Error(`${what}: shape [${ref.shape}] overflows`);
  const extent = stridedExtent(ref.shape, ref.stride, ref.offset);
  const dtype = isFloatDtype(s.dtype) ? 'float32' : 'int32';
  if (extent === null) return tf.tensor(dtype === 'float32' ? new Float32Array(0) : new Int32Array(0), ref.shape, dtype);
  const [lo, hi] = extent;
  if (lo < 0 || hi >= s.numel) throw new Error(`${what}: view [${ref.shape}] stride [${ref.stride}] offset ${ref.offset} reaches elements ${lo}..${hi} of a storage of ${s.numel}`);
  // A view reading elements more than once (stride 0) is materialised: what it adds over the span
  // it reads is charged to the checkpoint, so a 2 KB file cannot ask for gigabytes.
  const added = numel - (hi - lo + 1);
  if (added > 0) {
    budget.used += added;
    if (budget.used > MAX_EXPANDED_ELEMENTS) {
      throw new Error(`${what}: expanded view [${ref.shape}] stride [${ref.stride}] would materialise ${numel} elements from ${hi - lo + 1}; expanded views of this checkpoint exceed the limit of ${MAX_EXPANDED_ELEMENTS} added elements`);
    }
  }
  const es = RAW_DTYPE_BYTES[s.dtype];
  const { source, loc } = await locate(s, (hi + 1) * es);
  if ((hi + 1) * es > loc.bytes) throw new Error(`${what}: needs ${(hi + 1) * es} bytes of storage '${s.key}', which holds ${loc.bytes}`);
  let data: Float32Array | Int32Array;
  try {
    if (isContiguous(ref.shape, ref.stride)) {
      data = await readDecoded(source, loc.offset + ref.offset * es, s.dtype, numel, littleEndian);
    } else {
      const span = await source.read(loc.offset + lo * es, (hi - lo + 1) * es);
      const raw = decodeRaw(s.dtype, span, hi - lo + 1, littleEndian);
      data = raw instanceof Float32Array ? new Float32Array(numel) : new Int32Array(numel);
      gatherStrided(raw, data, ref.shape, ref.stride, ref.offset - lo);
    }
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return tf.tensor(data, ref.shape, dtype);
}

/** Where the weights sit in common checkpoint layouts, tried in this order. */
export const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'teacher'];

/**
 * Finds the state dict in an unpickled checkpoint: the root when it maps names to tensors, else
 * the first of {@link STATE_DICT_KEYS} that does (a Lightning `.ckpt` keeps it under
 * `state_dict`), or the dotted path `key`. Non-tensor entries of the chosen dict are skipped.
 */
export function findStateDict(root: unknown, key?: string, source = 'checkpoint'): { key: string | null; tensors: [string, TorchTensorRef][] } {
  const tensorsOf = (d: unknown): [string, TorchTensorRef][] | null => {
    if (!(d instanceof Map)) return null;
    const out: [string, TorchTensorRef][] = [];
    for (const [k, v] of d as PickleDict) if (v instanceof TorchTensorRef) out.push([String(k), v]);
    return out.length > 0 ? out : null;
  };
  if (key !== undefined) {
    let node: unknown = root;
    for (const part of key.split('.')) {
      node = node instanceof Map ? node.get(part) : undefined;
      if (node === undefined) throw new Error(`${source}: no '${key}' in the checkpoint (top-level keys: ${topLevelKeys(root).join(', ') || 'none'})`);
    }
    const t = tensorsOf(node);
    if (!t) throw new Error(`${source}: '${key}' holds no tensors`);
    return { key, tensors: t };
  }
  if (root instanceof Map) {
    const direct = tensorsOf(root);
    // A dict of only tensors is the state dict itself; a Lightning dict also holds tensors
    // elsewhere, but never at the top level.
    if (direct && direct.length === root.size) return { key: null, tensors: direct };
    for (const k of STATE_DICT_KEYS) {
      const t = tensorsOf(root.get(k));
      if (t) return { key: k, tensors: t };
    }
    if (direct) return { key: null, tensors: direct };
  }
  throw new Error(`${source}: no state dict found (top-level keys: ${topLevelKeys(root).join(', ') || 'none'}); pass { key } to name it`);
}

/** Names of a checkpoint's top-level entries (for messages and `mst-ts inspect`). */
export function topLevelKeys(root: unknown): string[] {
  return root instanceof Map ? [...root.keys()].map(String) : [];
}

const MAX_PLAIN_ITEMS = 32;

/**
 * Converts an unpickled value to JSON-friendly data: tensors as `{tensor: [shape], dtype}`, globals
 * as names. A container met a second time (pickles share references: torch loads such a file
 * instantly) is printed as `<same as path>` instead of again, and at most {@link MAX_PLAIN_NODES}
 * nodes are printed, so the output stays small whatever the file.
 */
export function toPlain(value: unknown): unknown {
  return plainConverter()(value, '');
}

/**
 * A {@link toPlain} whose shared-reference memory and node budget span several calls (one per
 * top-level entry of a checkpoint): `convert(value, path)`.
 */
export function plainConverter(): (value: unknown, path: string) => unknown {
  const seen = new Map<object, string>();
  let nodes = 0;
  const walk = (v: unknown, path: string, depth: number): unknown => {
    if (++nodes > MAX_PLAIN_NODES || depth > 12) return '...';
    if (v instanceof TorchTensorRef) return { tensor: v.shape, dtype: v.storage.dtype };
    if (v instanceof PickleGlobal) return `<${v.toString()}>`;
    if (v instanceof PickleOpaque) return `<${v.global.toString()} object>`;
    if (v instanceof Map || Array.isArray(v)) {
      const first = seen.get(v);
      if (first !== undefined) return `<same as ${first || 'root'}>`;
      seen.set(v, path);
    }
    // Long containers (an optimizer's per-parameter state) are cut to keep reports readable.
    if (v instanceof Map) {
      const out: Record<string, unknown> = Object.create(null);
      let i = 0;
      for (const [k, x] of v) {
        if (i++ === MAX_PLAIN_ITEMS) {
          out['...'] = `${v.size - MAX_PLAIN_ITEMS} more`;
          break;
        }
        out[String(k)] = walk(x, path ? `${path}.${String(k)}` : String(k), depth + 1);
      }
      return out;
    }
    if (Array.isArray(v)) {
      const items = v.slice(0, MAX_PLAIN_ITEMS).map((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return v.length > MAX_PLAIN_ITEMS ? [...items, `... ${v.length - MAX_PLAIN_ITEMS} more`] : items;
    }
    if (v instanceof Uint8Array) return `<bytes ${v.byteLength}>`;
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object') return `<${(v as object).constructor?.name ?? 'object'}>`;
    return v;
  };
  return (value, path) => walk(value, path, 0);
}
