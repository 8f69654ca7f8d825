import { colormapRgb, colormapTable } from './colormap';

describe('colormap', () => {
  it('samples jet as matplotlib: dark blue, cyan-green, dark red', () => {
    expect(Array.from(colormapRgb([0, 1], 'jet'))).toEqual([0, 0, 128, 128, 0, 0]);
    // x = 0.5 falls in table entry 128 (x = 128/255): r = (x - 0.35)/0.31, g = 1, b = (0.65 - x)/0.31.
    const mid = colormapRgb([0.5], 'jet');
    const x = 128 / 255;
    expect(Array.from(mid)).toEqual([Math.round(((x - 0.35) / 0.31) * 255), 255, Math.round(((0.65 - x) / 0.31) * 255)]);
  });

  it('clamps out-of-range values and maps NaN to the first entry', () => {
    expect(Array.from(colormapRgb([-3, 7, NaN], 'turbo'))).toEqual([...colormapTable('turbo').subarray(0, 3), ...colormapTable('turbo').subarray(765, 768), ...colormapTable('turbo').subarray(0, 3)]);
  });

  it('gives turbo its dark, green-centred, red-ending ramp', () => {
    const t = colormapTable('turbo');
    expect(t[0] + t[1] + t[2]).toBeLessThan(120); // dark start
    expect(t[128 * 3 + 1]).toBeGreaterThan(Math.max(t[128 * 3], t[128 * 3 + 2])); // green middle
    expect(t[255 * 3]).toBeGreaterThan(t[255 * 3 + 1] + t[255 * 3 + 2]); // dark red end
  });

  it('rejects an unknown name', () => {
    expect(() => colormapTable('viridis' as 'jet')).toThrow(/expected 'jet' or 'turbo', got 'viridis'/);
  });
});
