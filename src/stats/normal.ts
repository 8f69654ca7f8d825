/**
 * The standard normal distribution: density, upper tail, CDF, two-sided p and quantile, accurate to
 * about 2e-15 relative everywhere, far into the tail (the upper tail of z = 37 is 5.7e-300 and is
 * returned as such, not as 0). Nothing here underflows while the true value is a representable
 * double (R's pnorm(-38) is 0; normalSf(38) is 2.885e-316).
 */

const LOG_SQRT_2PI = 0.9189385332046728; // log(sqrt(2 * pi))
const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 * pi)
/** Below this z the series is used (cancellation at most 3x), above it the continued fraction (< 400 terms). */
const SERIES_LIMIT = 1;
/** Above this z the tail is assembled in log space because exp(-z^2/2) alone leaves the normal range. */
const LOG_SPACE_LIMIT = 37;

/**
 * Splits z^2/2 into an exactly representable part and a small remainder, so that exp(-z^2/2) keeps
 * full relative precision for large z (z*z rounded would put an absolute error of ~z^2 * 1e-16 into
 * the exponent). Returns [coarse, fine] with z^2/2 = coarse + fine.
 */
function halfSquare(z: number): [number, number] {
  const zr = Math.trunc(z * 16) / 16; // at most ~10 significant bits: zr * zr is exact
  return [(zr * zr) / 2, ((z - zr) * (z + zr)) / 2];
}

/**
 * The standard normal density φ(z).
 *
 * @example
 * normalPdf(0); // returns 0.3989422804014327
 */
export function normalPdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const a = Math.abs(z);
  if (a === Infinity) return 0;
  const [coarse, fine] = halfSquare(a);
  if (a > LOG_SPACE_LIMIT) return Math.exp(-coarse - fine - LOG_SQRT_2PI);
  return Math.exp(-coarse) * Math.exp(-fine) * INV_SQRT_2PI;
}

/** S(z) = z + z^3/3 + z^5/15 + ... so that Φ(z) = 1/2 + φ(z) S(z); all terms positive for z > 0. */
function oddSeries(z: number): number {
  const z2 = z * z;
  let term = z;
  let sum = z;
  for (let k = 1; k < 500; k++) {
    term *= z2 / (2 * k + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * The Mills ratio Q(z)/φ(z) for z >= SERIES_LIMIT by Laplace's continued fraction
 * 1 / (z + 1/(z + 2/(z + 3/(z + ...)))), evaluated with the modified Lentz method.
 */
function millsRatio(z: number): number {
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    d = z + k * d;
    if (d === 0) d = tiny;
    c = z + k / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / f;
}

/**
 * Natural log of the upper tail, log Q(z) = log P(Z > z): finite for every finite z (log Q(100) is
 * about -5005.5), so callers can carry p-values below the smallest double.
 *
 * @example
 * normalLogSf(50); // returns -1254.83136113942 (Q itself underflows)
 */
export function normalLogSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return -Infinity;
  if (z < SERIES_LIMIT) return Math.log(normalSf(z));
  const [coarse, fine] = halfSquare(z);
  return -coarse - fine - LOG_SQRT_2PI + Math.log(millsRatio(z));
}

/**
 * The upper tail Q(z) = P(Z > z) = 1 - Φ(z), with full relative precision for large z.
 *
 * @example
 * normalSf(1.959963984540054); // returns 0.025000000000000043 (R: 0.025000000000000012)
 * normalSf(30); // returns 4.90671392714819e-198
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return 1;
  if (z < 0) return 1 - normalSf(-z);
  if (z < SERIES_LIMIT) return 0.5 - normalPdf(z) * oddSeries(z);
  if (z > LOG_SPACE_LIMIT) return Math.exp(normalLogSf(z));
  return normalPdf(z) * millsRatio(z);
}

/**
 * The standard normal CDF Φ(z) = P(Z <= z), with full relative precision for very negative z.
 *
 * @example
 * normalCdf(-1.959963984540054); // returns 0.025000000000000043
 */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

/**
 * Two-sided p-value of a standard normal statistic, 2 Q(|z|), as R's `2 * pnorm(-abs(z))`. NaN
 * stays NaN; z = ±Infinity gives 0.
 *
 * @example
 * normalTwoSidedP(1.959963984540054); // returns 0.050000000000000086
 * normalTwoSidedP(12); // returns 3.5529642241553574e-33
 */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return 2 * normalSf(Math.abs(z));
}

// Wichura (1988), Algorithm AS 241 (PPND16): rational approximations of the normal quantile,
// accurate to about 1e-16, in three regions (|p - 1/2| <= 0.425; r = sqrt(-log min(p, 1 - p)) <= 5;
// beyond). R's qnorm uses the same algorithm, so the values agree to the last bits.
const AS241_A = [3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727];
const AS241_B = [1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852854561];
const AS241_C = [1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4];
const AS241_D = [1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9];
const AS241_E = [6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7];
const AS241_F = [1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15];

/** Σ c_k x^k by Horner's rule, highest coefficient first as AS 241 writes it. */
function horner(c: readonly number[], x: number): number {
  let v = c[7];
  for (let k = 6; k >= 0; k--) v = v * x + c[k];
  return v;
}

/**
 * The standard normal quantile Φ⁻¹(p), to about 1e-16 relative: Wichura's AS 241 (as R's
 * `qnorm`), and Newton in log space for p below 1e-290. p = 0 gives -Infinity, p = 1 gives
 * Infinity; p outside [0, 1] or NaN gives NaN.
 *
 * @example
 * normalQuantile(0.975); // returns 1.959963984540054 (R: 1.959963984540054)
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  const tail = q < 0 ? p : 1 - p;
  let z: number;
  if (tail < 1e-290) z = logSpaceQuantile(tail);
  else {
    const r = Math.sqrt(-Math.log(tail));
    z = r <= 5 ? horner(AS241_C, r - 1.6) / horner(AS241_D, r - 1.6) : horner(AS241_E, r - 5) / horner(AS241_F, r - 5);
  }
  return q < 0 ? -z : z;
}

/** The z > 0 with Q(z) = q for q < 1e-290, by Newton on log Q (its slope -φ/Q never underflows). */
function logSpaceQuantile(q: number): number {
  const t = Math.sqrt(-2 * Math.log(q));
  let z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
  const logQ = Math.log(q);
  for (let i = 0; i < 50; i++) {
    const step = (normalLogSf(z) - logQ) * millsRatio(z);
    z += step;
    if (Math.abs(step) <= 1e-16 * z) break;
  }
  return z;
}
