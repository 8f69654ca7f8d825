/**
 * Checked binary-classification input: labels 0/1 (or booleans) and orderable scores of equal
 * length. Every statistic in `mst-ts/stats` goes through here, so the errors read the same everywhere.
 */

/** Labels as given by callers: 0/1 numbers or booleans (1 / true = positive class, a "case"). */
export type BinaryLabels = ArrayLike<number | boolean>;

/** Validated copy of labels and scores. */
export interface BinaryData {
  /** [N] 1 for a positive (case), 0 for a negative (control). */
  labels: Uint8Array;
  /** [N] scores; -0 is stored as 0, ±Infinity is kept (it orders like any other value). */
  scores: Float64Array;
  /** Number of positives (cases), m. */
  nPositive: number;
  /** Number of negatives (controls), n. */
  nNegative: number;
}

/**
 * Validates and copies labels and scores. Throws on a length mismatch, an empty input, a label
 * that is not 0/1/true/false, or a NaN score; with `requireBothClasses` (the default) also when one
 * class is absent, since no ROC statistic is defined then.
 *
 * @example
 * const d = toBinaryData([0, 1, 1], [0.2, 0.9, 0.4], 'auc');
 * d.nPositive; // returns 2
 */
export function toBinaryData(
  labels: BinaryLabels,
  scores: ArrayLike<number>,
  what: string,
  requireBothClasses = true,
): BinaryData {
  const n = labels.length;
  if (scores.length !== n) {
    throw new Error(`${what}: labels and scores must have equal length, got ${n} labels and ${scores.length} scores`);
  }
  if (n === 0) throw new Error(`${what}: expected at least one case, got empty labels and scores`);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  let nPositive = 0;
  // Typed arrays take a monomorphic loop (several times faster at 10^6 cases than the generic one).
  if (ArrayBuffer.isView(labels)) {
    const typed = labels as unknown as ArrayLike<number>;
    for (let i = 0; i < n; i++) {
      const l = typed[i];
      if (l === 1) y[i] = 1;
      else if (l !== 0) throw new Error(`${what}: labels must be 0/1 or false/true, got ${String(l)} at index ${i}`);
      nPositive += l;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      if (l === 1 || l === true) {
        y[i] = 1;
        nPositive++;
      } else if (l !== 0 && l !== false) {
        throw new Error(`${what}: labels must be 0/1 or false/true, got ${String(l)} at index ${i}`);
      }
    }
  }
  if (ArrayBuffer.isView(scores)) {
    s.set(scores);
    for (let i = 0; i < n; i++) {
      const v = s[i];
      if (v !== v) throw new Error(`${what}: scores must be numbers (not NaN), got NaN at index ${i}`);
      s[i] = v + 0; // -0 -> 0, so equal scores have equal bits for the radix sort
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = scores[i];
      if (typeof v !== 'number' || Number.isNaN(v)) {
        throw new Error(`${what}: scores must be numbers (not NaN), got ${String(v)} at index ${i}`);
      }
      s[i] = v + 0;
    }
  }
  const nNegative = n - nPositive;
  if (requireBothClasses && (nPositive === 0 || nNegative === 0)) {
    const which = nPositive === 0 ? 'no positive (label 1)' : 'no negative (label 0)';
    throw new Error(`${what}: both classes are needed, got ${which} cases among ${n}`);
  }
  return { labels: y, scores: s, nPositive, nNegative };
}
