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

/** log(1 + e^η) without overflow. */
function softplus(eta: number): number {
  return eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

/** P(y = 1) = 1 / (1 + e^-η). */
function sigmoid(eta: number): number {
  return eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta));
}

function logLik(y: Uint8Array, x: Float64Array, a: number, b: number): number {
  let ll = 0;
  for (let i = 0; i < y.length; i++) {
    const eta = a + b * x[i];
    ll += y[i] * eta - softplus(eta);
  }
  return ll;
}

/**
 * Fits logit P(y = 1) = a + b x (both free), as R's `glm(y ~ x, family = binomial)`; with
 * `slopeFixed`, only a with the slope fixed at that value (R's `glm(y ~ offset(slopeFixed * x))`).
 * Newton steps are halved while they lower the likelihood; converged when a step changes no
 * coefficient by more than 1e-13 (relative). NaN coefficients when it does not converge.
 *
 * @example
 * fitLogistic(new Uint8Array([0, 0, 1, 1, 0, 1]), new Float64Array([-2, -1, 0, 1, 0.5, 2])).slope;
 */
export function fitLogistic(y: Uint8Array, x: Float64Array, slopeFixed?: number): LogisticFit {
  if (y.length !== x.length) throw new Error(`fitLogistic: y and x must have equal length, got ${y.length} and ${x.length}`);
  let a = 0;
  let b = slopeFixed ?? 0;
  let ll = logLik(y, x, a, b);
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    // Gradient and Hessian of the log-likelihood.
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < y.length; i++) {
      const xi = x[i];
      const p = sigmoid(a + b * xi);
      const r = y[i] - p;
      const w = p * (1 - p);
      ga += r;
      gb += r * xi;
      haa += w;
      hab += w * xi;
      hbb += w * xi * xi;
    }
    let da: number;
    let db: number;
    if (slopeFixed !== undefined) {
      da = ga / haa;
      db = 0;
    } else {
      const det = haa * hbb - hab * hab;
      da = (hbb * ga - hab * gb) / det;
      db = (haa * gb - hab * ga) / det;
    }
    if (!Number.isFinite(da) || !Number.isFinite(db)) break;
    let step = 1;
    let next = logLik(y, x, a + da, b + db);
    while (next < ll && step > 1e-10) {
      step /= 2;
      next = logLik(y, x, a + step * da, b + step * db);
    }
    a += step * da;
    b += step * db;
    ll = next;
    if (abs(step * da) <= 1e-13 * max(1, abs(a)) && abs(step * db) <= 1e-13 * max(1, abs(b))) {
      return { intercept: a, slope: b, iterations: it };
    }
  }
  return { intercept: NaN, slope: NaN, iterations: MAX_ITERATIONS };
}
