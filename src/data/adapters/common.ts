import type { ManifestRow } from '../manifest';
import { groupedStratifiedSplit } from '../split';

/** Options every adapter shares. */
export interface AdapterOptions {
  /** Seed of the train/val(/test) split; default 0. */
  seed?: number;
  /** Leave out cases whose files are missing (listed in the result) instead of failing; default false. */
  skipMissing?: boolean;
}

/** An adapter's result: manifest rows (paths absolute) and the cases it left out, with reasons. */
export interface AdapterResult {
  /** Manifest rows, ready for `formatManifest` or `manifestDataset({ source, rows, numClasses: 2 })`. */
  rows: ManifestRow[];
  /** Cases not in `rows`, with the reason (missing file, excluded label). */
  excluded: { id: string; reason: string }[];
}

/** Whether a path exists (Node). */
export async function exists(path: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a text file, with an error naming it and what it is for. */
export async function readText(path: string, what: string): Promise<string> {
  const fs = await import('node:fs/promises');
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    throw new Error(`cannot read ${what} '${path}': no such file`);
  }
}

/**
 * Splits rows by group (patient) as the authors: a stratified, grouped 80/20 split into train-val
 * and test, then 80/20 of train-val into train and val. Rows that already have a split keep it and
 * are left out of the split (e.g. MRNet's official validation set as test).
 */
export function assignGroupedSplits(rows: ManifestRow[], groups: readonly string[], seed: number, withTest: boolean): void {
  const free = rows.map((r, i) => i).filter((i) => !rows[i].split);
  const labels = free.map((i) => rows[i].label);
  const g = free.map((i) => groups[i]);
  let trainVal = free.map((_, k) => k);
  if (withTest) {
    const outer = groupedStratifiedSplit(labels, g, { testFraction: 0.2, seed });
    for (const k of outer.test) rows[free[k]].split = 'test';
    trainVal = outer.train;
  }
  const inner = groupedStratifiedSplit(
    trainVal.map((k) => labels[k]),
    trainVal.map((k) => g[k]),
    { testFraction: 0.2, seed: seed + 1 },
  );
  for (const j of inner.test) rows[free[trainVal[j]]].split = 'val';
  for (const j of inner.train) rows[free[trainVal[j]]].split = 'train';
}

/** Throws (or records, with `skipMissing`) when a row's files do not exist. */
export async function dropMissing(rows: ManifestRow[], excluded: AdapterResult['excluded'], source: string, skipMissing: boolean): Promise<ManifestRow[]> {
  const kept: ManifestRow[] = [];
  const missing: string[] = [];
  for (const row of rows) {
    const gone = [...(row.paths ? Object.values(row.paths) : [row.path]), row.mask].filter((p): p is string => p !== undefined);
    const absent: string[] = [];
    for (const p of gone) if (!(await exists(p))) absent.push(p);
    if (absent.length === 0) kept.push(row);
    else {
      missing.push(`${row.where}: case '${row.id}': ${absent.map((p) => `'${p}'`).join(', ')} missing`);
      excluded.push({ id: row.id, reason: `missing ${absent.join(', ')}` });
    }
  }
  if (missing.length && !skipMissing) {
    throw new Error(`${source}: ${missing.length} case(s) have missing files (pass skipMissing to leave them out):\n${missing.slice(0, 10).join('\n')}${missing.length > 10 ? '\n...' : ''}`);
  }
  return kept;
}
