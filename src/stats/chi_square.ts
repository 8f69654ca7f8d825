import { gammaIncUpperReg } from './special';

/**
 * Upper tail P(X > x) of the chi-square distribution with `df` > 0 degrees of freedom, as R's
 * `pchisq(x, df, lower.tail = FALSE)`: Q(df / 2, x / 2), accurate far into the tail.
 *
 * @example
 * chiSquareSf(3.841458820694124, 1); // returns 0.05 (to ~1e-15)
 */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  return gammaIncUpperReg(df / 2, x / 2);
}
