import { colormapRgb } from './colormap';
import { defaultMontageClip, montagePng, renderMontage, sliceAttentionBarChart } from './montage';

// Volume [D=3, H=2, W=2] with values 0..11 (gray = v / 11).
const volume = { data: Array.from({ length: 12 }, (_, i) => i), shape: [3, 2, 2] };

describe('renderMontage', () => {
  it('lays out the input row and one overlay row per map, blending with alpha', () => {
    const map = { data: Array.from({ length: 12 }, (_, i) => (i === 5 ? 1 : 0)), shape: [3, 2, 2] };
    const img = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1, labels: false });
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
    const img = renderMontage(volume, [{ map: [0, 0, 1] }], { padding: 0, inputRow: false, labels: false });
    expect(img.width).toBe(3 * 2);
    const blue = colormapRgb([0], 'jet');
    const o = 0; // slice 0, pixel (0, 0), gray 0
    expect(img.rgba[o + 2]).toBe(Math.round(0.5 * (blue[2] / 255) * 255));
  });

  it('draws each voxel as a zoom x zoom block', () => {
    const map = { data: Array.from({ length: 12 }, (_, i) => (i === 5 ? 1 : 0)), shape: [3, 2, 2] };
    const plain = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1, labels: false });
    const big = renderMontage(volume, [{ map, clip: null }], { slices: [1, 2], padding: 1, zoom: 3, labels: false });
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

  it('labels each row in a column left of the tiles', () => {
    const map = { data: Array.from({ length: 12 }, (_, i) => i), shape: [3, 2, 2] };
    const plain = renderMontage(volume, [{ map, clip: null }], { slices: [0], padding: 1, labels: false });
    const img = renderMontage(volume, [{ map, clip: null, label: 'saliency' }], { slices: [0], padding: 1 });
    expect(img.height).toBe(plain.height);
    expect(img.width).toBeGreaterThan(plain.width + 6 * 'saliency'.length - 1);
    const white = (x0: number, x1: number, y0: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (img.rgba[(y * img.width + x) * 4] === 255 && img.rgba[(y * img.width + x) * 4 + 1] === 255) n++;
      return n;
    };
    const labelWidth = img.width - plain.width;
    // Text in the label column beside each of the two rows (input, saliency).
    const rowH = (img.height - 1) / 2;
    expect(white(0, labelWidth, 0, rowH)).toBeGreaterThan(10);
    expect(white(0, labelWidth, rowH, img.height)).toBeGreaterThan(10);
    // The tiles are the unlabelled montage's, shifted right.
    for (let y = 0; y < img.height; y++) {
      const a = Array.from(img.rgba.subarray((y * img.width + labelWidth) * 4, (y * img.width + img.width) * 4));
      expect(a).toEqual(Array.from(plain.rgba.subarray(y * plain.width * 4, (y + 1) * plain.width * 4)));
    }
  });

  it('keeps a small volume\'s map visible: the default clip depends on the voxel count', () => {
    expect(defaultMontageClip(32 * 224 * 224)).toEqual([0.995, 0.999]);
    expect(defaultMontageClip(8 * 16 * 16)).toEqual([0.5, 0.9]);
    const [lo, hi] = defaultMontageClip(16 * 64 * 64);
    expect(lo).toBeCloseTo(1 - 8000 / 65536, 12);
    expect(hi).toBeCloseTo(1 - 1600 / 65536, 12);
    expect(() => defaultMontageClip(0)).toThrow('defaultMontageClip: expected a positive voxel count, got 0');
    // An 8x16x16 crop with a smooth blob: most overlay pixels must not sit at the colour map's floor
    // (the paper's [0.995, 0.999] leaves 10 of its 2048 voxels above it).
    const [D, H, W] = [8, 16, 16];
    const vol = { data: new Float32Array(D * H * W).fill(1), shape: [D, H, W] };
    const sal = new Float32Array(D * H * W);
    for (let d = 0; d < D; d++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) sal[(d * H + y) * W + x] = Math.exp(-((d - 3.5) ** 2 / 8 + (y - 8) ** 2 / 20 + (x - 6) ** 2 / 20));
    const img = renderMontage(vol, [{ map: { data: sal, shape: [D, H, W] } }], { padding: 0, inputRow: false, labels: false, alpha: 1 });
    const floor = colormapRgb([0], 'jet');
    let coloured = 0;
    for (let i = 0; i < img.width * img.height; i++) if (img.rgba[i * 4] !== floor[0] || img.rgba[i * 4 + 1] !== floor[1] || img.rgba[i * 4 + 2] !== floor[2]) coloured++;
    expect(coloured / (D * H * W)).toBeGreaterThan(0.4);
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
