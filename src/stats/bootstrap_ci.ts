import { normalCdf, normalQuantile } from './normal';
import { quantileSorted } from './summary';

/**
 * Bootstrap interval types: `'percentile'` is pROC's (type-7 quantiles of the replicates, as
 * `ci.auc(method = "bootstrap")`); `'basic'` and `'bca'` are R `boot::boot.ci`'s (order
 * statistics interpolated on the normal scale by its `norm.inter`; BCa with the jackknife
 * acceleration).
 */
export type BootstrapCiType = 'percentile' | 'basic' | 'bca';

/** Options of {@link bootstrapInterval}. */
export interface BootstrapIntervalOptions {
  /** Interval type. Default 'percentile'. */
  type?: BootstrapCiType;
  /** Confidence level in (0, 1). Default 0.95. */
  confLevel?: number;
  /**
   * Empirical influence values of the statistic (one per case), needed by `'bca'` for the
   * acceleration a = Σ L³ / (6 (Σ L²)^1.5): boot's `empinf(type = "jack")`, L_i = (n_g - 1)(θ - θ_(-i))
   * with n_g the size of case i's stratum.
   */
  influence?: ArrayLike<number>;
}

/**
 * boot's `norm.inter`: the alpha quantile of R values from the order statistics t_(k), k =
 * floor((R + 1) alpha), interpolated linearly on the normal quantile scale; the extreme order
 * statistic where (R + 1) alpha falls outside [1, R]. `sorted` ascending, finite.
 *
 * @example
 * normInter(Float64Array.from({ length: 99 }, (_, i) => i + 1), 0.5); // returns 50 ((R + 1) alpha = 50 exactly)
 */
export function normInter(sorted: ArrayLike<number>, alpha: number): number {
  const r = sorted.length;
  if (r === 0 || Number.isNaN(alpha)) return NaN;
  const rk = (r + 1) * alpha;
  const k = Math.trunc(rk);
  if (k <= 0) return sorted[0];
  if (k >= r) return sorted[r - 1];
  if (k === rk) return sorted[k - 1];
  const z = normalQuantile(alpha);
  const zk = normalQuantile(k / (r + 1));
  const zk1 = normalQuantile((k + 1) / (r + 1));
  const tk = sorted[k - 1];
  const tk1 = sorted[k];
  return tk + ((z - zk) / (zk1 - zk)) * (tk1 - tk);
}

/** boot's `const(t, min(1e-8, mean(t) / 1e6))`: every replicate within eps of their mean. */
function isConstant(t: Float64Array): boolean {
  if (t.length === 0) return false;
  let sum = 0;
  for (const v of t) sum += v;
  const mu = sum / t.length;
  const eps = Math.min(1e-8, mu / 1e6);
  for (const v of t) if (!(Math.abs(v - mu) < eps)) return false;
  return true;
}

/**
 * A bootstrap confidence interval from the estimate and its replicates (non-finite replicates are
 * left out, as boot does): pROC's percentile interval, or R `boot::boot.ci`'s basic
 * (2θ - upper, 2θ - lower quantile) or BCa interval for the same replicates (to ~1e-15). BCa
 * needs the influence values and is NaN when every replicate lies on one side of the estimate
 * (boot stops there: its bias correction w is infinite); basic and BCa are NaN for a constant
 * bootstrap distribution (e.g. a perfect classifier), where boot.ci gives none.
 *
 * @example
 * const b = bootstrapAuc(labels, scores, { replicates: 2000, seed: 1 });
 * bootstrapInterval(b.estimate, b.replicates, { type: 'basic' }); // = boot.ci(type = "basic")
 */
export function bootstrapInterval(estimate: number, replicates: ArrayLike<number>, options: BootstrapIntervalOptions = {}): [number, number] {
  const type = options.type ?? 'percentile';
  const conf = options.confLevel ?? 0.95;
  if (!(conf > 0 && conf < 1)) throw new Error(`bootstrapInterval: confLevel must be in (0, 1), got ${conf}`);
  const finite: number[] = [];
  for (let i = 0; i < replicates.length; i++) if (Number.isFinite(replicates[i])) finite.push(replicates[i]);
  const t = Float64Array.from(finite).sort();
  if (type === 'percentile') {
    const alpha = (1 - conf) / 2;
    return [quantileSorted(t, alpha), quantileSorted(t, 1 - alpha)];
  }
  // boot.ci gives no interval for a constant bootstrap distribution (its `const` check); nor do we.
  if (isConstant(t)) return [NaN, NaN];
  if (type === 'basic') {
    return [2 * estimate - normInter(t, (1 + conf) / 2), 2 * estimate - normInter(t, (1 - conf) / 2)];
  }
  if (type === 'bca') {
    const L = options.influence;
    if (!L) throw new Error("bootstrapInterval: type 'bca' needs options.influence (the jackknife influence values)");
    let below = 0;
    for (const v of t) if (v < estimate) below++;
    const w = normalQuantile(below / t.length);
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < L.length; i++) {
      const l = L[i];
      s2 += l * l;
      s3 += l * l * l;
    }
    const a = s3 / (6 * s2 ** 1.5);
    if (!Number.isFinite(w) || !Number.isFinite(a)) return [NaN, NaN];
    const ends = [(1 - conf) / 2, (1 + conf) / 2].map((alpha) => {
      const z = normalQuantile(alpha);
      return normInter(t, normalCdf(w + (w + z) / (1 - a * (w + z))));
    });
    return [ends[0], ends[1]];
  }
  throw new Error(`bootstrapInterval: type must be 'percentile', 'basic' or 'bca', got '${String(type)}'`);
}
