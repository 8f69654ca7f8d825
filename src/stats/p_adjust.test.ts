import { pAdjust } from './p_adjust';

describe('pAdjust', () => {
  const p = [0.01, 0.04, 0.03, NaN, 0.2, 0.04, 1e-10, 0.5];
  // R 4.2.2: sprintf("%.17g", p.adjust(p, method)) with NA for the NaN.
  const want: Record<'holm' | 'BH' | 'bonferroni', number[]> = {
    holm: [0.059999999999999998, 0.16, 0.14999999999999999, NaN, 0.40000000000000002, 0.16, 7.0000000000000006e-10, 0.5],
    BH: [0.035000000000000003, 0.055999999999999994, 0.055999999999999994, NaN, 0.23333333333333336, 0.055999999999999994, 7.0000000000000006e-10, 0.5],
    bonferroni: [0.070000000000000007, 0.28000000000000003, 0.20999999999999999, NaN, 1, 0.28000000000000003, 7.0000000000000006e-10, 1],
  };
  test.each(['holm', 'BH', 'bonferroni'] as const)('%s equals R p.adjust bit for bit (ties and an NA included)', (method) => {
    expect(pAdjust(p, method)).toEqual(want[method]);
  });

  test('bad input says what is wrong', () => {
    expect(() => pAdjust([0.5, 1.5], 'holm')).toThrow('p-values must be in [0, 1], got 1.5');
    expect(() => pAdjust([0.5], 'fdr' as never)).toThrow("method must be 'holm', 'BH' or 'bonferroni'");
    expect(pAdjust([], 'BH')).toEqual([]);
  });
});
