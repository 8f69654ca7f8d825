/** Small descriptive statistics over plain arrays, with R's / numpy's conventions. */

/**
 * Arithmetic mean; NaN for an empty input.
 *
 * @example
 * mean([1, 2, 4]); // returns 2.3333333333333335
 */
export function mean(x: ArrayLike<number>): number {
  if (x.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/**
 * Sample standard deviation with `ddof` (default 1, R's `sd` and numpy's `std(ddof=1)`); NaN when
 * fewer than ddof + 1 values.
 *
 * @example
 * standardDeviation([1, 2, 4]); // returns 1.5275252316519465
 */
export function standardDeviation(x: ArrayLike<number>, ddof = 1): number {
  if (x.length <= ddof) return NaN;
  const mu = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mu) * (x[i] - mu);
  return Math.sqrt(s / (x.length - ddof));
}

/**
 * Quantile with linear interpolation between order statistics (R's `quantile(type = 7)`, numpy's
 * default): h = (N - 1) p. `sorted` must be ascending; NaN when empty.
 *
 * @example
 * quantileSorted([1, 2, 3, 4], 0.25); // returns 1.75
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(p >= 0 && p <= 1)) throw new Error(`quantileSorted: p must be in [0, 1], got ${p}`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
