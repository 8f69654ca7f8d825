import { colormapTable } from './colormap';
import { displayWindow, normalizeSaliency, renderSliceOverlay } from './overlay';

const volume = { data: Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 10), shape: [2, 2, 3] };

describe('normalizeSaliency', () => {
  test('min-max scales the whole map; a constant map becomes zeros', () => {
    expect(Array.from(normalizeSaliency(Float32Array.from([2, 4, 6])))).toEqual([0, 0.5, 1]);
    expect(Array.from(normalizeSaliency([3, 3]))).toEqual([0, 0]);
  });

  test('clips to quantiles first, as the paper figures', () => {
    const values = Float32Array.from({ length: 101 }, (_, i) => i);
    const out = normalizeSaliency(values, [0.5, 0.9]);
    expect(out[0]).toBe(0);
    expect(out[50]).toBe(0);
    expect(out[70]).toBeCloseTo(0.5, 6);
    expect(out[90]).toBe(1);
    expect(out[100]).toBe(1);
    expect(() => normalizeSaliency(values, [0.9, 0.5])).toThrow(/clip must be quantiles/);
  });
});

describe('displayWindow', () => {
  test('is the 1st and 99th percentiles', () => {
    const values = Float32Array.from({ length: 101 }, (_, i) => i);
    expect(displayWindow(values)).toEqual([1, 99]);
    expect(displayWindow([5, 5, 5])).toEqual([5, 6]);
  });
});

describe('renderSliceOverlay', () => {
  test('opacity 0 or no saliency gives the windowed scan in grey', () => {
    const img = renderSliceOverlay(volume, { data: new Float32Array(12).fill(1), shape: [2, 2, 3] }, 1, { window: [60, 110], opacity: 0 });
    expect([img.width, img.height]).toEqual([3, 2]);
    // Slice 1 holds 60..110: grey 0, 51, 102, ..., 255.
    const greys = Array.from({ length: 6 }, (_, i) => img.rgba[i * 4]);
    expect(greys).toEqual([0, 51, 102, 153, 204, 255]);
    for (let i = 0; i < 6; i++) expect([img.rgba[i * 4 + 1], img.rgba[i * 4 + 2], img.rgba[i * 4 + 3]]).toEqual([greys[i], greys[i], 255]);
    expect(renderSliceOverlay(volume, null, 1, { window: [60, 110] }).rgba).toEqual(img.rgba);
  });

  test('colours each pixel by its saliency, blended with opacity x saliency', () => {
    const saliency = new Float32Array(12);
    saliency[6] = 1; // slice 1, first pixel (grey 0)
    saliency[7] = 0.5; // grey 51
    const img = renderSliceOverlay(volume, { data: saliency, shape: [2, 2, 3] }, 1, { window: [60, 110], opacity: 0.8 });
    const jet = colormapTable('jet');
    expect(Array.from(img.rgba.subarray(0, 3))).toEqual([0, 1, 2].map((c) => Math.round(0.8 * jet[255 * 3 + c])));
    expect(Array.from(img.rgba.subarray(4, 7))).toEqual([0, 1, 2].map((c) => Math.round(0.6 * 51 + 0.4 * jet[128 * 3 + c])));
    expect(Array.from(img.rgba.subarray(8, 11))).toEqual([102, 102, 102]);
  });

  test('bad input is named', () => {
    expect(() => renderSliceOverlay(volume, null, 2)).toThrow(/slice must be an integer in \[0, 2\), got 2/);
    expect(() => renderSliceOverlay(volume, { data: new Float32Array(6), shape: [1, 2, 3] }, 0)).toThrow(/must have the volume's shape \[2, 2, 3\]/);
    expect(() => renderSliceOverlay(volume, null, 0, { opacity: 2 })).toThrow(/opacity must lie in \[0, 1\]/);
    expect(() => renderSliceOverlay({ data: new Float32Array(5), shape: [2, 2, 3] }, null, 0)).toThrow(/the volume must be a volume \[D, H, W\]/);
  });
});
