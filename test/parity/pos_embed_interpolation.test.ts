import * as tf from '@tensorflow/tfjs';
import { loadSafetensors } from '../../src/io/safetensors';
import { interpolatePosEmbed, PosEmbedCache } from '../../src/layers/pos_embed_interpolation';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { stateDictFromSpecFile } from '../fixture_weights';
import { fixturePath, maxAbsDiff } from '../helpers';

/**
 * DINOv2's interpolate_pos_encoding against PyTorch 1.13's F.interpolate (bicubic, A = -0.75,
 * align_corners False; scale_factor path with offset 0.1 and the size path; with and without
 * antialias), from the 37x37 grid of the hub weights to square and non-square grids, up and down.
 * Fixture: tools/reference/dinov2_ref.py.
 */
const MODES: [number, boolean][] = [
  [0.1, false],
  [0, true],
  [0, false],
  [0.1, true],
];
const GRIDS: [number, number][] = [
  [16, 16],
  [16, 12],
  [12, 16],
  [40, 20],
  [1, 1],
  [5, 52],
];

describe('positional-embedding interpolation vs PyTorch', () => {
  let expected: StateDict;
  let pos: tf.Tensor;
  beforeAll(async () => {
    expected = await loadSafetensors(fixturePath('dinov2', 'bicubic.safetensors'));
    pos = stateDictFromSpecFile('dinov2', 'bicubic.json').pos_embed;
  });
  afterAll(() => {
    disposeStateDict(expected);
    pos.dispose();
  });

  const cases = MODES.flatMap(([offset, aa]) => GRIDS.map(([gh, gw]) => [offset, aa, gh, gw] as const));
  it.each(cases)('offset %p antialias %p to %ix%i is within 1e-5', (offset, antialias, gh, gw) => {
    const key = `offset${offset === 0 ? '0.0' : offset}_aa${antialias ? 1 : 0}_${gh}x${gw}`;
    const got = interpolatePosEmbed(pos, gh, gw, { offset, antialias });
    expect(got.shape).toEqual([1, 1 + gh * gw, 4]);
    expect(maxAbsDiff(got, expected[key])).toBeLessThan(1e-5);
    got.dispose();
  });

  it('gives the same numbers through the cache', () => {
    const v = tf.variable(pos);
    const cache = new PosEmbedCache({ offset: 0.1, antialias: false });
    const got = cache.get(v, 16, 12);
    expect(maxAbsDiff(got, expected['offset0.1_aa0_16x12'])).toBeLessThan(1e-5);
    got.dispose();
    cache.dispose();
    v.dispose();
  });
});
