import { normalCdf, normalLogSf, normalPdf, normalQuantile, normalSf, normalTwoSidedP } from './normal';
import { betaIncReg, logBeta, logGamma } from './special';
import { studentTCdf, studentTwoSidedP } from './student_t';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

// Reference values from R 4.2.2 (`options(digits = 17)`), whose pnorm / qnorm / pt are accurate to ~1e-16.
describe('normal distribution', () => {
  test.each([
    [1.959963984540054, 2.5000000000000012e-2],
    [0.3, 3.8208857781104733e-1],
    [1, 1.5865525393145705e-1],
    [2.5, 6.2096653257761349e-3],
    [5, 2.8665157187919391e-7],
    [10, 7.6198530241605269e-24],
    [20, 2.7536241186062337e-89],
    [30, 4.9067139271481872e-198],
    [37, 5.7255712225245771e-300],
  ])('the upper tail at z = %p equals R pnorm(-z) to 1e-14 relative', (z, expected) => {
    expect(rel(normalSf(z), expected)).toBeLessThan(1e-14);
    expect(rel(normalCdf(-z), expected)).toBeLessThan(1e-14);
  });

  test('the tail does not underflow while the value is representable', () => {
    // R's pnorm(-38) returns 0; the true value is 2.885428351e-316 (subnormal).
    expect(normalSf(38)).toBeGreaterThan(2.88e-316);
    expect(normalSf(38)).toBeLessThan(2.89e-316);
    expect(normalSf(38.5)).toBe(0); // the true value (~1e-324) is below the smallest double
    expect(normalLogSf(50)).toBeCloseTo(-1254.8313611394292, 9);
    expect(normalTwoSidedP(12)).toBeCloseTo(3.552964224155306e-33, 45);
  });

  test('the CDF is symmetric and the density is correct at 0', () => {
    expect(normalPdf(0)).toBe(0.3989422804014327);
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(normalCdf(1.3) + normalCdf(-1.3) - 1)).toBeLessThan(1e-16);
    expect(normalSf(Infinity)).toBe(0);
    expect(normalSf(-Infinity)).toBe(1);
    expect(normalSf(NaN)).toBeNaN();
    expect(normalTwoSidedP(-Infinity)).toBe(0);
  });

  test.each([
    [0.975, 1.95996398454005361],
    [1e-10, -6.3613409024040557],
    [1e-300, -37.04709629936120052],
    [0.6, 0.25334710313579978],
  ])('the quantile at p = %p equals R qnorm to 1e-14 relative', (p, expected) => {
    expect(rel(normalQuantile(p), expected)).toBeLessThan(1e-14);
  });

  test('the quantile of 0, 1 and invalid p', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(1.5)).toBeNaN();
    expect(normalQuantile(NaN)).toBeNaN();
  });
});

describe('special functions and Student t', () => {
  test('log-gamma and log-beta equal R', () => {
    expect(rel(logGamma(0.5), 5.7236494292470008e-1)).toBeLessThan(1e-14);
    expect(rel(logGamma(3.7), 1.4280723266653881)).toBeLessThan(1e-14);
    expect(rel(logGamma(1e5), 1.0512877089736569e6)).toBeLessThan(1e-15);
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(rel(logBeta(5e4, 0.5), -4.8375216992804413)).toBeLessThan(1e-14);
    expect(logGamma(-1)).toBeNaN();
  });

  test('the regularized incomplete beta equals R pbeta', () => {
    expect(rel(betaIncReg(0.3, 2.5, 0.5), 1.8927124071945644e-2)).toBeLessThan(1e-13);
    expect(rel(betaIncReg(0.5, 2, 3), 0.6875)).toBeLessThan(1e-14);
    expect(betaIncReg(0, 2, 3)).toBe(0);
    expect(betaIncReg(1, 2, 3)).toBe(1);
  });

  test.each([
    [2, 10, 7.33880347707403929e-2, 1e-13],
    [10, 3.5, 1.0714758956126636e-3, 1e-13],
    [5, 2.5, 2.34511899708618431e-2, 1e-13],
    [0.5, 7.3, 6.317935268044415631e-1, 1e-13],
    [3, 1e5, 2.7004608840647203e-3, 1e-11],
    [3, 5e5, 2.6999290204542622e-3, 1e-11],
  ])('the two-sided t p-value at t = %p, df = %p equals R 2 * pt(-|t|, df)', (t, df, expected, tol) => {
    expect(rel(studentTwoSidedP(t, df), expected)).toBeLessThan(tol);
    expect(rel(studentTwoSidedP(-t, df), expected)).toBeLessThan(tol);
  });

  test('the t CDF covers both tails, and df = Infinity is the normal', () => {
    expect(rel(studentTCdf(-2, 10), 3.66940173853701965e-2)).toBeLessThan(1e-13);
    expect(rel(studentTCdf(2, 10), 1 - 3.66940173853701965e-2)).toBeLessThan(1e-15);
    expect(studentTwoSidedP(1.959963984540054, Infinity)).toBeCloseTo(0.05, 15);
    expect(studentTwoSidedP(Infinity, 5)).toBe(0);
    expect(studentTwoSidedP(1, -1)).toBeNaN();
  });
});

describe('normalQuantile across its three AS 241 regions', () => {
  // R 4.2.2: sprintf("%.17g", qnorm(p)); R uses the same algorithm, so the values agree to an ulp.
  const p = [1e-300,9.9999999999999998e-201,1e-50,9.9999999999999995e-21,9.9999999999999998e-13,9.9999999999999994e-12,1.3e-11,1e-08,1.0000000000000001e-05,0.001,0.01,0.074899999999999994,0.074999999999999997,0.0751,0.10000000000000001,0.20000000000000001,0.29999999999999999,0.40000000000000002,0.5,0.59999999999999998,0.69999999999999996,0.80000000000000004,0.90000000000000002,0.92500000000000004,0.98999999999999999,0.999,0.99999000000000005,0.99999999999900002];
  const want = [-37.047096299361201,-30.205594179579634,-14.933337534788489,-9.2623400897984052,-7.0344838253011321,-6.7060231554951359,-6.6676114565107403,-5.61200124417479,-4.2648907939228256,-3.0902323061678132,-2.3263478740408408,-1.4402382675279632,-1.4395314709384557,-1.4388253927525398,-1.2815515655446008,-0.84162123357291418,-0.52440051270804067,-0.25334710313579978,0,0.25334710313579978,0.52440051270804067,0.84162123357291441,1.2815515655446008,1.4395314709384559,2.3263478740408408,3.0902323061678132,4.2648907939238399,7.0344869100478356];
  test.each(p.map((v, i) => [v, want[i]]))('qnorm(%p) to 1e-15 relative', (v, w) => {
    expect(Math.abs(normalQuantile(v) - w)).toBeLessThanOrEqual(1e-15 * Math.abs(w));
  });
});
