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

/**
 * A stratified split that keeps every group (e.g. a patient's cases) on one side: groups are
 * visited in seeded random order and each goes to `test` when that brings the per-class test
 * counts closer (in relative terms) to `round(count * testFraction)`, otherwise to `train`. Both lists are sorted.
 *
 * @example
 * groupedStratifiedSplit(labels, patientIds, { testFraction: 0.2, seed: 0 });
 */
export function groupedStratifiedSplit(labels: readonly number[], groups: readonly string[], options: { testFraction?: number; seed: number }): Split {
  if (groups.length !== labels.length) throw new Error(`groupedStratifiedSplit: expected ${labels.length} groups (one per label), got ${groups.length}`);
  const frac = options.testFraction ?? 0.2;
  if (!(frac >= 0 && frac <= 1)) throw new Error(`groupedStratifiedSplit: testFraction must be in [0, 1], got ${frac}`);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => members.set(g, [...(members.get(g) ?? []), i]));
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const target = new Map(classes.map((c) => [c, Math.round(labels.filter((l) => l === c).length * frac)]));
  const have = new Map(classes.map((c) => [c, 0]));
  // Relative error per class, so a rare class is not starved by a common one filling up first.
  const cost = (extra: Map<number, number>): number =>
    classes.reduce((s, c) => s + Math.abs(have.get(c)! + (extra.get(c) ?? 0) - target.get(c)!) / Math.max(1, target.get(c)!), 0);
  const train: number[] = [];
  const test: number[] = [];
  const order = new Rng(options.seed).shuffle([...members.keys()].sort());
  for (const g of order) {
    const idx = members.get(g)!;
    const add = new Map<number, number>();
    for (const i of idx) add.set(labels[i], (add.get(labels[i]) ?? 0) + 1);
    if (cost(add) < cost(new Map())) {
      test.push(...idx);
      for (const [c, n] of add) have.set(c, have.get(c)! + n);
    } else train.push(...idx);
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
