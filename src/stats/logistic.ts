/**
 * Maximum-likelihood logistic regression with one predictor, by Newton-Raphson: the logistic
 * recalibration behind the calibration slope and intercept (R's `glm(y ~ x, binomial)` and
 * `glm(y ~ offset(x), binomial)`).
 */

const { abs, exp, log1p, max } = Math;

/** A fitted logistic model logit P(y = 1) = intercept + slope x. */
export interface LogisticFit {
  intercept: number;
  slope: number;
  /** Newton iterations used; NaN coefficients when the fit did not converge (e.g. separation). */
  iterations: number;
}

const MAX_ITERATIONS = 100;

interface Pass {
  ll: number;
  ga: number;
  gb: number;
  haa: number;
  hab: number;
  hbb: number;
}

/**
 * Log-likelihood, gradient and Hessian at (a, b) in one pass, with one exp and one log1p per case:
 * e = e^-|η| gives log(1 + e^η) = max(η, 0) + log1p(e) and P(y = 1) = 1 / (1 + e) or e / (1 + e).
 */
function pass(y: Uint8Array, x: Float64Array, a: number, b: number, out: Pass): void {
  let ll = 0;
  let ga = 0;
  let gb = 0;
  let haa = 0;
  let hab = 0;
  let hbb = 0;
  for (let i = 0; i < y.length; i++) {
    const xi = x[i];
    const eta = a + b * xi;
    const e = exp(-abs(eta));
    const p = eta >= 0 ? 1 / (1 + e) : e / (1 + e);
    ll += y[i] * eta - (eta > 0 ? eta : 0) - log1p(e);
    const r = y[i] - p;
    const w = p * (1 - p);
    ga += r;
    gb += r * xi;
    haa += w;
    hab += w * xi;
    hbb += w * xi * xi;
  }
  out.ll = ll;
  out.ga = ga;
  out.gb = gb;
  out.haa = haa;
  out.hab = hab;
  out.hbb = hbb;
}

/**
 * Fits logit P(y = 1) = a + b x (both free), as R's `glm(y ~ x, family = binomial)`; with
 * `slopeFixed`, only a with the slope fixed at that value (R's `glm(y ~ offset(slopeFixed * x))`).
 * Newton steps are halved while they lower the likelihood; converged when a full step changes no
 * coefficient by more than 1e-13 (relative). NaN coefficients when it does not converge.
 *
 * @example
 * fitLogistic(new Uint8Array([0, 0, 1, 1, 0, 1]), new Float64Array([-2, -1, 0, 1, 0.5, 2])).slope;
 */
export function fitLogistic(y: Uint8Array, x: Float64Array, slopeFixed?: number): LogisticFit {
  if (y.length !== x.length) throw new Error(`fitLogistic: y and x must have equal length, got ${y.length} and ${x.length}`);
  let a = 0;
  let b = slopeFixed ?? 0;
  const cur: Pass = { ll: 0, ga: 0, gb: 0, haa: 0, hab: 0, hbb: 0 };
  pass(y, x, a, b, cur);
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    let da: number;
    let db: number;
    if (slopeFixed !== undefined) {
      da = cur.ga / cur.haa;
      db = 0;
    } else {
      const det = cur.haa * cur.hbb - cur.hab * cur.hab;
      da = (cur.hbb * cur.ga - cur.hab * cur.gb) / det;
      db = (cur.haa * cur.gb - cur.hab * cur.ga) / det;
    }
    if (!Number.isFinite(da) || !Number.isFinite(db)) break;
    // Halve the Newton step while it clearly lowers the likelihood (each try is one pass, which
    // also yields the next gradient). Near the optimum the log-likelihood changes by less than its
    // rounding noise, so a tiny "decrease" must not stop the iteration short of the optimum.
    const ll0 = cur.ll;
    const noise = 1e-12 * abs(ll0);
    let step = 1;
    pass(y, x, a + da, b + db, cur);
    while (cur.ll < ll0 - noise && step > 1e-10) {
      step /= 2;
      pass(y, x, a + step * da, b + step * db, cur);
    }
    a += step * da;
    b += step * db;
    if (step === 1 && abs(da) <= 1e-13 * max(1, abs(a)) && abs(db) <= 1e-13 * max(1, abs(b))) {
      return { intercept: a, slope: b, iterations: it };
    }
  }
  return { intercept: NaN, slope: NaN, iterations: MAX_ITERATIONS };
}
