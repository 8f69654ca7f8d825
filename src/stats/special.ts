/**
 * Special functions behind the Student t distribution: log-gamma, log-beta and the regularized
 * incomplete beta function, accurate to ~1e-14 relative over the ranges statistics uses.
 */

const HALF_LOG_2PI = 0.9189385332046728;
/** Stirling's series is used from here on; below, the argument is shifted up by recurrence. */
const STIRLING_MIN = 15;

/**
 * The correction term of Stirling's series, lgamma(x) - [(x - 1/2) log x - x + log(2π)/2], for
 * x >= 15 (terms B_2k / (2k (2k-1) x^(2k-1)); the first omitted term is below 1e-19).
 */
function stirlingCorrection(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  return (
    r *
    (1 / 12 +
      r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156)))))))
  );
}

/**
 * log Γ(x) for x > 0 (NaN otherwise).
 *
 * @example
 * logGamma(0.5); // returns 0.5723649429247004 (log √π = 0.5723649429247001)
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return NaN;
  if (x === Infinity) return Infinity;
  let shift = 0;
  let y = x;
  if (y < STIRLING_MIN) {
    // Γ(x) = Γ(x + k) / (x (x+1) ... (x+k-1))
    let prod = 1;
    while (y < STIRLING_MIN) {
      prod *= y;
      y += 1;
    }
    shift = Math.log(prod);
  }
  return (y - 0.5) * Math.log(y) - y + HALF_LOG_2PI + stirlingCorrection(y) - shift;
}

/**
 * log Γ(a) - log Γ(a + b) for a >= 15, b >= 0, without the cancellation of subtracting two large
 * log-gammas (both are ~a log a; their difference is ~-b log a).
 */
function logGammaRatio(a: number, b: number): number {
  return -(a - 0.5) * Math.log1p(b / a) - b * Math.log(a + b) + b + stirlingCorrection(a) - stirlingCorrection(a + b);
}

/**
 * log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b) for a, b > 0.
 *
 * @example
 * logBeta(0.5, 0.5); // returns 1.1447298858493973 (log π = 1.1447298858494002)
 */
export function logBeta(a: number, b: number): number {
  if (!(a > 0 && b > 0)) return NaN;
  const big = Math.max(a, b);
  const small = Math.min(a, b);
  if (big >= STIRLING_MIN) return logGamma(small) + logGammaRatio(big, small);
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/**
 * The continued fraction of I_x(a, b) (modified Lentz), good where x < (a + 1) / (a + b + 2):
 * I_x(a, b) = x^a y^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...))).
 */
function betaContinuedFraction(x: number, y: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  // 1 - (a + b) x / (a + 1), written with y = 1 - x: it is ~1e-4 for x near 1 and large a.
  let d = (1 - b + (a + b) * y) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m < 100000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + even * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + even / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + odd / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}

/**
 * The regularized incomplete beta function I_x(a, b) = P(X <= x) for X ~ Beta(a, b). Pass
 * `y = 1 - x` when it is known more precisely than `1 - x` (it keeps small upper tails exact).
 *
 * @example
 * betaIncReg(0.5, 2, 3); // returns 0.6875000000000007
 */
export function betaIncReg(x: number, a: number, b: number, y: number = 1 - x): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - betaIncReg(y, b, a, x);
  // Logs from whichever of x, y is known to full relative precision (a log x is large for large a).
  const logX = x < 0.5 ? Math.log(x) : Math.log1p(-y);
  const logY = y < 0.5 ? Math.log(y) : Math.log1p(-x);
  const logFront = a * logX + b * logY - logBeta(a, b) - Math.log(a);
  return Math.exp(logFront) * betaContinuedFraction(x, y, a, b);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) for a > 0, x >= 0:
 * the series of P(a, x) below x = a + 1, Lentz's continued fraction for Q above (so small upper
 * tails keep their relative precision).
 *
 * @example
 * gammaIncUpperReg(1, 2); // returns 0.1353352832366127 (e^-2)
 */
export function gammaIncUpperReg(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // P(a, x) = x^a e^-x / Γ(a + 1) Σ x^k / ((a + 1) ... (a + k))
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < 10000; k++) {
      term *= x / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - Math.exp(logFront) * sum;
  }
  // Q(a, x) = x^a e^-x / Γ(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let f = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logFront) * f;
}
