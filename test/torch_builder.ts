/** Builds pickles opcode by opcode and torch.save-style zip archives, for tests of hostile checkpoints. */
import * as zlib from 'node:zlib';
import { crc32 } from '../src/io/crc32';
import { concatBytes } from '../src/utils/bytes';

const enc = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const i32 = (n: number): number[] => Array.from(new Uint8Array(new Int32Array([n]).buffer));

/** Pickle opcodes as byte lists; concatenate them with {@link pickle}. */
export const op = {
  proto: (n = 2): number[] => [0x80, n],
  str: (s: string): number[] => [0x58, ...i32(enc(s).length), ...enc(s)],
  int: (n: number): number[] => [0x4a, ...i32(n)],
  global: (module: string, name: string): number[] => [0x63, ...enc(`${module}\n${name}\n`)],
  mark: [0x28],
  tuple: [0x74],
  emptyDict: [0x7d],
  emptyList: [0x5d],
  setitem: [0x73],
  setitems: [0x75],
  appends: [0x65],
  reduce: [0x52],
  binpersid: [0x51],
  newfalse: [0x89],
  binput: (i: number): number[] => [0x72, ...i32(i)],
  binget: (i: number): number[] => [0x6a, ...i32(i)],
  stop: [0x2e],
};

export function pickle(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, {})` of a FloatStorage. */
export function tensorOps(key: string, numel: number, shape: number[], stride: number[], offset = 0): number[] {
  return [
    ...op.global('torch._utils', '_rebuild_tensor_v2'),
    ...op.mark,
    ...op.mark, ...op.str('storage'), ...op.global('torch', 'FloatStorage'), ...op.str(key), ...op.str('cpu'), ...op.int(numel), ...op.tuple,
    ...op.binpersid,
    ...op.int(offset),
    ...op.mark, ...shape.flatMap(op.int), ...op.tuple,
    ...op.mark, ...stride.flatMap(op.int), ...op.tuple,
    ...op.newfalse,
    ...op.emptyDict,
    ...op.tuple,
    ...op.reduce,
  ];
}

/** A pickled `{name: tensor, ...}` (a state dict) from [name, tensor ops] pairs. */
export function stateDictPickle(entries: [string, number[]][]): Uint8Array {
  return pickle(op.proto(2), op.emptyDict, op.mark, ...entries.flatMap(([k, t]) => [op.str(k), t]), op.setitems, op.stop);
}

export interface ZipItem {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

/** A ZIP archive written field by field (duplicate names allowed, unlike zip libraries). */
export function zipArchive(items: ZipItem[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const it of items) {
    const name = new TextEncoder().encode(it.name);
    const body = it.deflate ? new Uint8Array(zlib.deflateRawSync(it.data)) : it.data;
    const crc = crc32(it.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, it.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, it.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, it.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, it.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, items.length, true);
  ev.setUint16(10, items.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return concatBytes(...locals, ...centrals, eocd);
}

/** A torch.save zip: `archive/data.pkl`, `archive/byteorder` and one `archive/data/<key>` per storage. */
export function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array>, options: { deflate?: boolean } = {}): Uint8Array {
  return zipArchive([
    { name: 'archive/data.pkl', data: pkl, deflate: options.deflate },
    { name: 'archive/byteorder', data: new TextEncoder().encode('little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data, deflate: options.deflate })),
  ]);
}
