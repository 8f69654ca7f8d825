import { chiSquareSf } from './chi_square';
import { gammaIncUpperReg } from './special';

describe('chiSquareSf', () => {
  // R 4.2.2: pchisq(x, df, lower.tail = FALSE)
  const cases: [number, number, number][] = [
    [3.84145882069412, 1, 0.049999999999999975],
    [0.5, 3, 0.91889141165467592],
    [10, 2, 0.006737946999085467],
    [100, 5, 5.28514836094324e-20],
    [0.001, 4, 0.99999987504165888],
    [30, 20, 0.069853660699409778],
    [700, 3, 2.0991308534204087e-151],
    [2, 0.5, 0.067921132010109492],
  ];
  test.each(cases)('pchisq(%p, %p, lower.tail = FALSE) to 1e-12 relative', (x, df, want) => {
    const got = chiSquareSf(x, df);
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
  });

  test('edges: x <= 0 is 1, Infinity is 0, a bad df is NaN', () => {
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(chiSquareSf(-1, 3)).toBe(1);
    expect(chiSquareSf(Infinity, 3)).toBe(0);
    expect(chiSquareSf(1, 0)).toBeNaN();
    expect(chiSquareSf(NaN, 1)).toBeNaN();
    expect(gammaIncUpperReg(1, 2)).toBeCloseTo(Math.exp(-2), 15);
  });
});
