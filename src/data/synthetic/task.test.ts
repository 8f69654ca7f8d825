import { makeSyntheticCase } from './task';
import { syntheticDataset } from './dataset';
import type { Shape3 } from '../sample';

function auc(pos: number[], neg: number[]): number {
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

// Max distance of a mask voxel from the mask's centroid over the equal-volume sphere's radius,
// in the chest task's physical frame: ~1 for round nodules, larger for spicules and lobes.
function irregularity(mask: Uint8Array, [D, H, W]: Shape3): number {
  const sz = 0.8 / D;
  const sy = 2 / H;
  let n = 0;
  let cz = 0;
  let cy = 0;
  let cx = 0;
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    if (!mask[(d * H + h) * W + w]) continue;
    n++;
    cz += d * sz;
    cy += h * sy;
    cx += w * sy;
  }
  cz /= n;
  cy /= n;
  cx /= n;
  let maxR = 0;
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    if (mask[(d * H + h) * W + w]) maxR = Math.max(maxR, Math.hypot(d * sz - cz, h * sy - cy, w * sy - cx));
  }
  return maxR / Math.cbrt((3 * n * sz * sy * sy) / (4 * Math.PI));
}

describe('makeSyntheticCase (chest)', () => {
  const size: Shape3 = [16, 64, 64];

  it('gives identical bytes for the same seed and index, and different ones otherwise', () => {
    const a = makeSyntheticCase('chest', { seed: 3, index: 5, size });
    const b = makeSyntheticCase('chest', { seed: 3, index: 5, size });
    const c = makeSyntheticCase('chest', { seed: 4, index: 5, size });
    expect(Buffer.from(a.volume.buffer).equals(Buffer.from(b.volume.buffer))).toBe(true);
    expect(Buffer.from(a.mask.buffer).equals(Buffer.from(b.mask.buffer))).toBe(true);
    expect(Buffer.from(a.volume.buffer).equals(Buffer.from(c.volume.buffer))).toBe(false);
    expect(a.id).toBe('chest-3-5');
    expect(a.label).toBe(1);
    expect(a.shape).toEqual(size);
    expect(a.spacing).toEqual([4, 2.5, 2.5]);
    expect(a.volume.length).toBe(16 * 64 * 64);
  });

  it('puts a dense nodule in a few central slices over lung-like background', () => {
    for (let index = 0; index < 6; index++) {
      const c = makeSyntheticCase('chest', { seed: 1, index, size });
      let inside = 0;
      let nIn = 0;
      let outside = 0;
      const slices = new Set<number>();
      for (let k = 0; k < c.volume.length; k++) {
        if (c.mask[k]) {
          inside += c.volume[k];
          nIn++;
          slices.add(Math.floor(k / (64 * 64)));
        } else outside += c.volume[k];
      }
      outside /= c.volume.length - nIn;
      expect(nIn).toBeGreaterThan(20);
      expect(slices.size).toBeLessThanOrEqual(12);
      expect(outside).toBeLessThan(-600);
      expect(inside / nIn - outside).toBeGreaterThan(350);
      expect(c.volume.every(Number.isFinite)).toBe(true);
    }
  });

  it('separates the classes by lesion shape but not by global intensity', () => {
    const shapes: [number[], number[]] = [[], []];
    const means: [number[], number[]] = [[], []];
    const small: Shape3 = [12, 48, 48];
    for (let index = 0; index < 24; index++) {
      const c = makeSyntheticCase('chest', { seed: 5, index, size: small });
      shapes[c.label].push(irregularity(c.mask, small));
      means[c.label].push(c.volume.reduce((s, v) => s + v, 0) / c.volume.length);
    }
    expect(auc(shapes[1], shapes[0])).toBeGreaterThan(0.9);
    expect(Math.abs(auc(means[1], means[0]) - 0.5)).toBeLessThan(0.25);
  });

  it('works at odd sizes and one slice', () => {
    expect(makeSyntheticCase('chest', { seed: 0, index: 0, size: [5, 33, 40] }).volume.length).toBe(5 * 33 * 40);
    expect(makeSyntheticCase('chest', { seed: 0, index: 1, size: [1, 16, 16] }).volume.every(Number.isFinite)).toBe(true);
  });

  it('rejects bad options with messages naming them', () => {
    expect(() => makeSyntheticCase('chest', { seed: 0, index: -1 })).toThrow('index must be a non-negative integer, got -1');
    expect(() => makeSyntheticCase('chest', { seed: 0, index: 0, size: [4, 4, 64] })).toThrow('got [4, 4, 64]');
    expect(() => makeSyntheticCase('chest', { seed: 0, index: 0, difficulty: 2 })).toThrow('difficulty must be in [0, 1], got 2');
    expect(() => makeSyntheticCase('lung' as 'chest', { seed: 0, index: 0 })).toThrow("unknown task 'lung'");
  });
});

describe('syntheticDataset', () => {
  it('is balanced, preprocessed to [-1, 1] and cached', async () => {
    const ds = syntheticDataset('chest', { n: 5, seed: 2, size: [4, 16, 16], offset: 10 });
    expect(ds.length).toBe(5);
    expect(ds.labels).toEqual([0, 1, 0, 1, 0]);
    expect(ds.ids[1]).toBe('chest-2-11');
    const s = await ds.get(1);
    expect(s.label).toBe(1);
    expect(s.shape).toEqual([4, 16, 16]);
    expect(Math.min(...s.data)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...s.data)).toBeLessThanOrEqual(1);
    expect(await ds.get(1)).toBe(s);
    const raw = makeSyntheticCase('chest', { seed: 2, index: 11, size: [4, 16, 16] });
    expect(s.data[7]).toBeCloseTo(Math.max(-1, Math.min(1, raw.volume[7] / 1000)), 6);
    await expect(ds.get(5)).rejects.toThrow('index must be an integer in [0, 5), got 5');
  });
});

// Mean inside the mask minus the mean of an in-plane ring of `width` voxels around it.
function ringContrast(volume: Float32Array, mask: Uint8Array, [D, H, W]: Shape3, width: number): number {
  let inside = 0;
  let nIn = 0;
  let ring = 0;
  let nRing = 0;
  for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const k = (d * H + h) * W + w;
    if (mask[k]) {
      inside += volume[k];
      nIn++;
      continue;
    }
    let near = false;
    for (let dh = -width; dh <= width && !near; dh++) for (let dw = -width; dw <= width && !near; dw++) {
      const hh = h + dh;
      const ww = w + dw;
      if (hh >= 0 && hh < H && ww >= 0 && ww < W && mask[(d * H + hh) * W + ww]) near = true;
    }
    if (near) {
      ring += volume[k];
      nRing++;
    }
  }
  return inside / nIn - ring / nRing;
}

describe.each([
  ['breast', 40] as const,
  ['knee', 30] as const,
])('makeSyntheticCase (%s)', (task, minContrast) => {
  const size: Shape3 = [12, 64, 64];

  it('is deterministic, labels by index parity and masks only positives', () => {
    const a = makeSyntheticCase(task, { seed: 9, index: 2, size });
    const b = makeSyntheticCase(task, { seed: 9, index: 2, size });
    expect(Buffer.from(a.volume.buffer).equals(Buffer.from(b.volume.buffer))).toBe(true);
    expect(a.label).toBe(0);
    expect(a.mask.every((m) => m === 0)).toBe(true);
    expect(a.volume.every(Number.isFinite)).toBe(true);
  });

  it('draws a lesion brighter than its surroundings in a few slices of each positive case', () => {
    for (const index of [1, 3, 5, 7]) {
      const c = makeSyntheticCase(task, { seed: 9, index, size });
      const slices = new Set<number>();
      c.mask.forEach((m, k) => m && slices.add(Math.floor(k / (64 * 64))));
      expect(slices.size).toBeGreaterThanOrEqual(1);
      expect(slices.size).toBeLessThanOrEqual(8);
      expect(ringContrast(c.volume, c.mask, size, 2)).toBeGreaterThan(minContrast);
    }
  });
});
