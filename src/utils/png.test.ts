import { unzlibSync } from 'fflate';
import { encodePng } from './png';
import { parseColor, Raster } from './raster';

/** Reads back an RGBA PNG written by encodePng (Sub filter), checking every chunk's CRC. */
function decode(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  for (;;) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const body = png.subarray(o + 8, o + 8 + len);
    let c = 0xffffffff;
    for (const b of png.subarray(o + 4, o + 8 + len)) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    expect(view.getUint32(o + 8 + len)).toBe((c ^ 0xffffffff) >>> 0);
    if (type === 'IHDR') {
      width = view.getUint32(o + 8);
      height = view.getUint32(o + 12);
      expect(Array.from(body.subarray(8))).toEqual([8, 6, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(body);
    o += 12 + len;
    if (type === 'IEND') break;
  }
  const raw = unzlibSync(idat[0]);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(1);
    for (let x = 0; x < width * 4; x++) {
      const left = x >= 4 ? rgba[y * width * 4 + x - 4] : 0;
      rgba[y * width * 4 + x] = (raw[y * (width * 4 + 1) + 1 + x] + left) & 0xff;
    }
  }
  return { width, height, rgba };
}

describe('encodePng', () => {
  test('round-trips RGBA pixels with valid chunks', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) & 0xff);
    const back = decode(encodePng(rgba, 3, 2));
    expect(back.width).toBe(3);
    expect(back.height).toBe(2);
    expect(Array.from(back.rgba)).toEqual(Array.from(rgba));
  });

  test('rejects a size that does not match the data', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow('expected 2x2x4 = 16 bytes of RGBA, got 10');
    expect(() => encodePng(new Uint8Array(0), 0, 2)).toThrow('positive integers');
  });
});

describe('Raster', () => {
  test('draws rectangles, lines and text that change the right pixels', () => {
    const r = new Raster(40, 20, [255, 255, 255, 255]);
    r.fillRect(0, 0, 2, 2, parseColor('#ff0000'));
    expect(Array.from(r.data.subarray(0, 4))).toEqual([255, 0, 0, 255]);
    r.line(0, 10.5, 40, 10.5, parseColor('#000000'), 1);
    expect(r.data[(10 * 40 + 20) * 4]).toBe(0);
    r.text('1', 30, 4, parseColor('#0000ff'), 1);
    let blue = 0;
    for (let i = 0; i < 40 * 20; i++) if (r.data[i * 4] === 0 && r.data[i * 4 + 2] === 255) blue++;
    expect(blue).toBe(10); // the 5x7 glyph "1" has 10 pixels set
    expect(Raster.textWidth('AUC', 2)).toBe(34);
    expect(() => parseColor('red')).toThrow("expected '#rrggbb' or '#rrggbbaa', got 'red'");
  });
});
