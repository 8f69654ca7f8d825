import { Rng } from '../../utils/rng';
import type { Shape3, VolumeSample } from '../sample';
import { CropOrPad, flip, RandomFlip, RandomRotation, Resample, rotateSlices } from './spatial';

const make = (shape: Shape3, values?: number[], mask?: number[]): VolumeSample => ({
  id: 'v',
  data: Float32Array.from(values ?? Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => i)),
  shape,
  spacing: [1, 1, 1],
  label: 0,
  mask: mask ? Uint8Array.from(mask) : undefined,
});

describe('Resample', () => {
  it('upsamples a ramp linearly and keeps voxel 0 at the origin', () => {
    const s = { ...make([1, 1, 3], [0, 10, 20]), spacing: [1, 1, 2] as Shape3 };
    const out = new Resample([null, null, 1]).apply(s, new Rng(0));
    expect(out.shape).toEqual([1, 1, 6]);
    expect(out.spacing).toEqual([1, 1, 1]);
    expect(Array.from(out.data)).toEqual([0, 5, 10, 15, 20, 20]);
  });

  it('interpolates trilinearly and resamples the mask by nearest neighbour', () => {
    // 2x2x2 cube of 0..7 at 2 mm to 1 mm: the voxel at (1, 1, 1) is the mean of all 8 corners.
    const s = { ...make([2, 2, 2], undefined, [0, 0, 0, 0, 0, 0, 0, 1]), spacing: [2, 2, 2] as Shape3 };
    const out = new Resample([1, 1, 1]).apply(s, new Rng(0));
    expect(out.shape).toEqual([4, 4, 4]);
    expect(out.data[(1 * 4 + 1) * 4 + 1]).toBeCloseTo(3.5, 6);
    expect(out.data[(2 * 4 + 2) * 4 + 2]).toBe(7);
    expect(out.mask![(1 * 4 + 1) * 4 + 1]).toBe(1);
    expect(out.mask![0]).toBe(0);
  });

  it('downsamples by picking every other voxel when the ratio is 2', () => {
    const out = new Resample([1, 1, 2]).apply(make([1, 1, 6]), new Rng(0));
    expect(Array.from(out.data)).toEqual([0, 2, 4]);
  });
});

describe('CropOrPad', () => {
  it('crops around the centre and pads with the minimum', () => {
    const s = make([1, 1, 5], [3, 4, 5, 6, 7]);
    expect(Array.from(new CropOrPad([1, 1, 3]).apply(s, new Rng(0)).data)).toEqual([4, 5, 6]);
    expect(Array.from(new CropOrPad([1, 1, 7]).apply(s, new Rng(0)).data)).toEqual([3, 3, 4, 5, 6, 7, 3]);
    expect(Array.from(new CropOrPad([1, 1, 7], { padValue: -1 }).apply(s, new Rng(0)).data)).toEqual([-1, 3, 4, 5, 6, 7, -1]);
  });

  it('centres on the mask', () => {
    const s = make([1, 1, 8], undefined, [0, 0, 0, 0, 0, 0, 1, 1]);
    const out = new CropOrPad([1, 1, 3], { centre: 'mask' }).apply(s, new Rng(0));
    expect(Array.from(out.data)).toEqual([6, 7, 0]);
    expect(Array.from(out.mask!)).toEqual([1, 1, 0]);
  });

  it('places a random window inside the volume, reproducibly', () => {
    const s = make([1, 4, 10]);
    const t = new CropOrPad([1, 2, 3], { centre: 'random' });
    const starts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const st = t.start(s, new Rng(i));
      expect(st[1]).toBeGreaterThanOrEqual(0);
      expect(st[1]).toBeLessThanOrEqual(2);
      expect(st[2]).toBeLessThanOrEqual(7);
      starts.add(st.join(','));
    }
    expect(starts.size).toBeGreaterThan(10);
    expect(t.apply(s, new Rng(3)).data).toEqual(t.apply(s, new Rng(3)).data);
  });
});

describe('flip', () => {
  it('mirrors the chosen axes', () => {
    const s = make([2, 1, 2], [0, 1, 2, 3], [1, 0, 0, 0]);
    expect(Array.from(flip(s, [2]).data)).toEqual([1, 0, 3, 2]);
    expect(Array.from(flip(s, [0]).data)).toEqual([2, 3, 0, 1]);
    expect(Array.from(flip(s, [0, 2]).mask!)).toEqual([0, 0, 0, 1]);
  });

  it('RandomFlip flips with the given probabilities', () => {
    const s = make([2, 2, 2]);
    expect(new RandomFlip([0, 0, 0]).apply(s, new Rng(0))).toBe(s);
    expect(Array.from(new RandomFlip([1, 1, 1]).apply(s, new Rng(0)).data)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
  });
});

describe('rotateSlices', () => {
  it('rotates by 90 degrees exactly and pads with the minimum', () => {
    // 3x3 slice 0..8: a 90-degree counter-clockwise turn as displayed.
    const s = make([1, 3, 3]);
    expect(Array.from(rotateSlices(s, 90).data).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([2, 5, 8, 1, 4, 7, 0, 3, 6]);
    const r = rotateSlices(make([1, 2, 2], [1, 2, 3, 4]), 45);
    // Corners rotate out of the square and pick up padding (the minimum, 1).
    expect(Math.min(...r.data)).toBeGreaterThanOrEqual(1);
    expect(Array.from(rotateSlices(s, 0).data)).toEqual(Array.from(s.data));
  });

  it('RandomRotation stays in range and rotates the mask with the volume', () => {
    const s = make([1, 5, 5], undefined, Array.from({ length: 25 }, (_, i) => (i === 1 ? 1 : 0)));
    const out = new RandomRotation(90, 90).apply(s, new Rng(0));
    // (row 0, col 1) turns to (row 3, col 0) under a counter-clockwise quarter turn.
    expect(out.mask![15]).toBe(1);
    expect(out.mask!.reduce((a, m) => a + m, 0)).toBe(1);
    expect(() => new RandomRotation(10, 5)).toThrow('expected minDegrees <= maxDegrees, got 10 and 5');
  });
});
