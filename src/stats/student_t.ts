import { betaIncReg } from './special';
import { normalSf } from './normal';

/**
 * Two-sided p-value 2 P(T >= |t|) of Student's t with `df` > 0 degrees of freedom (not necessarily
 * an integer), as R's `2 * pt(-abs(t), df)`: 2 P(T >= |t|) = I_x(df/2, 1/2) with x = df/(df + t^2).
 * Relative error about 1e-14 for df up to 1e3, growing to ~3e-12 at df = 1e5 to 1e6 (the
 * continued fraction is ill-conditioned when x is near 1); df = Infinity gives the normal p.
 *
 * @example
 * studentTwoSidedP(2, 10); // returns 0.07338803477074 (R: 0.073388034770740393)
 */
export function studentTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  const a = Math.abs(t);
  if (df === Infinity) return 2 * normalSf(a);
  if (a === Infinity) return 0;
  // Both x and 1 - x formed without cancellation.
  const t2 = a * a;
  const x = t2 === Infinity ? 0 : df / (df + t2);
  const y = t2 === Infinity ? 1 : t2 / (df + t2);
  return betaIncReg(x, df / 2, 0.5, y);
}

/**
 * Lower tail P(T <= t) of Student's t with `df` > 0 degrees of freedom, as R's `pt(t, df)`.
 *
 * @example
 * studentTCdf(-2, 10); // returns 0.03669401738537 (R: 0.036694017385370197)
 */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  const tail = studentTwoSidedP(t, df) / 2; // P(T <= -|t|)
  return t <= 0 ? tail : 1 - tail;
}
