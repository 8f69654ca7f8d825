import { MAX_PICKLE_CONTAINERS, MAX_PICKLE_STACK } from './limits';
import { RAW_DTYPE_BYTES, type RawDtype } from './raw_dtypes';

/**
 * A restricted unpickler for the pickles `torch.save` writes (protocols 2-5). It is an interpreter
 * of the pickle opcodes over plain data: it never imports or calls anything. Globals resolve
 * against a fixed allowlist (tensor rebuild functions, storage types, `OrderedDict`, `torch.Size`,
 * ...); a call (REDUCE, NEWOBJ, BUILD) of anything else is refused with an error naming it, and
 * modules that only hostile files reference (`os`, `posix`, `subprocess`, `builtins.eval`, ...)
 * are refused as soon as they are named. References to other classes that are never called (a
 * Lightning checkpoint's `hyper_parameters` may hold `torch.optim.AdamW`) stay inert
 * {@link PickleGlobal} values.
 */

/** A dict (Python `dict` or `OrderedDict`); keys are strings, numbers, tuples... */
export type PickleDict = Map<unknown, unknown>;

/** A reference to a Python global that is not on the allowlist: a name, nothing more. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An object of a non-allowlisted class, kept as inert data (its class name, constructor arguments
 * and state) when {@link UnpickleOptions.opaqueObjects} is set.
 */
export class PickleOpaque {
  constructor(
    readonly global: PickleGlobal,
    readonly args: unknown[],
    public state: unknown = undefined,
  ) {}
}

/** A `torch.*Storage` class named in a pickle (`torch.FloatStorage`, ...). */
export class TorchStorageType {
  constructor(
    readonly name: string,
    readonly dtype: RawDtype,
  ) {}
}

/** A storage a checkpoint's pickle refers to by key; its bytes live outside the pickle. */
export interface TorchStorage {
  /** Key of the storage (`archive/data/<key>` in zip checkpoints). */
  key: string;
  dtype: RawDtype;
  /** Number of elements of `dtype` the storage holds. */
  numel: number;
  /** Device the storage was saved from (`cpu`, `cuda:0`). */
  location: string;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage. */
export class TorchTensorRef {
  constructor(
    readonly storage: TorchStorage,
    /** Offset into the storage, in elements. */
    readonly offset: number,
    readonly shape: number[],
    /** Strides in elements. */
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {}
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Resolves a persistent id (BINPERSID); torch checkpoints use it for storages. */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * Keep objects of non-allowlisted classes as inert {@link PickleOpaque} values instead of
   * refusing the file (still nothing is executed; hostile modules are refused regardless).
   */
  opaqueObjects?: boolean;
  /** Name for error messages. */
  source?: string;
}

interface SafeCallable {
  readonly qualname: string;
  call(args: unknown[]): unknown;
}

class SafeGlobal implements SafeCallable {
  constructor(
    readonly qualname: string,
    readonly fn: ((args: unknown[]) => unknown) | null,
  ) {}

  call(args: unknown[]): unknown {
    if (!this.fn) throw new Error(`'${this.qualname}' is a type marker, not a callable`);
    return this.fn(args);
  }
}

const STORAGE_DTYPES: Record<string, RawDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const TORCH_DTYPES = ['float32', 'float', 'float16', 'half', 'bfloat16', 'float64', 'double', 'int64', 'long', 'int32', 'int', 'int16', 'short', 'int8', 'uint8', 'bool'];

// Modules whose appearance in a checkpoint can only mean an attempt to run code.
const HOSTILE_MODULES = /^(os|posix|nt|subprocess|sys|shutil|socket|importlib|runpy|pickle|_pickle|marshal|ctypes|code|pty|commands|webbrowser|multiprocessing|asyncio|pdb|bdb|operator|torch\._C|torch\.ops|torch\.hub|torch\.serialization|torch\.storage)(\.|$)/;

function isTensorRef(x: unknown): x is TorchTensorRef {
  return x instanceof TorchTensorRef;
}

function asIntArray(x: unknown, what: string): number[] {
  if (!Array.isArray(x) || !x.every((d) => typeof d === 'number' && Number.isSafeInteger(d))) throw new Error(`${what}: expected a tuple of ints, got ${describe(x)}`);
  return x as number[];
}

function rebuildTensor(args: unknown[]): TorchTensorRef {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!storage || typeof storage !== 'object' || !('key' in storage) || !('numel' in storage)) {
    throw new Error(`_rebuild_tensor_v2: expected a storage, got ${describe(storage)}`);
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new Error(`_rebuild_tensor_v2: invalid storage offset ${describe(offset)}`);
  const shape = asIntArray(size, '_rebuild_tensor_v2 size');
  const strides = asIntArray(stride, '_rebuild_tensor_v2 stride');
  if (shape.length !== strides.length || shape.some((d) => d < 0)) throw new Error(`_rebuild_tensor_v2: size [${shape}] and stride [${strides}] do not match`);
  return new TorchTensorRef(storage as TorchStorage, offset, shape, strides, requiresGrad === true);
}

function makeAllowlist(): Map<string, SafeGlobal> {
  const m = new Map<string, SafeGlobal>();
  const add = (qualname: string, fn: ((args: unknown[]) => unknown) | null): void => {
    m.set(qualname, new SafeGlobal(qualname, fn));
  };
  add('torch._utils._rebuild_tensor_v2', rebuildTensor);
  add('torch._utils._rebuild_tensor', rebuildTensor);
  const parameter = (args: unknown[]): unknown => {
    if (!isTensorRef(args[0])) throw new Error(`_rebuild_parameter: expected a tensor, got ${describe(args[0])}`);
    return args[0];
  };
  add('torch._utils._rebuild_parameter', parameter);
  add('torch._utils._rebuild_parameter_with_state', parameter);
  // Used for tensors that carry Python attributes: (func, type, args, state).
  add('torch._tensor._rebuild_from_type_v2', (args) => {
    const [func, type, inner] = args;
    if (!(func instanceof SafeGlobal) || !(type instanceof SafeGlobal) || !Array.isArray(inner)) {
      throw new Error(`_rebuild_from_type_v2: unexpected arguments ${describe(args)}`);
    }
    if (type.qualname !== 'torch.Tensor' && type.qualname !== 'torch.nn.parameter.Parameter') throw new Error(`refused tensor subclass '${type.qualname}'`);
    return func.call(inner);
  });
  add('torch.Tensor', null);
  add('torch.nn.parameter.Parameter', null);
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) m.set(`torch.${name}`, new StorageGlobal(`torch.${name}`, dtype));
  for (const name of TORCH_DTYPES) add(`torch.${name}`, null);
  const ordered = (args: unknown[]): PickleDict => {
    const out: PickleDict = new Map();
    if (args.length > 0 && Array.isArray(args[0])) for (const pair of args[0]) if (Array.isArray(pair) && pair.length === 2) out.set(pair[0], pair[1]);
    return out;
  };
  add('collections.OrderedDict', ordered);
  add('builtins.dict', ordered);
  add('torch.Size', (args) => asIntArray(args[0] ?? [], 'torch.Size').slice());
  add('torch.device', (args) => args.map(String).join(':'));
  const toList = (args: unknown[]): unknown[] => (Array.isArray(args[0]) ? [...args[0]] : []);
  for (const b of ['builtins', '__builtin__']) {
    add(`${b}.set`, toList);
    add(`${b}.frozenset`, toList);
    add(`${b}.bytearray`, (args) => (args[0] instanceof Uint8Array ? args[0].slice() : latin1Bytes(typeof args[0] === 'string' ? args[0] : '')));
  }
  // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1').
  add('_codecs.encode', (args) => {
    const [text, enc] = args;
    if (typeof text !== 'string') throw new Error(`_codecs.encode: expected a string, got ${describe(text)}`);
    return enc === 'utf-8' || enc === 'utf8' ? new TextEncoder().encode(text) : latin1Bytes(text);
  });
  return m;
}

class StorageGlobal extends SafeGlobal {
  readonly storageType: TorchStorageType;

  constructor(qualname: string, dtype: RawDtype) {
    super(qualname, null);
    this.storageType = new TorchStorageType(qualname, dtype);
  }
}

const ALLOWLIST = makeAllowlist();

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) throw new Error('_codecs.encode: character outside latin-1');
    out[i] = c;
  }
  return out;
}

/** A short description of a pickle value for error messages. */
function describe(x: unknown): string {
  if (x === null || x === undefined) return 'None';
  if (Array.isArray(x)) return `tuple/list of ${x.length}`;
  if (x instanceof Map) return `dict of ${x.size}`;
  if (x instanceof Uint8Array) return `bytes[${x.byteLength}]`;
  if (x instanceof PickleGlobal || x instanceof SafeGlobal) return `global '${x instanceof SafeGlobal ? x.qualname : x.toString()}'`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return String(x);
}

/**
 * Resolves the persistent id of a torch checkpoint storage: `('storage', StorageType, key,
 * location, numel[, view_metadata])`. Validates every field.
 */
export function torchStorageFromPid(pid: unknown, source = 'checkpoint'): TorchStorage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`${source}: unexpected persistent id ${describe(pid)} (expected a torch storage)`);
  const [, type, key, location, numel, view] = pid;
  if (!(type instanceof TorchStorageType)) throw new Error(`${source}: storage type is ${describe(type)}, expected a torch.*Storage`);
  if (typeof key !== 'string' && typeof key !== 'number') throw new Error(`${source}: invalid storage key ${describe(key)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0 || !Number.isSafeInteger(numel * RAW_DTYPE_BYTES[type.dtype])) {
    throw new Error(`${source}: storage '${key}' has invalid size ${describe(numel)}`);
  }
  if (view !== undefined && view !== null) throw new Error(`${source}: storage views (pre-1.0 checkpoints) are not supported`);
  return { key: String(key), dtype: type.dtype, numel, location: String(location) };
}

const MAX_LONG_BYTES = 1024;

/**
 * Unpickles one pickle starting at `offset`. Returns the value and the offset after its STOP
 * opcode (legacy torch files hold several pickles back to back).
 */
export function unpickleAt(bytes: Uint8Array, offset: number, options: UnpickleOptions = {}): { value: unknown; end: number } {
  const source = options.source ?? 'pickle';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  let pos = offset;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  const need = (k: number): void => {
    if (!Number.isSafeInteger(k) || k < 0 || pos + k > n) fail(`pickle truncated: needs ${k} bytes at offset ${pos}, ${n - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    pos += 2;
    return dv.getUint16(pos - 2, true);
  };
  const u32 = (): number => {
    need(4);
    pos += 4;
    return dv.getUint32(pos - 4, true);
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n)) fail(`length ${v} exceeds the pickle's ${n} bytes`);
    return Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    pos += k;
    return bytes.subarray(pos - k, pos);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('pickle truncated: unterminated text argument');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => new TextDecoder('utf-8').decode(b);
  const pop = (): unknown => {
    if (stack.length === 0) fail(`stack underflow at offset ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(`stack underflow at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail(`MARK missing at offset ${pos - 1}`);
    stack = prev as unknown[];
    return items;
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const qualname = `${module === '__builtin__' ? 'builtins' : module}.${name}`;
    const safe = ALLOWLIST.get(qualname);
    if (safe) return safe instanceof StorageGlobal ? safe.storageType : safe;
    if (HOSTILE_MODULES.test(module) || module === 'builtins' || module === '__builtin__') fail(`refused global '${qualname}' (checkpoints may only name tensor and container types)`);
    return new PickleGlobal(module, name);
  };
  const callable = (f: unknown, op: string, args: unknown[]): unknown => {
    if (f instanceof SafeGlobal) {
      try {
        return f.call(args);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    const name = f instanceof PickleGlobal ? f.toString() : f instanceof TorchStorageType ? f.name : describe(f);
    if (f instanceof PickleGlobal && options.opaqueObjects) return new PickleOpaque(f, args);
    return fail(`refused global '${name}' (called by ${op}; only tensor and container types are allowed; a pickled nn.Module cannot be read, save its state_dict(); other objects can be kept as inert placeholders with { opaqueObjects: true })`);
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) {
      if (d instanceof PickleOpaque && options.opaqueObjects) return;
      fail(`SETITEMS on ${describe(d)}`);
    }
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (d as PickleDict).set(items[i], items[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l)) {
      if (l instanceof PickleOpaque && options.opaqueObjects) return;
      fail(`APPENDS on ${describe(l)}`);
    }
    // One by one: spreading 300 k items into push() overflows the call stack.
    for (const item of items) (l as unknown[]).push(item);
  };
  // Every container and mark costs memory that a few bytes of pickle can request: count them.
  let containers = 0;
  const container = (): void => {
    if (++containers > MAX_PICKLE_CONTAINERS) fail(`more than ${MAX_PICKLE_CONTAINERS} containers (dicts, lists, tuples, marks) at offset ${pos - 1}; refused`);
  };
  const int = (s: string): number | bigint => {
    const t = s.trim().replace(/L$/, '');
    if (t.length > MAX_LONG_BYTES) fail(`integer literal of ${t.length} digits is too large`);
    if (!/^[-+]?\d+$/.test(t)) fail(`invalid integer literal ${JSON.stringify(s)}`);
    const b = BigInt(t);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.byteLength === 0) return 0;
    // Decoding is quadratic in the length; torch files never hold integers this large.
    if (b.byteLength > MAX_LONG_BYTES) fail(`integer of ${b.byteLength} bytes is too large`);
    let v = 0n;
    for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.byteLength - 1] & 0x80) v -= 1n << BigInt(8 * b.byteLength);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    if (stack.length > MAX_PICKLE_STACK) fail(`more than ${MAX_PICKLE_STACK} values on the stack at offset ${pos}; refused`);
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length) fail(`malformed pickle: ${stack.length} values left at STOP`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        container();
        metastack.push(stack);
        stack = [];
        break;
      case 0x29: // EMPTY_TUPLE
        container();
        stack.push([]);
        break;
      case 0x5d: // EMPTY_LIST
        container();
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        container();
        stack.push(new Map());
        break;
      case 0x8f: // EMPTY_SET
        container();
        stack.push([]);
        break;
      case 0x90: // ADDITEMS
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST (popMark replaces `stack`, so it must run before `stack.push` is looked up)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        container();
        const d: PickleDict = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x85: // TUPLE1
        container();
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        container();
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        container();
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const len = dv.getInt32(pos, true);
        pos += 4;
        if (len < 0) fail('negative LONG4 length');
        stack.push(long(take(len)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x49: {
        // INT (text; "00"/"01" are False/True)
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : int(s));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(int(line()));
        break;
      case 0x46: {
        // FLOAT (text)
        const v = Number(line());
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64())));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str)
        need(4);
        const len = dv.getInt32(pos, true);
        pos += 4;
        if (len < 0) fail('negative BINSTRING length');
        stack.push(new TextDecoder('latin1').decode(take(len)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const f = pop();
        if (!Array.isArray(args)) fail(`REDUCE arguments are ${describe(args)}, expected a tuple`);
        stack.push(callable(f, 'REDUCE', args as unknown[]));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(callable(cls, 'NEWOBJ', Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop();
        const args = pop();
        const cls = pop();
        stack.push(callable(cls, 'NEWOBJ_EX', Array.isArray(args) ? args : [args]));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        // OrderedDict state is its `_metadata` (module versions): irrelevant to the values.
        if (obj instanceof Map || isTensorRef(obj)) break;
        if (obj instanceof PickleOpaque) {
          obj.state = state;
          break;
        }
        fail(`refused BUILD of ${describe(obj)}`);
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
        fail(`refused opcode ${op === 0x69 ? 'INST' : 'OBJ'} (instantiates a class)`);
        break;
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent id without a persistent_load');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x50: {
        // PERSID
        const pid = line();
        if (!options.persistentLoad) fail('persistent id without a persistent_load');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT
        memo.set(Number(int(line())), top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const idx = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(int(line()));
        if (!memo.has(idx)) fail(`memo key ${idx} missing`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} at offset ${pos - 1}`);
    }
  }
}

/**
 * Unpickles bytes with the restricted interpreter (see the file comment): returns plain values
 * (`null`, booleans, numbers, bigints, strings, `Uint8Array`, arrays for tuples/lists/sets,
 * `Map` for dicts), {@link TorchTensorRef} for tensors and {@link PickleGlobal} for inert names.
 *
 * @example
 * unpickle(bytes, { persistentLoad: (pid) => torchStorageFromPid(pid) });
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): unknown {
  return unpickleAt(bytes, 0, options).value;
}
