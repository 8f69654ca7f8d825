import { Rng } from '../utils/rng';
import { collate, subset, withTransform, type VolumeDataset } from './dataset';
import type { VolumeSample } from './sample';
import type { Transform } from './transform';

function tiny(n: number): VolumeDataset {
  const make = (i: number): VolumeSample => ({
    id: `c${i}`,
    data: Float32Array.from({ length: 8 }, (_, k) => i * 10 + k),
    shape: [2, 2, 2],
    spacing: [1, 1, 1],
    label: i % 2,
  });
  return {
    length: n,
    labels: Array.from({ length: n }, (_, i) => i % 2),
    ids: Array.from({ length: n }, (_, i) => `c${i}`),
    get: async (i) => make(i),
  };
}

const addNoiseDraw: Transform = {
  name: 'addDraw',
  apply: (s, rng) => ({ ...s, data: s.data.map((v) => v + rng.int(100)) }),
};

describe('subset', () => {
  it('views cases by index', async () => {
    const s = subset(tiny(5), [4, 1]);
    expect(s.length).toBe(2);
    expect(s.labels).toEqual([0, 1]);
    expect(s.ids).toEqual(['c4', 'c1']);
    expect((await s.get(1)).id).toBe('c1');
    expect(() => subset(tiny(5), [5])).toThrow('subset: index must be an integer in [0, 5), got 5');
  });
});

describe('withTransform', () => {
  it('is reproducible without a generator and follows a given one', async () => {
    const ds = withTransform(tiny(3), addNoiseDraw, 11);
    expect(Array.from((await ds.get(2)).data)).toEqual(Array.from((await ds.get(2)).data));
    const a = await ds.get(2, new Rng(1));
    const b = await ds.get(2, new Rng(1));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('collate', () => {
  it('stacks channels-last', async () => {
    const ds = tiny(3);
    const batch = collate([await ds.get(0), await ds.get(2)]);
    expect(batch.shape).toEqual([2, 2, 2, 2, 1]);
    expect(Array.from(batch.x.slice(6, 10))).toEqual([6, 7, 20, 21]);
    expect(Array.from(batch.labels)).toEqual([0, 0]);
    expect(batch.ids).toEqual(['c0', 'c2']);
  });

  it('names the sample whose shape differs', async () => {
    const a = await tiny(1).get(0);
    const b = { ...a, id: 'odd', shape: [1, 2, 4] as [number, number, number] };
    expect(() => collate([a, b])).toThrow("collate: sample 'odd' has shape [1, 2, 4], expected [2, 2, 2]");
    expect(() => collate([])).toThrow('at least one sample');
  });
});
