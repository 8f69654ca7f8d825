import { Rng } from '../utils/rng';
import { gaussianBlur, multiCrop, randomResizedCropBox, resizeBox, type Slice2D } from './multi_crop';

function ramp(h: number, w: number): Slice2D {
  return { data: Float32Array.from({ length: h * w }, (_, i) => Math.floor(i / w) * 10 + (i % w)), h, w };
}

describe('multi-crop augmentation', () => {
  it('draws crop boxes inside the image with the requested area range', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const [top, left, h, w] = randomResizedCropBox(32, 24, [0.05, 0.4], rng);
      expect(top).toBeGreaterThanOrEqual(0);
      expect(left).toBeGreaterThanOrEqual(0);
      expect(top + h).toBeLessThanOrEqual(32);
      expect(left + w).toBeLessThanOrEqual(24);
      // Rounding the sides moves the area a little off the drawn fraction.
      expect((h * w) / (32 * 24)).toBeGreaterThan(0.02);
      expect((h * w) / (32 * 24)).toBeLessThan(0.5);
    }
  });

  it('falls back to a centre crop clamped to the aspect range when no draw fits', () => {
    // A 40x4 strip: no box of 90-100% of its area has an aspect ratio within [3/4, 4/3].
    expect(randomResizedCropBox(40, 4, [0.9, 1], new Rng(0))).toEqual([17, 0, 5, 4]);
  });

  it('resizes a box bilinearly, exactly at the identity and between samples otherwise', () => {
    const src = ramp(4, 4);
    const same = new Float32Array(16);
    resizeBox(src, [0, 0, 4, 4], 4, same, 0);
    expect(Array.from(same)).toEqual(Array.from(src.data));
    const up = new Float32Array(64);
    resizeBox(src, [0, 0, 4, 4], 8, up, 0);
    // Output pixel 1 samples x = 0.25 of the source row: 0 * 0.75 + 1 * 0.25.
    expect(up[1]).toBeCloseTo(0.25, 6);
    expect(up[0]).toBe(0);
    expect(up[63]).toBe(33);
  });

  it('blurs without changing a constant image or the mean of a ramp', () => {
    const c = new Float32Array(36).fill(2.5);
    gaussianBlur(c, 0, 6, 0.8);
    for (const v of c) expect(v).toBeCloseTo(2.5, 5);
    const r = ramp(6, 6).data;
    const mean = r.reduce((a, b) => a + b, 0) / 36;
    gaussianBlur(r, 0, 6, 0.5);
    expect(r.reduce((a, b) => a + b, 0) / 36).toBeCloseTo(mean, 4);
    // A linear ramp is unchanged inside (the kernel is symmetric); a checkerboard is smoothed.
    expect(r[14]).toBeCloseTo(22, 4);
    const board = Float32Array.from({ length: 36 }, (_, i) => ((Math.floor(i / 6) + i) % 2 ? 1 : -1));
    gaussianBlur(board, 0, 6, 1);
    expect(Math.max(...board.map(Math.abs))).toBeLessThan(0.5);
  });

  it('makes two global and the local views of every slice, crop-major and seeded', () => {
    const slices = [ramp(16, 16), ramp(16, 16)];
    const opts = { globalSize: 8, localSize: 4, localCrops: 3 };
    const a = multiCrop(slices, opts, new Rng(5));
    const b = multiCrop(slices, opts, new Rng(5));
    const c = multiCrop(slices, opts, new Rng(6));
    expect(a.global.length).toBe(2 * 2 * 64);
    expect(a.local.length).toBe(3 * 2 * 16);
    expect([a.images, a.globalSize, a.localSize]).toEqual([2, 8, 4]);
    expect(Array.from(a.global)).toEqual(Array.from(b.global));
    expect(Array.from(a.local)).toEqual(Array.from(b.local));
    expect(Array.from(a.global)).not.toEqual(Array.from(c.global));
    expect(a.global.every(Number.isFinite) && a.local.every(Number.isFinite)).toBe(true);
  });

  it('keeps the slices\' scale by default and refuses mixed sizes', () => {
    const n = multiCrop([ramp(12, 12)], { localCrops: 1, multipleOf: 4 }, new Rng(0));
    expect([n.globalSize, n.localSize]).toEqual([12, 4]);
    expect(multiCrop([ramp(16, 20)], { localCrops: 1, multipleOf: 4 }, new Rng(0)).globalSize).toBe(16);
    expect(() => multiCrop([ramp(16, 16), ramp(12, 12)], { localCrops: 1 }, new Rng(0))).toThrow('must share one size');
  });
});
