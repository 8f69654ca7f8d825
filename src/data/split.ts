import { Rng } from '../utils/rng';

/** Indices of a two-way split. */
export interface Split {
  /** Indices kept for training (or training plus validation). */
  train: number[];
  /** Indices held out. */
  test: number[];
}

/** Indices of the paper's three-way split. */
export interface ThreeWaySplit {
  /** Training indices. */
  train: number[];
  /** Validation indices (early stopping, model selection). */
  val: number[];
  /** Held-out test indices. */
  test: number[];
}

/**
 * Splits indices `0..labels.length-1` so each class keeps the same fraction on each side: within a
 * class, `round(count * testFraction)` seeded-random members go to `test`. Both lists are sorted.
 *
 * @example
 * stratifiedSplit([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], { testFraction: 0.2, seed: 0 });
 * // returns { train: [8 indices], test: [one of 0..4, one of 5..9] }
 */
export function stratifiedSplit(labels: readonly number[], options: { testFraction?: number; seed: number }): Split {
  const frac = options.testFraction ?? 0.2;
  if (!(frac >= 0 && frac <= 1)) throw new Error(`stratifiedSplit: testFraction must be in [0, 1], got ${frac}`);
  const rng = new Rng(options.seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    if (!Number.isFinite(label)) throw new Error(`stratifiedSplit: label of index ${i} must be a finite number, got ${label}`);
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(cls)!);
    const nTest = Math.round(members.length * frac);
    test.push(...members.slice(0, nTest));
    train.push(...members.slice(nTest));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/**
 * The paper's split: a stratified 80/20 split into train-val and test, then the train-val part split
 * 80/20 again into train and val (fractions adjustable), all seeded.
 *
 * @example
 * const { train, val, test } = paperSplit(dataset.labels, { seed: 0 }); // about 64% / 16% / 20%
 */
export function paperSplit(
  labels: readonly number[],
  options: { seed: number; testFraction?: number; valFraction?: number },
): ThreeWaySplit {
  const outer = stratifiedSplit(labels, { testFraction: options.testFraction ?? 0.2, seed: options.seed });
  const inner = stratifiedSplit(
    outer.train.map((i) => labels[i]),
    { testFraction: options.valFraction ?? 0.2, seed: options.seed + 1 },
  );
  return { train: inner.train.map((j) => outer.train[j]), val: inner.test.map((j) => outer.train[j]), test: outer.test };
}
