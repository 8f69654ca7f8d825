import * as fs from 'node:fs';
import { fixturePath } from '../../test/helpers';
import { affineSpacing, arrayVolume, axisCodes, permuteFlip, type Affine, type Volume, type VolumeShape } from './volume';
import { GRID_TOLERANCE_MM, resampleToGrid, sameGrid, stackSequences } from './volume_registration';

function volume(data: Float32Array, shape: VolumeShape, affine: Affine, source = 'test'): Volume {
  return { data, shape, affine, spacing: affineSpacing(affine), orientation: axisCodes(affine), dtype: 'float32', source, meta: {} };
}

const world = (a: Affine, d: number, h: number, w: number): number[] => [0, 1, 2].map((r) => a[r][0] * d + a[r][1] * h + a[r][2] * w + a[r][3]);

/** A volume whose voxels hold a linear function of their world position (trilinear sampling reproduces it exactly). */
function linearField(shape: VolumeShape, affine: Affine, source: string): Volume {
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  let i = 0;
  for (let d = 0; d < shape[0]; d++) for (let h = 0; h < shape[1]; h++) for (let w = 0; w < shape[2]; w++, i++) {
    const [x, y, z] = world(affine, d, h, w);
    data[i] = 0.5 * x - 0.25 * y + 0.125 * z + 3;
  }
  return volume(data, shape, affine, source);
}

describe('resampleToGrid', () => {
  it("equals SciPy's map_coordinates (order 1) through two oblique affines, the minimum outside", () => {
    const ref = JSON.parse(fs.readFileSync(fixturePath('volumes', 'registration_ref.json'), 'utf8')) as {
      movingShape: VolumeShape; movingAffine: Affine; moving: number[]; referenceShape: VolumeShape; referenceAffine: Affine; expected: number[]; outside: number;
    };
    const moving = volume(Float32Array.from(ref.moving), ref.movingShape, ref.movingAffine, 'moving.nii');
    const target = volume(new Float32Array(ref.expected.length), ref.referenceShape, ref.referenceAffine, 'reference.nii');
    const out = resampleToGrid(moving, target);
    expect(out.shape).toEqual(ref.referenceShape);
    expect(out.affine).toEqual(ref.referenceAffine);
    let maxDiff = 0;
    ref.expected.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - v))));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(ref.outside).toBeGreaterThan(0);
    expect(out.meta.overlap).toBeCloseTo(1 - ref.outside / ref.expected.length, 10);
  });

  it('reproduces a linear field of world position on a finer, shifted grid, and undoes a permutation exactly', () => {
    const a: Affine = [[0, 0, -0.7, 40], [0, -0.7, 0, 30], [3, 0, 0, -20], [0, 0, 0, 1]];
    const coarse = linearField([8, 20, 24], a, 'coarse.nii');
    // Half the spacing in-plane, shifted by a quarter voxel, inside the coarse volume's extent.
    const fineAffine: Affine = [[0, 0, -0.35, 40 - 0.175], [0, -0.35, 0, 30 - 0.175], [1.5, 0, 0, -20 + 0.75], [0, 0, 0, 1]];
    const fine = resampleToGrid(coarse, volume(new Float32Array(1), [12, 36, 44], fineAffine));
    const expected = linearField([12, 36, 44], fineAffine, 'fine');
    let maxDiff = 0;
    expected.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(fine.data[i] - v))));
    expect(maxDiff).toBeLessThan(1e-4);
    const permuted = permuteFlip(coarse, [2, 0, 1], [true, false, true]);
    const back = resampleToGrid(permuted, coarse);
    expect(Array.from(back.data)).toEqual(Array.from(coarse.data));
  });

  it('names both grids when the volumes do not overlap or one has no geometry', () => {
    const a: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    const far: Affine = [[1, 0, 0, 500], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    const x = volume(new Float32Array(27), [3, 3, 3], a, 't1.nii.gz');
    expect(() => resampleToGrid(volume(new Float32Array(27), [3, 3, 3], far, 't2.nii.gz'), x)).toThrow(
      /cannot register 't2\.nii\.gz' \[3, 3, 3\], affine \[\[1, 0, 0, 500\].*onto 't1\.nii\.gz' \[3, 3, 3\], affine \[\[1, 0, 0, 0\].*do not overlap/,
    );
    const npy = arrayVolume(new Float32Array(8), [2, 2, 2], { source: 'a.npy' });
    expect(() => resampleToGrid(npy, x)).toThrow(/cannot register 'a\.npy' \[2, 2, 2\].*the first has no geometry/);
  });
});

describe('sameGrid and stackSequences', () => {
  const a: Affine = [[0, 0, -0.7, 40], [0, -0.7, 0, 30], [3, 0, 0, -20], [0, 0, 0, 1]];

  it('stacks volumes of one grid as channels without resampling, within the tolerance', () => {
    const pre = linearField([2, 3, 4], a, 'pre.nii.gz');
    const nudged = a.map((r, i) => r.map((x, j) => (i === 0 && j === 3 ? x + GRID_TOLERANCE_MM / 2 : x)));
    const post = volume(Float32Array.from(pre.data, (v) => v * 2), [2, 3, 4], nudged, 'post.nii.gz');
    expect(sameGrid(pre, post)).toBe(true);
    const both = stackSequences([pre, post], { names: ['pre', 'post'], registration: 'same-grid' });
    expect(both.channels).toBe(2);
    expect(both.shape).toEqual([2, 3, 4]);
    expect(Array.from(both.data.subarray(0, 24))).toEqual(Array.from(pre.data));
    expect(Array.from(both.data.subarray(24))).toEqual(Array.from(post.data));
    expect(both.source).toBe('pre=pre.nii.gz + post=post.nii.gz');
    expect(both.meta.sequences).toEqual([
      { name: 'pre', source: 'pre.nii.gz', resampled: false },
      { name: 'post', source: 'post.nii.gz', resampled: false },
    ]);
  });

  it("resamples onto the first sequence's grid, or names both shapes and affines with 'same-grid'", () => {
    const t1 = linearField([4, 10, 12], a, 't1.nii.gz');
    const t2Affine: Affine = a.map((r) => [r[0], r[1] * 2, r[2] * 2, r[3]]);
    const t2 = linearField([4, 5, 6], t2Affine, 't2.nii.gz');
    expect(sameGrid(t1, t2)).toBe(false);
    expect(() => stackSequences([t1, t2], { names: ['t1', 't2'], registration: 'same-grid' })).toThrow(
      /sequences 't1' and 't2' are not on one grid: 't1\.nii\.gz' \[4, 10, 12\], affine \[\[0, 0, -0\.7, 40\].* and 't2\.nii\.gz' \[4, 5, 6\], affine \[\[0, 0, -1\.4, 40\]/,
    );
    const both = stackSequences([t1, t2], { names: ['t1', 't2'] });
    expect(both.channels).toBe(2);
    expect(both.affine).toEqual(t1.affine);
    // Inside t2's extent the resampled channel equals the field (which t1's channel holds).
    const n = 4 * 10 * 12;
    const [, H, W] = t1.shape;
    for (const [d, h, w] of [[0, 0, 0], [3, 8, 10], [2, 5, 7]]) expect(both.data[n + (d * H + h) * W + w]).toBeCloseTo(t1.data[(d * H + h) * W + w], 4);
    expect((both.meta.sequences as { resampled: boolean }[]).map((s) => s.resampled)).toEqual([false, true]);
  });
});
