/** Multiple-comparison adjustment methods of {@link pAdjust} (R's `p.adjust` names). */
export type PAdjustMethod = 'holm' | 'BH' | 'bonferroni';

/**
 * P-values adjusted for multiple comparisons, equal to R's `p.adjust(p, method)`: Holm's
 * step-down family-wise error control, Benjamini-Hochberg's false discovery rate, or Bonferroni.
 * NaN stays NaN and does not count as a test (R's NA: its default `n = length(p)` is evaluated after
 * the NAs are dropped).
 *
 * @example
 * pAdjust([0.01, 0.04, 0.03], 'holm'); // returns [0.03, 0.06, 0.06]
 * pAdjust([0.01, 0.04, 0.03], 'BH'); // returns [0.03, 0.04, 0.04]
 */
export function pAdjust(p: ArrayLike<number>, method: PAdjustMethod): number[] {
  const out = Array.from(p, Number);
  for (const v of out) {
    if (!Number.isNaN(v) && !(v >= 0 && v <= 1)) throw new Error(`pAdjust: p-values must be in [0, 1], got ${v}`);
  }
  const idx: number[] = [];
  for (let i = 0; i < out.length; i++) if (!Number.isNaN(out[i])) idx.push(i);
  const lp = idx.length;
  const n = lp;
  if (method === 'bonferroni') {
    for (const i of idx) out[i] = Math.min(1, n * out[i]);
    return out;
  }
  if (method === 'holm') {
    // Ascending, stable (R's order): (n - i + 1) p_(i), running maximum, capped at 1.
    const o = idx.slice().sort((a, b) => out[a] - out[b] || a - b);
    const adj = new Array<number>(lp);
    let run = -Infinity;
    for (let i = 0; i < lp; i++) {
      run = Math.max(run, (n - i) * p[o[i]]);
      adj[i] = Math.min(1, run);
    }
    for (let i = 0; i < lp; i++) out[o[i]] = adj[i];
    return out;
  }
  if (method === 'BH') {
    // Descending, stable: (n / i) p_(i) with i = lp ... 1, running minimum, capped at 1.
    const o = idx.slice().sort((a, b) => out[b] - out[a] || a - b);
    const adj = new Array<number>(lp);
    let run = Infinity;
    for (let k = 0; k < lp; k++) {
      const i = lp - k;
      run = Math.min(run, (n / i) * p[o[k]]);
      adj[k] = Math.min(1, run);
    }
    for (let k = 0; k < lp; k++) out[o[k]] = adj[k];
    return out;
  }
  throw new Error(`pAdjust: method must be 'holm', 'BH' or 'bonferroni', got '${String(method)}'`);
}
