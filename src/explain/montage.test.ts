import { colormapRgb } from './colormap';
import { montagePng, renderMontage, sliceAttentionBarChart } from './montage';

// Volume [D=3, H=2, W=2] with values 0..11 (gray = v / 11).
const volume = { data: Array.from({ length: 12 }, (_, i) => i), shape: [3, 2, 2] };

describe('renderMontage', () => {
  it('lays out the input row and one overlay row per map, blending with alpha', () => {
    const map = { data: Array.from({ length: 12 }, (_, i) => (i === 5 ? 1 : 0)), shape: [3, 2, 2] };
    const img = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1 });
    expect([img.width, img.height]).toEqual([2 * 3 + 1, 2 * 3 + 1]);
    const px = (x: number, y: number) => Array.from(img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
    // Input row, slice 1, pixel (0, 1): voxel 5, gray 5/11.
    const g = Math.round((5 / 11) * 255);
    expect(px(2, 1)).toEqual([g, g, g, 255]);
    // Overlay row: voxel 5 has map value 1 -> jet's last colour, blended 50/50.
    const red = colormapRgb([1], 'jet');
    expect(px(2, 4)).toEqual([...[0, 1, 2].map((c) => Math.round((0.5 * (5 / 11) + 0.5 * (red[c] / 255)) * 255)), 255]);
    // Padding stays black.
    expect(px(0, 0)).toEqual([0, 0, 0, 255]);
  });

  it('broadcasts per-slice values and centres the default slices on the peak', () => {
    const img = renderMontage(volume, [{ map: [0, 0, 1] }], { padding: 0, inputRow: false });
    expect(img.width).toBe(3 * 2);
    const blue = colormapRgb([0], 'jet');
    const o = 0; // slice 0, pixel (0, 0), gray 0
    expect(img.rgba[o + 2]).toBe(Math.round(0.5 * (blue[2] / 255) * 255));
  });

  it('draws each voxel as a zoom x zoom block', () => {
    const map = { data: Array.from({ length: 12 }, (_, i) => (i === 5 ? 1 : 0)), shape: [3, 2, 2] };
    const plain = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1 });
    const big = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1, zoom: 3 });
    expect([big.width, big.height]).toEqual([2 * (2 * 3 + 1) + 1, 2 * (2 * 3 + 1) + 1]);
    const at = (img: typeof big, x: number, y: number) => Array.from(img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
    // Every pixel of the zoomed tiles equals its voxel's pixel in the plain montage.
    for (const [row, col] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          const zx = 1 + col * 7 + x;
          const zy = 1 + row * 7 + y;
          expect(at(big, zx, zy)).toEqual(at(plain, 1 + col * 3 + Math.floor(x / 3), 1 + row * 3 + Math.floor(y / 3)));
        }
      }
    }
    expect(() => renderMontage(volume, [], { zoom: 1.5 })).toThrow('renderMontage: zoom must be a positive integer, got 1.5');
  });

  it('refuses maps of another shape and slices out of range', () => {
    expect(() => renderMontage(volume, [{ map: { data: new Array(8).fill(0), shape: [2, 2, 2] } }])).toThrow(/row 0: expected a map \[3, 2, 2\] or \[3\], got \[2, 2, 2\]/);
    expect(() => renderMontage(volume, [], { slices: [3] })).toThrow(/slice 3 is out of range \[0, 2\]/);
  });

  it('encodes PNGs', () => {
    const png = montagePng(volume, [{ map: [0.2, 0.5, 0.3] }]);
    expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    const bars = sliceAttentionBarChart([0.1, 0.6, 0.3], { barWidth: 4, height: 10 });
    expect(Array.from(bars.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    // IHDR width: 3 bars of 4 px plus two 4 px margins.
    expect(new DataView(bars.buffer, bars.byteOffset).getUint32(16)).toBe(3 * 4 + 8);
  });
});
