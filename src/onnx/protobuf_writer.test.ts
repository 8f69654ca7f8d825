import { ProtoWriter } from './protobuf_writer';

const hex = (b: Uint8Array): string => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join(' ');

describe('ProtoWriter writes the protobuf wire format', () => {
  it.each([
    ['varint 150 (the protobuf guide example)', (w: ProtoWriter) => w.int64(1, 150), '08 96 01'],
    ['zero', (w: ProtoWriter) => w.int64(1, 0), '08 00'],
    ['2^35, past 32-bit arithmetic', (w: ProtoWriter) => w.int64(1, 2 ** 35), '08 80 80 80 80 80 01'],
    ['-1 as 64-bit two\'s complement', (w: ProtoWriter) => w.int64(3, -1), '18 ff ff ff ff ff ff ff ff ff 01'],
    ['-2', (w: ProtoWriter) => w.int64(1, -2), '08 fe ff ff ff ff ff ff ff ff 01'],
    ['a string', (w: ProtoWriter) => w.string(2, 'hi'), '12 02 68 69'],
    ['an empty string', (w: ProtoWriter) => w.string(4, ''), '22 00'],
    ['UTF-8', (w: ProtoWriter) => w.string(1, 'é'), '0a 02 c3 a9'],
    ['a float (fixed32 little-endian)', (w: ProtoWriter) => w.float(2, 1.5), '15 00 00 c0 3f'],
    ['packed varints', (w: ProtoWriter) => w.packedInt64(1, [3, 270, -1]), '0a 0d 03 8e 02 ff ff ff ff ff ff ff ff ff 01'],
    ['packed floats', (w: ProtoWriter) => w.packedFloat(7, [1, -2]), '3a 08 00 00 80 3f 00 00 00 c0'],
    ['a two-byte field number', (w: ProtoWriter) => w.int64(20, 2), 'a0 01 02'],
    ['a nested message', (w: ProtoWriter) => w.message(7, new ProtoWriter().int64(1, 150).string(2, 'a')), '3a 06 08 96 01 12 01 61'],
  ])('%s', (_name, write, want) => {
    const w = new ProtoWriter();
    write(w);
    expect(hex(w.finish())).toBe(want);
  });

  it('keeps field order, counts its length and takes large bytes without re-encoding them', () => {
    const big = new Uint8Array(300).map((_, i) => i % 251);
    const w = new ProtoWriter().int64(1, 1).bytes(9, big).string(8, 'w');
    expect(w.length).toBe(2 + 3 + 300 + 3);
    const out = w.finish();
    expect(hex(out.subarray(0, 5))).toBe('08 01 4a ac 02');
    expect(Array.from(out.subarray(5, 305))).toEqual(Array.from(big));
    expect(hex(out.subarray(305))).toBe('42 01 77');
  });

  it('refuses numbers protobuf cannot hold exactly', () => {
    expect(() => new ProtoWriter().int64(1, 0.5)).toThrow(/safe integer/);
    expect(() => new ProtoWriter().int64(0, 1)).toThrow(/field number/);
  });
});
