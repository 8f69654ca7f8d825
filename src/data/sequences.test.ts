import { affineSpacing, axisCodes, permuteFlip, type Affine, type Volume, type VolumeShape } from '../io/volume';
import { Rng } from '../utils/rng';
import { collate } from './dataset';
import { checkPreprocessing, prepareVolume, toInputGrid } from './preprocessing';
import { channelsLast, joinChannels, splitChannels, type VolumeSample } from './sample';
import { combineSequences, combineSequenceSamples, formatChannelSources, parseChannelSources } from './sequences';
import { ClampRescale, ZNormalize } from './transforms/intensity';
import { CropOrPad, RandomFlip, RandomRotation, Resample, ResizeTo } from './transforms/spatial';
import { Compose, type Transform } from './transform';

function randomSample(id: string, shape: [number, number, number], seed: number, scale = 1): VolumeSample {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => scale * rng.normal());
  const mask = Uint8Array.from(data, (v) => (v > 1 ? 1 : 0));
  return { id, data, shape, spacing: [2, 0.8, 0.9], label: 1, mask };
}

function volume(data: Float32Array, shape: VolumeShape, affine: Affine, source: string): Volume {
  return { data, shape, affine, spacing: affineSpacing(affine), orientation: axisCodes(affine), dtype: 'float32', source, meta: {} };
}

describe('multi-channel samples through the transforms', () => {
  const pre = randomSample('case', [6, 10, 12], 1);
  const post = randomSample('case', [6, 10, 12], 2, 30);
  const both = joinChannels([pre, post]);

  const cases: [string, Transform][] = [
    ['Resample', new Resample([3, 0.5, null])],
    ['ResizeTo', new ResizeTo([8, 16, 9])],
    ['CropOrPad (random window)', new CropOrPad([4, 7, 14], { centre: 'random' })],
    ['RandomFlip', new RandomFlip([0.5, 0.5, 0.5])],
    ['RandomRotation', new RandomRotation(0, 90)],
    ['ZNormalize (statistics per channel)', new ZNormalize({ percentiles: [1, 99] })],
    ['ClampRescale', new ClampRescale(-1, 1)],
    ['flip + rotation + random crop', new Compose([new RandomFlip([0.5, 0.5, 0.5]), new RandomRotation(0, 90), new CropOrPad([5, 8, 8], { centre: 'random' })])],
  ];

  it.each(cases)('%s gives every channel what it gives that channel alone, with one draw for all', (_name, t) => {
    for (const seed of [3, 4, 5]) {
      const out = t.apply(both, new Rng(seed));
      expect(out.channels).toBe(2);
      const [c0, c1] = splitChannels(out);
      const alone0 = t.apply(pre, new Rng(seed));
      const alone1 = t.apply(post, new Rng(seed));
      expect(c0.shape).toEqual(alone0.shape);
      expect(Array.from(c0.data)).toEqual(Array.from(alone0.data));
      expect(Array.from(c1.data)).toEqual(Array.from(alone1.data));
      expect(Array.from(out.mask as Uint8Array)).toEqual(Array.from(alone0.mask as Uint8Array));
    }
  });

  it('collates channels last, [B, D, H, W, C], and refuses mixed channel counts', () => {
    const a = joinChannels([
      { id: 'a', data: Float32Array.from([1, 2, 3, 4]), shape: [1, 2, 2], spacing: [1, 1, 1], label: 0 },
      { id: 'a', data: Float32Array.from([10, 20, 30, 40]), shape: [1, 2, 2], spacing: [1, 1, 1], label: 0 },
    ]);
    const batch = collate([a, { ...a, id: 'b', label: 1 }]);
    expect(batch.shape).toEqual([2, 1, 2, 2, 2]);
    expect(Array.from(batch.x.subarray(0, 8))).toEqual([1, 10, 2, 20, 3, 30, 4, 40]);
    expect(Array.from(channelsLast(Float32Array.from([1, 2, 3, 4, 5, 6]), 3))).toEqual([1, 3, 5, 2, 4, 6]);
    const gray = { id: 'g', data: new Float32Array(4), shape: [1, 2, 2] as [number, number, number], spacing: [1, 1, 1] as [number, number, number], label: 0 };
    expect(() => collate([a, gray])).toThrow(/collate: sample 'g' has 1 channels, 'a' 2/);
    expect(() => collate([{ ...a, data: new Float32Array(4) }])).toThrow(/data has 4 values, shape \[1, 2, 2\] with 2 channels needs 8/);
  });
});

describe('channel sources', () => {
  it('reads and writes subtractions and sequences, and names what is wrong', () => {
    expect(parseChannelSources('post-pre', ['pre', 'post'])).toEqual([{ subtract: ['post', 'pre'] }]);
    expect(parseChannelSources(' post - pre , t2 ', ['pre', 'post', 't2'])).toEqual([{ subtract: ['post', 'pre'] }, { sequence: 't2' }]);
    expect(parseChannelSources(undefined, ['t1', 't2'])).toEqual([{ sequence: 't1' }, { sequence: 't2' }]);
    expect(formatChannelSources([{ subtract: ['post', 'pre'] }, { sequence: 'post' }])).toBe('post-pre,post');
    expect(() => parseChannelSources('post-t1', ['pre', 'post'])).toThrow(/channels\.channels\[0\]\.subtract\[1\]: "t1" is not one of the sequences pre, post/);
    expect(() => parseChannelSources('post*2', ['pre', 'post'])).toThrow(/channel 'post\*2': expected a sequence name or a subtraction 'a-b'/);
    expect(() => parseChannelSources('pre-pre', ['pre', 'post'])).toThrow(/a sequence minus itself is zero/);
  });

  it("checkPreprocessing checks a spec's inputs against its channel count", () => {
    const inputs = { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }] };
    expect(() => checkPreprocessing({ orientation: 'canonical', steps: [], channels: 1, inputs })).not.toThrow();
    expect(() => checkPreprocessing({ orientation: 'canonical', steps: [], channels: 2, inputs })).toThrow(/preprocessing\.channels: 2, but preprocessing\.inputs makes 1 channel\(s\) of pre, post/);
    expect(() => checkPreprocessing({ orientation: 'canonical', steps: [], channels: 1, inputs: { ...inputs, registration: 'nearest' } })).toThrow(/preprocessing\.inputs\.registration/);
    expect(() => checkPreprocessing({ orientation: 'canonical', steps: [], channels: 1, inputs: { names: ['pre', 'pre'], channels: [{ sequence: 'pre' }] } })).toThrow(/preprocessing\.inputs\.names\[1\]: 'pre' is named twice/);
  });
});

describe('combineSequences and prepareVolume', () => {
  const a: Affine = [[0, 0, -0.7, 40], [0, -0.7, 0, 30], [3, 0, 0, -20], [0, 0, 0, 1]];
  const pre = volume(Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), [2, 3, 4], a, 'pre.nii.gz');
  const post = volume(Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => 100 + 2 * i), [2, 3, 4], a, 'post.nii.gz');

  it('makes the subtraction post - pre, or both sequences as channels, by name or in order', () => {
    const sub = combineSequences({ post, pre }, { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }] });
    expect(sub.channels).toBeUndefined();
    expect(Array.from(sub.data)).toEqual(Array.from({ length: 24 }, (_, i) => 100 + i));
    expect(sub.meta.channelSources).toBe('post-pre');
    const two = combineSequences([pre, post], { names: ['pre', 'post'], channels: [{ sequence: 'pre' }, { sequence: 'post' }] });
    expect(two.channels).toBe(2);
    expect(two.data[24]).toBe(100);
    expect(() => combineSequences({ pre }, { names: ['pre', 'post'], channels: [{ sequence: 'pre' }] })).toThrow(/expected the sequences pre, post; missing post/);
    expect(() => combineSequences([pre], { names: ['pre', 'post'], channels: [{ sequence: 'pre' }] })).toThrow(/expected 2 scans \(pre, post\), got 1/);
    const moved = volume(post.data, [2, 3, 4], a.map((r, i) => r.map((x, j) => (i === 1 && j === 3 ? x + 5 : x))), 'moved.nii.gz');
    expect(() => combineSequences([pre, moved], { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }], registration: 'same-grid' })).toThrow(
      /sequences 'pre' and 'post' are not on one grid: 'pre\.nii\.gz' \[2, 3, 4\], affine .* and 'moved\.nii\.gz' \[2, 3, 4\], affine/,
    );
  });

  it('orients every channel alike and maps a saliency back onto the first sequence, and counts channels', () => {
    const raw = permuteFlip(combineSequences([pre, post], { names: ['pre', 'post'], channels: [{ sequence: 'pre' }, { sequence: 'post' }] }), [2, 0, 1], [false, true, false]);
    const spec = { orientation: 'canonical' as const, steps: [{ op: 'z-normalize' as const }], channels: 2, inputs: { names: ['pre', 'post'], channels: [{ sequence: 'pre' }, { sequence: 'post' }] } };
    const prepared = prepareVolume(raw, spec);
    expect(prepared.sample.channels).toBe(2);
    // The stored slice axis (the permuted W, left-right) stays the slice axis: a sagittal layout.
    expect(prepared.sample.shape).toEqual([4, 2, 3]);
    const [c0, c1] = splitChannels(prepared.sample);
    const alone = prepareVolume(permuteFlip(pre, [2, 0, 1], [false, true, false]), { ...spec, channels: 1, inputs: undefined });
    expect(Array.from(c0.data)).toEqual(Array.from(alone.sample.data));
    // pre and post are linear in the voxel index, so their z-scores agree voxel for voxel.
    c0.data.forEach((v, i) => expect(v).toBeCloseTo(c1.data[i], 5));
    const map = Float32Array.from({ length: 24 }, (_, i) => i);
    expect(toInputGrid(map, prepared).length).toBe(24);
    const single = { ...spec, channels: 1, inputs: { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] as [string, string] }] } };
    expect(() => prepareVolume(raw, single)).toThrow(/has 2 channel\(s\); the model takes 1 made of the sequences pre, post \(combineSequences\)/);
    expect(() => prepareVolume(pre, spec)).toThrow(/pre\.nii\.gz has 1 channel\(s\); the model takes 2/);
  });

  it('combineSequenceSamples keeps the first sample and refuses shapes that differ', () => {
    const s1: VolumeSample = { id: 'c', data: Float32Array.from([1, 2]), shape: [1, 1, 2], spacing: [1, 1, 1], label: 1 };
    const s2: VolumeSample = { ...s1, data: Float32Array.from([5, 7]) };
    const out = combineSequenceSamples({ pre: s1, post: s2 }, [{ subtract: ['post', 'pre'] }, { sequence: 'post' }]);
    expect(out.channels).toBe(2);
    expect(Array.from(out.data)).toEqual([4, 5, 5, 7]);
    expect(out.label).toBe(1);
    expect(() => combineSequenceSamples({ pre: s1, post: { ...s2, shape: [1, 2, 1] } }, [{ sequence: 'pre' }])).toThrow(/'post' of 'c' has shape \[1, 2, 1\], 'pre' \[1, 1, 2\]/);
  });
});
