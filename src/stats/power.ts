import { aucOf } from './auc';
import { toBinaryData, type BinaryLabels } from './binary_data';
import { delongMulti } from './delong_multi';
import { normalCdf, normalQuantile } from './normal';
import { procRocOf } from './roc_coords';

/** Sidedness of the planned test. */
export type PowerAlternative = 'two.sided' | 'one.sided';

/** What is known about a planned one-curve study; the one quantity left out is solved for. */
export interface PowerRocOptions {
  /** Expected AUC (tested against 0.5). Leave out to solve for the detectable AUC. */
  auc?: number;
  /** Number of cases (positives). With `kappa`, `ncontrols` may be left out (and vice versa). */
  ncases?: number;
  /** Number of controls (negatives). */
  ncontrols?: number;
  /** Significance level. Default 0.05; `null` solves for it. */
  sigLevel?: number | null;
  /** Power. Leave out to solve for it. */
  power?: number;
  /** ncontrols / ncases when one of them (or both) is solved for. Default 1. */
  kappa?: number;
  /** Default 'two.sided' (the significance level is split between the tails). */
  alternative?: PowerAlternative;
}

/** A power calculation's inputs and the solved quantity. */
export interface PowerRocResult {
  ncases: number;
  ncontrols: number;
  /** The AUC (one curve); absent for two curves. */
  auc?: number;
  sigLevel: number;
  power: number;
}

/** pROC's constant: the variance of the AUC under H0 (AUC = 0.5) per case, Obuchowski (1997). */
const V0_NULL = 0.0792;

function check(options: { ncases?: number; ncontrols?: number; kappa?: number; power?: number; sigLevel?: number | null }, what: string): void {
  const { ncases, ncontrols, kappa, power, sigLevel } = options;
  if (ncases !== undefined && !(ncases > 0)) throw new Error(`${what}: ncases must be positive, got ${ncases}`);
  if (ncontrols !== undefined && !(ncontrols > 0)) throw new Error(`${what}: ncontrols must be positive, got ${ncontrols}`);
  if (kappa !== undefined && !(kappa > 0)) throw new Error(`${what}: kappa must be positive, got ${kappa}`);
  if (power !== undefined && !(power > 0 && power < 1)) throw new Error(`${what}: power must be in (0, 1), got ${power}`);
  if (sigLevel !== undefined && sigLevel !== null && !(sigLevel > 0 && sigLevel < 1)) throw new Error(`${what}: sigLevel must be in (0, 1), got ${sigLevel}`);
}

/** Obuchowski's variance of the AUC per case under the binormal model with equal variances. */
function varThetaObuchowski(theta: number, kappa: number): number {
  const a = normalQuantile(theta) * 1.414;
  return 0.0099 * Math.exp((-a * a) / 2) * (5 * a * a + 8 + (a * a + 8) / kappa);
}

const solveNd = (zalpha: number, zbeta: number, v0: number, va: number, delta: number): number => (zalpha * Math.sqrt(v0) + zbeta * Math.sqrt(va)) ** 2 / delta ** 2;
const solveZalpha = (nd: number, zbeta: number, v0: number, va: number, delta: number): number => (Math.sqrt(nd * delta ** 2) - zbeta * Math.sqrt(va)) / Math.sqrt(v0);
const solveZbeta = (nd: number, zalpha: number, v0: number, va: number, delta: number): number => (Math.sqrt(nd * delta ** 2) - zalpha * Math.sqrt(v0)) / Math.sqrt(va);

/** Root of a function decreasing through 0 on (lo, hi), by bisection to the last bit. */
function bisect(f: (x: number) => number, lo: number, hi: number, what: string): number {
  const fHi = f(hi);
  if (!(fHi < 0)) throw new Error(`${what}: no AUC below 1 reaches this power with these sample sizes`);
  for (let i = 0; i < 200; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return lo + (hi - lo) / 2;
}

/**
 * Power and sample size of a study testing one AUC against 0.5 (Obuchowski's binormal
 * variance), equal to pROC's `power.roc.test(auc =, ncases =, ncontrols =, sig.level =, power =,
 * kappa =)`: leave out exactly one of `power`, `sigLevel` (as `null`), `auc`, or both sample sizes.
 * Solving for the AUC finds the root to the last bit where pROC's `uniroot` stops at ~1e-4.
 *
 * @example
 * powerRocTest({ auc: 0.8, power: 0.9 }).ncases; // cases (and as many controls) needed
 * powerRocTest({ auc: 0.75, ncases: 40, ncontrols: 60 }).power;
 */
export function powerRocTest(options: PowerRocOptions): PowerRocResult {
  const what = 'powerRocTest';
  check(options, what);
  let { ncases, ncontrols, kappa } = options;
  const { power, auc } = options;
  const alternative = options.alternative ?? 'two.sided';
  if (alternative !== 'two.sided' && alternative !== 'one.sided') throw new Error(`${what}: alternative must be 'two.sided' or 'one.sided', got '${String(alternative)}'`);
  if (auc !== undefined && !(auc > 0.5 && auc < 1)) throw new Error(`${what}: auc must be in (0.5, 1), got ${auc}`);
  kappa = kappa ?? 1;
  if (ncontrols === undefined && ncases !== undefined) ncontrols = kappa * ncases;
  else if (ncases === undefined && ncontrols !== undefined) ncases = ncontrols / kappa;
  const sigIn = options.sigLevel === undefined ? 0.05 : options.sigLevel;
  const half = (s: number): number => (alternative === 'two.sided' ? s / 2 : s);
  const twice = (s: number): number => (alternative === 'two.sided' ? s * 2 : s);
  const unknown = [auc === undefined, ncases === undefined, power === undefined, sigIn === null].filter(Boolean).length;
  if (unknown !== 1) throw new Error(`${what}: leave out exactly one of auc, power, sigLevel (null) or the sample sizes, got ${unknown} unknowns`);
  if (auc === undefined) {
    const nCases = ncases as number;
    const k = (ncontrols as number) / nCases;
    const zalpha = normalQuantile(1 - half(sigIn as number));
    const zbeta = normalQuantile(power as number);
    const f = (x: number): number => (zalpha * Math.sqrt(V0_NULL * (1 + 1 / k)) + zbeta * Math.sqrt(varThetaObuchowski(x, k))) ** 2 / (x - 0.5) ** 2 - nCases;
    const root = bisect(f, 0.5, 1 - 1e-16, what);
    return { ncases: nCases, ncontrols: ncontrols as number, auc: root, sigLevel: sigIn as number, power: power as number };
  }
  if (ncases === undefined) {
    const vTheta = varThetaObuchowski(auc, kappa);
    const n = solveNd(normalQuantile(1 - half(sigIn as number)), normalQuantile(power as number), V0_NULL * (1 + 1 / kappa), vTheta, auc - 0.5);
    return { ncases: n, ncontrols: kappa * n, auc, sigLevel: sigIn as number, power: power as number };
  }
  const k = (ncontrols as number) / ncases;
  const vTheta = varThetaObuchowski(auc, k);
  const v0 = V0_NULL * (1 + 1 / k);
  if (power === undefined) {
    const zbeta = solveZbeta(ncases, normalQuantile(1 - half(sigIn as number)), v0, vTheta, auc - 0.5);
    return { ncases, ncontrols: ncontrols as number, auc, sigLevel: sigIn as number, power: normalCdf(zbeta) };
  }
  const zalpha = solveZalpha(ncases, normalQuantile(power), v0, vTheta, auc - 0.5);
  return { ncases, ncontrols: ncontrols as number, auc, sigLevel: twice(1 - normalCdf(zalpha)), power };
}

/**
 * Binormal parameters of two correlated ROC curves (pROC's `parslist`): each curve is
 * Φ(A + B Φ⁻¹(FPR)); rn and ra are the correlations of the two scores among controls and cases,
 * delta the AUC difference to detect. FPR ranges give partial AUCs (all four or none).
 */
export interface BinormalPair {
  A1: number;
  B1: number;
  A2: number;
  B2: number;
  rn: number;
  ra: number;
  delta: number;
  FPR11?: number;
  FPR12?: number;
  FPR21?: number;
  FPR22?: number;
}

/** What is known about a planned two-curve study. */
export interface PowerRocTest2Options {
  ncases?: number;
  ncontrols?: number;
  /** Default 0.05; `null` solves for it. */
  sigLevel?: number | null;
  power?: number;
  /** Default 1. */
  kappa?: number;
  /** Default 'two.sided'. */
  alternative?: PowerAlternative;
}

const f0 = (a: number, b: number): number => Math.exp((-a * a) / (2 * (1 + b * b)));
const fFull = (a: number, b: number): number => f0(a, b) * (2 * Math.PI * (1 + b * b)) ** -0.5;
const gFull = (a: number, b: number): number => -f0(a, b) * a * b * (2 * Math.PI * (1 + b * b) ** 3) ** -0.5;
const cDagger = (a: number, b: number, fpr: number): number => (normalQuantile(fpr) + a * b * (1 + b * b) ** -1) * (1 + b * b) ** 0.5;
function fPartial(a: number, b: number, fpr1: number, fpr2: number): number {
  return fFull(a, b) * (normalCdf(cDagger(a, b, fpr1)) - normalCdf(cDagger(a, b, fpr2)));
}
function gPartial(a: number, b: number, fpr1: number, fpr2: number): number {
  const c1 = cDagger(a, b, fpr1);
  const c2 = cDagger(a, b, fpr2);
  const e2 = 1 + b * b;
  const e4 = Math.exp(-(c1 * c1) / 2) - Math.exp(-(c2 * c2) / 2);
  return f0(a, b) * (2 * Math.PI * e2) ** -1 * -e4 - a * b * f0(a, b) * (2 * Math.PI * e2 ** 3) ** -0.5 * (normalCdf(c1) - normalCdf(c2));
}

function fg(a: number, b: number, fpr1: number | undefined, fpr2: number | undefined): [number, number] {
  return fpr1 !== undefined && fpr2 !== undefined ? [fPartial(a, b, fpr1, fpr2), gPartial(a, b, fpr1, fpr2)] : [fFull(a, b), gFull(a, b)];
}

/** Obuchowski & McClish (1997)'s variance of one binormal (partial) AUC, times the number of cases. */
function varParams(a: number, b: number, kappa: number, fpr1?: number, fpr2?: number): number {
  const [f, g] = fg(a, b, fpr1, fpr2);
  return f * f * (1 + (b * b) / kappa + (a * a) / 2) + (g * g * b * b * (1 + kappa)) / (2 * kappa);
}

/** Their covariance of two correlated binormal AUCs, times the number of cases. */
function covParams(p: BinormalPair, kappa: number): number {
  const partial = p.FPR11 !== undefined && p.FPR12 !== undefined && p.FPR21 !== undefined && p.FPR22 !== undefined;
  const [f1, g1] = fg(p.A1, p.B1, partial ? p.FPR11 : undefined, partial ? p.FPR12 : undefined);
  const [f2, g2] = fg(p.A2, p.B2, partial ? p.FPR21 : undefined, partial ? p.FPR22 : undefined);
  const { A1, B1, A2, B2, rn, ra } = p;
  return (
    f1 * f2 * (ra + (rn * B1 * B2) / kappa + (ra * ra * A1 * A2) / 2) +
    g1 * g2 * ((B1 * B2 * (rn * rn + kappa * ra * ra)) / (2 * kappa)) +
    f1 * g2 * ((ra * ra * A1 * B2) / 2) +
    f2 * g1 * ((ra * ra * A2 * B1) / 2)
  );
}

interface CovVar {
  var1: number;
  var2: number;
  cov12: number;
}

/** Solves the two-curve power equation for the missing quantity (pROC's Obuchowski machinery). */
function solveTwo(cv: (kappa: number) => CovVar, delta: number, options: PowerRocTest2Options & { ncasesFixed?: number }, what: string): PowerRocResult {
  check(options, what);
  let { ncases, ncontrols } = options;
  const { power } = options;
  const kappaIn = options.kappa ?? 1;
  const alternative = options.alternative ?? 'two.sided';
  if (alternative !== 'two.sided' && alternative !== 'one.sided') throw new Error(`${what}: alternative must be 'two.sided' or 'one.sided', got '${String(alternative)}'`);
  if (ncontrols === undefined && ncases !== undefined) ncontrols = kappaIn * ncases;
  else if (ncases === undefined && ncontrols !== undefined) ncases = ncontrols / kappaIn;
  const sigIn = options.sigLevel === undefined ? 0.05 : options.sigLevel;
  const half = (s: number): number => (alternative === 'two.sided' ? s / 2 : s);
  const twice = (s: number): number => (alternative === 'two.sided' ? s * 2 : s);
  const unknown = [ncases === undefined, power === undefined, sigIn === null].filter(Boolean).length;
  if (unknown !== 1) throw new Error(`${what}: leave out exactly one of power, sigLevel (null) or the sample sizes, got ${unknown} unknowns`);
  if (ncases === undefined) {
    const c = cv(kappaIn);
    const n = solveNd(normalQuantile(1 - half(sigIn as number)), normalQuantile(power as number), 2 * c.var1 - 2 * c.cov12, c.var1 + c.var2 - 2 * c.cov12, delta);
    return { ncases: n, ncontrols: kappaIn * n, sigLevel: sigIn as number, power: power as number };
  }
  const c = cv((ncontrols as number) / ncases);
  const v0 = 2 * c.var1 - 2 * c.cov12;
  const va = c.var1 + c.var2 - 2 * c.cov12;
  if (power === undefined) {
    const zbeta = solveZbeta(ncases, normalQuantile(1 - half(sigIn as number)), v0, va, delta);
    return { ncases, ncontrols: ncontrols as number, sigLevel: sigIn as number, power: normalCdf(zbeta) };
  }
  const zalpha = solveZalpha(ncases, normalQuantile(power), v0, va, delta);
  return { ncases, ncontrols: ncontrols as number, sigLevel: twice(1 - normalCdf(zalpha)), power };
}

/**
 * Power and sample size for comparing two correlated AUCs under the binormal model (Obuchowski &
 * McClish 1997), equal to pROC's `power.roc.test(parslist, ncases =, ncontrols =, sig.level =,
 * power =, kappa =)`: leave out exactly one of `power`, `sigLevel` (`null`) or the sample sizes.
 *
 * @example
 * powerRocTest2({ A1: 1.2, B1: 1, A2: 0.9, B2: 1, rn: 0.5, ra: 0.5, delta: 0.08 }, { power: 0.8 }).ncases;
 */
export function powerRocTest2(params: BinormalPair, options: PowerRocTest2Options): PowerRocResult {
  for (const key of ['A1', 'B1', 'A2', 'B2', 'rn', 'ra', 'delta'] as const) {
    if (!Number.isFinite(params[key])) throw new Error(`powerRocTest2: parameter ${key} must be a finite number, got ${params[key]}`);
  }
  const cv = (kappa: number): CovVar => ({
    var1: varParams(params.A1, params.B1, kappa, params.FPR11, params.FPR12),
    var2: varParams(params.A2, params.B2, kappa, params.FPR21, params.FPR22),
    cov12: covParams(params, kappa),
  });
  return solveTwo(cv, params.delta, options, 'powerRocTest2');
}

/**
 * The binormal fit pROC's Obuchowski method uses (`smooth(roc, method = "binormal")`): least
 * squares of Φ⁻¹(sp) on Φ⁻¹(se) over the curve points where both are finite; A is the intercept
 * and B the slope (negative: specificity falls as sensitivity rises).
 *
 * @example
 * const { A, B } = binormalFit(labels, scores);
 * normalCdf(A / Math.sqrt(1 + B * B)); // the binormal AUC
 */
export function binormalFit(labels: BinaryLabels, scores: ArrayLike<number>): { A: number; B: number } {
  const c = procRocOf(toBinaryData(labels, scores, 'binormalFit'));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < c.sensitivities.length; i++) {
    const x = normalQuantile(c.sensitivities[i]);
    const y = normalQuantile(c.specificities[i]);
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xs.push(x);
      ys.push(y);
    }
  }
  if (xs.length <= 1) throw new Error('binormalFit: the ROC curve has fewer than 2 finite points (not smoothable)');
  const mx = xs.reduce((a, v) => a + v, 0) / xs.length;
  const my = ys.reduce((a, v) => a + v, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (!(sxx > 0)) throw new Error('binormalFit: the ROC curve has fewer than 2 distinct points (not smoothable)');
  const B = sxy / sxx;
  return { A: my - B * mx, B };
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Options of {@link powerRocTestPaired}: the sample sizes come from the data. */
export interface PowerRocPairedOptions {
  /** Default 0.05; `null` solves for it. */
  sigLevel?: number | null;
  /** Give it (with sigLevel) to solve for the number of cases; leave out to solve for the power. */
  power?: number;
  /** ncontrols / ncases of the planned study. Default: the data's. */
  kappa?: number;
  /** Default 'two.sided'. */
  alternative?: PowerAlternative;
  /** Variance estimate: 'delong' (pROC's default) or 'obuchowski' (binormal fit). Default 'delong'. */
  method?: 'delong' | 'obuchowski';
}

/**
 * Power of, or cases needed for, detecting the AUC difference two models show on a pilot set,
 * equal to pROC's `power.roc.test(roc1, roc2, sig.level =, power =, method =)`: the DeLong (or
 * Obuchowski binormal) variances and covariance of the pilot scale with the number of cases.
 *
 * @example
 * powerRocTestPaired(labels, mst, resnet, { power: 0.8 }).ncases; // cases for 80% power
 * powerRocTestPaired(labels, mst, resnet).power; // power of the pilot's own size
 */
export function powerRocTestPaired(labels: BinaryLabels, scores1: ArrayLike<number>, scores2: ArrayLike<number>, options: PowerRocPairedOptions = {}): PowerRocResult {
  const what = 'powerRocTestPaired';
  const d1 = toBinaryData(labels, scores1, `${what} (scores1)`);
  const d2 = toBinaryData(labels, scores2, `${what} (scores2)`);
  const m = d1.nPositive;
  const n = d1.nNegative;
  const method = options.method ?? 'delong';
  let covvar: CovVar;
  let delta: number;
  if (method === 'delong') {
    const r = delongMulti(d1.labels, [d1.scores, d2.scores]);
    covvar = { var1: r.covariance[0][0] * m, var2: r.covariance[1][1] * m, cov12: r.covariance[0][1] * m };
    delta = r.models[0].auc - r.models[1].auc;
  } else if (method === 'obuchowski') {
    const b1 = binormalFit(d1.labels, d1.scores);
    const b2 = binormalFit(d2.labels, d2.scores);
    const split = (d: typeof d1): [Float64Array, Float64Array] => {
      const cases = new Float64Array(m);
      const controls = new Float64Array(n);
      for (let i = 0, p = 0, q = 0; i < d.labels.length; i++) {
        if (d.labels[i] === 1) cases[p++] = d.scores[i];
        else controls[q++] = d.scores[i];
      }
      return [cases, controls];
    };
    const [c1, n1] = split(d1);
    const [c2, n2] = split(d2);
    const pair: BinormalPair = { A1: b1.A, B1: b1.B, A2: b2.A, B2: b2.B, ra: pearson(c1, c2), rn: pearson(n1, n2), delta: 0 };
    const kappa = n / m;
    covvar = { var1: varParams(pair.A1, pair.B1, kappa), var2: varParams(pair.A2, pair.B2, kappa), cov12: covParams(pair, kappa) };
    delta = aucOf(d1) - aucOf(d2);
  } else {
    throw new Error(`${what}: method must be 'delong' or 'obuchowski', got '${String(method)}'`);
  }
  const kappa = options.kappa ?? n / m;
  const sigIn = options.sigLevel === undefined ? 0.05 : options.sigLevel;
  if (options.power !== undefined && sigIn !== null) {
    return solveTwo(() => covvar, delta, { sigLevel: sigIn, power: options.power, kappa, alternative: options.alternative }, what);
  }
  return solveTwo(() => covvar, delta, { ncases: m, ncontrols: n, sigLevel: sigIn, power: options.power, alternative: options.alternative }, what);
}
