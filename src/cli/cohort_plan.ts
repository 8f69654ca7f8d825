/**
 * The plan of a cohort run: which manifest rows this process predicts (its shard), the file each
 * case's result goes to, and which cases earlier runs already finished.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { parseManifest, SEQUENCE_PATH_PREFIX } from '../data/manifest';
import { parseCsv, requireColumns } from '../utils/csv';

/** One case to predict: a manifest row, its label optional. */
export interface CohortCase {
  /** Case id (unique in the manifest). */
  id: string;
  /** Volume path, resolved against the manifest's folder (a multi-sequence case's first sequence). */
  path: string;
  /** A multi-sequence case's paths by sequence name (the manifest's `path_<name>` columns). */
  paths?: Record<string, string>;
  /** Class label, when the manifest has a `label` column. */
  label?: number;
  /** 0-based row index in the manifest (after any split filter), for ordering merged results. */
  index: number;
  /** `'<manifest>:<line>'`, for messages. */
  where: string;
}

/** Options of {@link readCohortManifest}. */
export interface CohortManifestOptions {
  /** Labels, when present, must be integers in `[0, numClasses)` (default 2). */
  numClasses?: number;
  /** Keep only rows of this `split` ('train', 'val' or 'test'); needs a `split` column. */
  split?: string;
}

function joinPath(base: string, p: string): string {
  return nodePath.isAbsolute(p) ? p : nodePath.join(base, p);
}

/**
 * Reads a cohort manifest: the training manifest's CSV (`id, path, label`, optional `mask, fold,
 * split`; or one `path_<name>` column per sequence for a multi-sequence model), except that `label` may be missing (a cohort to predict need not be labelled). With a
 * `label` column every row is checked as {@link parseManifest} does; without one, ids must be
 * unique and non-empty and paths non-empty. Relative paths are resolved against the manifest's
 * folder.
 *
 * @example
 * const cases = await readCohortManifest('cases.csv', { split: 'test' });
 */
export async function readCohortManifest(file: string, options: CohortManifestOptions = {}): Promise<CohortCase[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read manifest '${file}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const base = nodePath.dirname(file);
  const table = parseCsv(text, { source: file });
  let rows: { id: string; path: string; paths?: Record<string, string>; label?: number; split?: string; where: string }[];
  if (table.header.includes('label')) {
    rows = parseManifest(text, file, { numClasses: options.numClasses, baseDir: base }).rows;
  } else {
    const sequenceColumns = table.header.map((h, i) => [h, i] as const).filter(([h]) => h.startsWith(SEQUENCE_PATH_PREFIX));
    requireColumns(table, sequenceColumns.length ? ['id'] : ['id', 'path'], file);
    const [ci, cp, cs] = ['id', 'path', 'split'].map((c) => table.header.indexOf(c));
    const seen = new Map<string, string>();
    rows = table.rows.map((r, k) => {
      const where = `${file}:${table.rowLines[k]}`;
      const id = r[ci].trim();
      if (!id) throw new Error(`${where}: empty id`);
      const paths: Record<string, string> = {};
      for (const [h, i] of sequenceColumns) {
        if (!r[i].trim()) throw new Error(`${where}: case '${id}' has an empty ${h}`);
        paths[h.slice(SEQUENCE_PATH_PREFIX.length)] = joinPath(base, r[i].trim());
      }
      const p = sequenceColumns.length ? Object.values(paths)[0] : r[cp].trim();
      if (!p) throw new Error(`${where}: case '${id}' has an empty path`);
      if (seen.has(id)) throw new Error(`${where}: duplicate id '${id}' (first on ${seen.get(id)})`);
      seen.set(id, where);
      const split = cs >= 0 ? r[cs].trim().toLowerCase() : '';
      return { id, path: joinPath(base, p), ...(sequenceColumns.length ? { paths } : {}), where, ...(split ? { split } : {}) };
    });
  }
  if (options.split !== undefined) {
    if (!table.header.includes('split')) throw new Error(`${file}: --split ${options.split} needs a 'split' column (columns: ${table.header.join(', ')})`);
    rows = rows.filter((r) => r.split === options.split);
  }
  return rows.map((r, index) => ({ id: r.id, path: r.path, ...(r.paths ? { paths: r.paths } : {}), ...(r.label !== undefined ? { label: r.label } : {}), index, where: r.where }));
}

/** A shard `k` of `n` (0 <= k < n). */
export interface Shard {
  k: number;
  n: number;
}

/**
 * Parses `--shard k/n`. `k` is 0-based, as Slurm's `SLURM_ARRAY_TASK_ID` with `--array=0-(n-1)`
 * and Kubernetes' `JOB_COMPLETION_INDEX`.
 *
 * @example
 * parseShard('2/8'); // returns { k: 2, n: 8 }
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && k < n)) {
    throw new Error(`--shard must be k/n with 0 <= k < n (k is 0-based, as SLURM_ARRAY_TASK_ID with --array=0-(n-1) or JOB_COMPLETION_INDEX), got '${text}'`);
  }
  return { k, n };
}

/**
 * The shard of a case: FNV-1a (32 bit) of its id's UTF-8 bytes, modulo `n`. It depends only on the
 * id and `n`, not on the manifest's row order, so reordering, filtering or appending rows never
 * moves a case to another shard; every case is in exactly one shard.
 *
 * @example
 * shardOfId('case-017', 4); // returns a number in 0..3, the same on every machine
 */
export function shardOfId(id: string, n: number): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(id)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}

// Ids kept as file names unchanged: a letter or digit first (no hidden files, '.', '..' or
// option-like names), then letters, digits, '.', '_' and '-', no trailing dot (Windows drops it).
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

/**
 * The file-name stem of a case's results: the id itself when it is a safe name, otherwise its safe
 * characters plus `@` and 16 hex digits of the id's SHA-256. Safe ids contain no `@`, so a changed
 * name never equals a kept one, and no stem contains a path separator or starts with a dot: an id
 * like `../../etc/passwd` becomes `etc_passwd@<hash>` inside the output folder.
 *
 * @example
 * caseFileStem('case-001');  // returns 'case-001'
 * caseFileStem('../x y');    // returns 'x_y@' + 16 hex digits
 */
export function caseFileStem(id: string): string {
  if (SAFE_ID.test(id) && !WINDOWS_RESERVED.test(id) && !id.endsWith('.')) return id;
  const readable = id
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 80);
  return `${readable || 'case'}@${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16)}`;
}

/**
 * File stems of all cases: {@link caseFileStem}, with a hash added to stems that differ only in
 * letter case (they would be one file on macOS and Windows file systems).
 */
export function caseFileStems(cases: readonly { id: string }[]): Map<string, string> {
  const stems = new Map(cases.map((c) => [c.id, caseFileStem(c.id)]));
  const byFolded = new Map<string, string[]>();
  for (const [id, stem] of stems) {
    const key = stem.toLowerCase();
    byFolded.set(key, [...(byFolded.get(key) ?? []), id]);
  }
  for (const ids of byFolded.values()) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      const stem = stems.get(id) as string;
      if (!stem.includes('@')) stems.set(id, `${stem}@${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16)}`);
    }
  }
  return stems;
}

/** Names of a case's files in the output folder. */
export interface CaseFiles {
  /** `<stem>.json`: the prediction (and slice attention). */
  json: string;
  /** `<stem>.saliency.nii.gz`: the saliency volume, with `--saliency`. */
  saliency: string;
}

/** The files of a case with stem `stem` under `outDir`. */
export function caseFiles(outDir: string, stem: string): CaseFiles {
  return { json: nodePath.join(outDir, `${stem}.json`), saliency: nodePath.join(outDir, `${stem}.saliency.nii.gz`) };
}

/** The summary file of a run: `_summary.json`, or `_summary.shard-k-of-n.json` (ids never start with `_`). */
export function summaryFile(outDir: string, shard?: Shard): string {
  return nodePath.join(outDir, shard ? `_summary.shard-${shard.k}-of-${shard.n}.json` : '_summary.json');
}
