import { aucOf } from './auc';

/** One-vs-rest AUCs of a multi-class problem. */
export interface MulticlassAucResult {
  /** [K] AUC of class k against all others (score column k). */
  perClass: number[];
  /** Unweighted mean of `perClass` (scikit-learn `average='macro'`). */
  macro: number;
  /** Mean of `perClass` weighted by class prevalence (scikit-learn `average='weighted'`). */
  weighted: number;
}

/**
 * One-vs-rest AUC per class with macro and prevalence-weighted averages, as scikit-learn's
 * `roc_auc_score(y, scores, multi_class='ovr', average=...)`. `labels` are class indices 0..K-1,
 * `scores` is [N][K] (row i holds the K class scores of case i; they need not sum to 1 here).
 * Throws when a class has no case (its AUC is undefined), a label is out of range or a row has
 * the wrong length.
 *
 * @example
 * multiclassAuc([0, 1, 2, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]]).macro; // returns 1
 */
export function multiclassAuc(labels: ArrayLike<number>, scores: ArrayLike<ArrayLike<number>>): MulticlassAucResult {
  const n = labels.length;
  if (scores.length !== n) throw new Error(`multiclassAuc: labels and scores must have equal length, got ${n} labels and ${scores.length} score rows`);
  if (n === 0) throw new Error('multiclassAuc: expected at least one case, got none');
  const k = scores[0].length;
  if (k < 2) throw new Error(`multiclassAuc: expected at least 2 score columns, got ${k}`);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!(Number.isInteger(l) && l >= 0 && l < k)) throw new Error(`multiclassAuc: labels must be integers in [0, ${k - 1}], got ${l} at index ${i}`);
    if (scores[i].length !== k) throw new Error(`multiclassAuc: every score row needs ${k} values, got ${scores[i].length} at row ${i}`);
    counts[l]++;
  }
  const missing = counts.flatMap((c, j) => (c === 0 || c === n ? [j] : []));
  if (missing.length > 0) throw new Error(`multiclassAuc: one-vs-rest AUC is undefined for class(es) ${missing.join(', ')} (no case of the class or of the rest)`);
  const perClass: number[] = [];
  for (let j = 0; j < k; j++) {
    const y = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = labels[i] === j ? 1 : 0;
      const v = scores[i][j];
      if (Number.isNaN(v)) throw new Error(`multiclassAuc: scores must not be NaN, got NaN at row ${i}, column ${j}`);
      s[i] = v + 0;
    }
    perClass.push(aucOf({ labels: y, scores: s, nPositive: counts[j], nNegative: n - counts[j] }));
  }
  const macro = perClass.reduce((a, b) => a + b, 0) / k;
  const weighted = perClass.reduce((a, v, j) => a + (v * counts[j]) / n, 0);
  return { perClass, macro, weighted };
}
