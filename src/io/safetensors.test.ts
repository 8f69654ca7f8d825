import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeSafetensors, halfToFloat, loadSafetensors, parseSafetensorsHeader, saveSafetensors } from './safetensors';
import { disposeStateDict } from '../nn/module';

function rawFile(header: object | string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors', () => {
  it('round-trips a state dict bit for bit through a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-st-'));
    const file = path.join(dir, 'w.safetensors');
    const sd = { 'a.weight': tf.tensor2d([[1.5, -2.25], [3e-8, 7]]), b: tf.tensor1d([1, 2, 3], 'int32') };
    await saveSafetensors(sd, file, { format: 'pt' });
    const back = await loadSafetensors(file);
    expect(Array.from(await back['a.weight'].data())).toEqual(Array.from(await sd['a.weight'].data()));
    expect(back['a.weight'].shape).toEqual([2, 2]);
    expect(back.b.dtype).toBe('int32');
    expect(Array.from(await back.b.data())).toEqual([1, 2, 3]);
    disposeStateDict(sd);
    disposeStateDict(back);
  });

  it('decodes F16 and BF16 to float32', async () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer);
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer);
    const data = new Uint8Array(10);
    data.set(f16, 0);
    data.set(bf16, 6);
    const file = rawFile({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } }, data);
    const sd = await loadSafetensors(file);
    expect(Array.from(await sd.h.data())).toEqual([1, -2, Math.fround(halfToFloat(0x3555))]);
    expect(Array.from(await sd.b.data())).toEqual([1, -3]);
    disposeStateDict(sd);
  });

  it('refuses a header longer than the file', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => parseSafetensorsHeader(bytes, 'x.safetensors')).toThrow(/x\.safetensors: header claims 1099511627776 bytes/);
  });

  it('refuses out-of-range, mis-sized and overlapping data offsets', () => {
    const d = new Uint8Array(8);
    expect(() => parseSafetensorsHeader(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, d))).toThrow(/beyond the file/);
    expect(() => parseSafetensorsHeader(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d))).toThrow(/holds 8 bytes but F32\[3\] needs 12/);
    expect(() =>
      parseSafetensorsHeader(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d)),
    ).toThrow(/overlap/);
    expect(() => parseSafetensorsHeader(rawFile({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 20], data_offsets: [0, 8] } }, d))).toThrow(/overflows/);
  });

  it('names a truncated file and a missing one', async () => {
    const sd = { a: tf.ones([64]) };
    const bytes = await encodeSafetensors(sd);
    await expect(loadSafetensors(bytes.subarray(0, bytes.byteLength - 10))).rejects.toThrow(/beyond the file/);
    await expect(loadSafetensors('/nonexistent/w.safetensors')).rejects.toThrow(/cannot read '\/nonexistent\/w\.safetensors': no such file/);
    disposeStateDict(sd);
  });
});

describe('hostile safetensors headers', () => {
  const f32 = (...v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);

  it('requires the offsets to tile the data section: a header length cut into the padding is caught', async () => {
    const good = await encodeSafetensors({ a: tf.tensor1d([1, 2]), b: tf.tensor1d([3, 4]) });
    const len = Number(new DataView(good.buffer).getBigUint64(0, true));
    const json = new TextDecoder().decode(good.subarray(8, 8 + len));
    const padding = json.length - json.trimEnd().length;
    expect(padding).toBeGreaterThan(0);
    const cut = good.slice();
    new DataView(cut.buffer).setBigUint64(0, BigInt(len - padding), true); // every tensor now starts `padding` bytes early
    expect(() => parseSafetensorsHeader(cut, 'cut.safetensors')).toThrow(`cut.safetensors: the tensors cover 16 of the ${16 + padding} data bytes after the header (offsets must tile the data section; header length wrong?)`);
    const gap = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(0, 1));
    expect(() => parseSafetensorsHeader(gap, 'gap.safetensors')).toThrow("gap.safetensors: tensor 'a' starts at data byte 4, leaving bytes 0..4 of the data section unused");
  });

  it("keeps a tensor named '__proto__' as an entry, never as the result's prototype", async () => {
    // Written as text: an object literal's `__proto__` would set a prototype, not a key.
    const file = rawFile('{"__proto__": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}', f32(1, 2, 3));
    expect(Object.keys(parseSafetensorsHeader(file).entries)).toEqual(['__proto__', 'b']);
    const before = tf.memory().numTensors;
    const sd = await loadSafetensors(file);
    expect(Object.getPrototypeOf(sd)).toBeNull();
    expect(Object.keys(sd)).toEqual(['__proto__', 'b']);
    expect(Array.from(await sd['__proto__'].data())).toEqual([1, 2]);
    disposeStateDict(sd);
    expect(tf.memory().numTensors).toBe(before);
  });
});
