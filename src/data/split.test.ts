import { groupedStratifiedSplit, paperSplit, stratifiedSplit } from './split';

describe('stratifiedSplit', () => {
  const labels = [...Array(50).fill(0), ...Array(10).fill(1)];

  it('holds out 20% of each class, disjoint and complete', () => {
    const { train, test } = stratifiedSplit(labels, { testFraction: 0.2, seed: 3 });
    expect(test.filter((i) => labels[i] === 0)).toHaveLength(10);
    expect(test.filter((i) => labels[i] === 1)).toHaveLength(2);
    expect(train).toHaveLength(48);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });

  it('is reproducible per seed and differs across seeds', () => {
    expect(stratifiedSplit(labels, { seed: 1 })).toEqual(stratifiedSplit(labels, { seed: 1 }));
    expect(stratifiedSplit(labels, { seed: 1 }).test).not.toEqual(stratifiedSplit(labels, { seed: 2 }).test);
  });

  it('rejects a bad fraction', () => {
    expect(() => stratifiedSplit(labels, { seed: 0, testFraction: 1.5 })).toThrow('testFraction must be in [0, 1], got 1.5');
  });
});

describe('paperSplit', () => {
  it('gives 64/16/20 per class', () => {
    const labels = [...Array(100).fill(0), ...Array(50).fill(1)];
    const { train, val, test } = paperSplit(labels, { seed: 0 });
    const count = (idx: number[], c: number): number => idx.filter((i) => labels[i] === c).length;
    expect([count(train, 0), count(val, 0), count(test, 0)]).toEqual([64, 16, 20]);
    expect([count(train, 1), count(val, 1), count(test, 1)]).toEqual([32, 8, 10]);
    expect(new Set([...train, ...val, ...test]).size).toBe(150);
  });
});

describe('groupedStratifiedSplit', () => {
  it('keeps groups together and approaches 20% per class', () => {
    // 40 patients with two cases each (left, right); one side positive for 10 patients.
    const labels: number[] = [];
    const groups: string[] = [];
    for (let p = 0; p < 40; p++) {
      labels.push(p < 10 ? 1 : 0, 0);
      groups.push(`p${p}`, `p${p}`);
    }
    const { train, test } = groupedStratifiedSplit(labels, groups, { seed: 0 });
    const testGroups = new Set(test.map((i) => groups[i]));
    expect(train.every((i) => !testGroups.has(groups[i]))).toBe(true);
    expect(test.filter((i) => labels[i] === 1)).toHaveLength(2);
    // Groups are indivisible, so the negative count lands near (not on) its target of 14.
    expect(Math.abs(test.filter((i) => labels[i] === 0).length - 14)).toBeLessThanOrEqual(2);
    expect(train.length + test.length).toBe(80);
    expect(() => groupedStratifiedSplit([0, 1], ['a'], { seed: 0 })).toThrow('expected 2 groups (one per label), got 1');
  });
});
