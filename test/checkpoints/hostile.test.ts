import * as tf from '@tensorflow/tfjs';
import { bytesSource } from '../../src/io/byte_source';
import { inspectCheckpoint, loadCheckpoint } from '../../src/io/checkpoint';
import { MAX_PICKLE_BYTES } from '../../src/io/limits';
import { unpickle } from '../../src/io/pickle';
import { openTorchCheckpoint } from '../../src/io/torch_checkpoint';
import { ZipReader } from '../../src/io/zip';
import { disposeStateDict } from '../../src/nn/module';
import { op, pickle, stateDictPickle, tensorOps, torchZip, zipArchive } from '../torch_builder';

const f32 = (...v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);

describe('hostile torch checkpoints', () => {
  it('reads a legitimate built checkpoint (the builder is sound)', async () => {
    const file = torchZip(stateDictPickle([['w', tensorOps('0', 4, [2, 2], [2, 1])]]), { 0: f32(1, 2, 3, 4) });
    const sd = await loadCheckpoint(file);
    expect(Array.from(await sd.w.data())).toEqual([1, 2, 3, 4]);
    disposeStateDict(sd);
    const deflated = await loadCheckpoint(torchZip(stateDictPickle([['w', tensorOps('0', 4, [4], [1])]]), { 0: f32(1, 2, 3, 4) }, { deflate: true }));
    expect(Array.from(await deflated.w.data())).toEqual([1, 2, 3, 4]);
    disposeStateDict(deflated);
  });

  it('refuses an archive with two archive/data.pkl entries as ambiguous', async () => {
    const a = stateDictPickle([['w', tensorOps('0', 1, [1], [1])]]);
    const b = stateDictPickle([['v', tensorOps('0', 1, [1], [1])]]);
    const file = zipArchive([
      { name: 'archive/data.pkl', data: a },
      { name: 'archive/data.pkl', data: b },
      { name: 'archive/data/0', data: f32(1) },
    ]);
    await expect(loadCheckpoint(file)).rejects.toThrow("checkpoint: the archive holds two entries named 'archive/data.pkl'; refusing an ambiguous archive");
  });

  it('refuses a zip bomb in data.pkl before inflating it', async () => {
    const bomb = new Uint8Array(MAX_PICKLE_BYTES + 1);
    const file = torchZip(bomb, {}, { deflate: true });
    expect(file.length).toBeLessThan(200_000);
    await expect(loadCheckpoint(file)).rejects.toThrow(`checkpoint: entry 'archive/data.pkl' holds ${MAX_PICKLE_BYTES + 1} bytes, more than the limit of ${MAX_PICKLE_BYTES}`);
  });

  it('checks a zip entry against its CRC-32', async () => {
    const file = torchZip(stateDictPickle([['w', tensorOps('0', 1, [1], [1])]]), { 0: f32(1) });
    const zip = await ZipReader.open(bytesSource(file));
    const at = (await zip.dataOffset('archive/data.pkl')) + 20;
    file[at] ^= 1;
    await expect(loadCheckpoint(file)).rejects.toThrow(/entry 'archive\/data\.pkl' fails its CRC-32 check/);
  });

  it('charges stride-0 views to one budget per checkpoint instead of materialising each up to 256 MiB', async () => {
    const n = 2 ** 25 + 1;
    const entries: [string, number[]][] = Array.from({ length: 3 }, (_, i) => [`e${i}`, tensorOps('0', 1, [n], [0])]);
    const ckpt = await openTorchCheckpoint(bytesSource(torchZip(stateDictPickle(entries), { 0: f32(7) }), 'expand.pth'));
    const refs = [...(ckpt.root as Map<string, unknown>).entries()];
    for (const [k, ref] of refs.slice(0, 2)) {
      const t = await ckpt.tensor(ref as never, k);
      expect(t.shape).toEqual([n]);
      t.dispose();
    }
    await expect(ckpt.tensor(refs[2][1] as never, 'e2')).rejects.toThrow(/expand\.pth: tensor 'e2': expanded view \[33554433\] stride \[0\] would materialise 33554433 elements from 1; expanded views of this checkpoint exceed the limit of 67108864/);
  });

  it('refuses a flood of EMPTY_DICT opcodes with a named limit, before the heap runs out', () => {
    const flood = new Uint8Array(3_000_002).fill(0x7d);
    flood[0] = 0x80;
    flood[1] = 2;
    expect(() => unpickle(flood, { source: 'flood.pkl' })).toThrow(/flood\.pkl: more than 2097152 containers \(dicts, lists, tuples, marks\) at offset \d+; refused/);
  });

  it('appends 300 k items with one APPENDS without overflowing the call stack', () => {
    const items = new Uint8Array(300_000 * 2);
    for (let i = 0; i < items.length; i += 2) items.set([0x4b, i % 256], i);
    const v = unpickle(Uint8Array.from([0x80, 2, ...op.emptyList, ...op.mark, ...items, ...op.appends, ...op.stop])) as number[];
    expect(v.length).toBe(300_000);
    expect(v[1]).toBe(2);
  });

  it('keeps shared references shared when inspecting a Lightning-style checkpoint', async () => {
    // meta = l4 where l0 = ['leaf'], l(k+1) = [l(k)] * 32: 32^4 paths to one leaf in ~1 KB of pickle.
    const POP = [0x30];
    const levels: number[][] = [[...op.emptyList, ...op.mark, ...op.str('leaf'), ...op.appends, ...op.binput(0), ...POP]];
    for (let k = 1; k <= 4; k++) levels.push([...op.emptyList, ...op.mark, ...Array.from({ length: 32 }, () => op.binget(k - 1)).flat(), ...op.appends, ...op.binput(k), ...POP]);
    levels.push(op.binget(4));
    const pkl = pickle(
      op.proto(2),
      op.emptyDict,
      op.mark,
      op.str('state_dict'),
      op.emptyDict,
      op.str('w'),
      tensorOps('0', 1, [1], [1]),
      op.setitem,
      op.str('meta'),
      ...levels,
      op.setitems,
      op.stop,
    );
    const info = await inspectCheckpoint(torchZip(pkl, { 0: f32(1) }));
    const json = JSON.stringify(info.metadata);
    expect(json.length).toBeLessThan(100_000);
    expect(json).toContain('<same as meta[0][0][0]>');
    expect(Object.keys(info.tensors)).toEqual(['w']);
  });

  it("keeps a state dict entry named '__proto__' as a key, not the result's prototype, and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const sd = await loadCheckpoint(torchZip(stateDictPickle([['__proto__', tensorOps('0', 2, [2], [1])], ['b', tensorOps('0', 2, [1], [1], 1)]]), { 0: f32(5, 6) }));
    expect(Object.getPrototypeOf(sd)).toBeNull();
    expect(Object.keys(sd).sort()).toEqual(['__proto__', 'b']);
    expect(Array.from(await sd['__proto__'].data())).toEqual([5, 6]);
    disposeStateDict(sd);
    expect(tf.memory().numTensors).toBe(before);
  });
});
