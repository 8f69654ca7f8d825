import { csvColumn, parseCsv, requireColumns } from '../../utils/csv';
import type { ManifestRow } from '../manifest';
import { assignGroupedSplits, dropMissing, readText, type AdapterOptions, type AdapterResult } from './common';

/** Options of {@link dukeManifest}. */
export interface DukeOptions extends AdapterOptions {
  /** The clinical table as CSV; default `<root>/clinical.csv`. */
  clinical?: string;
  /**
   * What each breast's folder holds: `'subtraction'` (default), the paper's `sub.nii.gz`; or
   * `'phases'`, the two phases `pre.nii.gz` and `post.nii.gz` (`prepareDukeBreasts({ phases: true })`),
   * as rows with `paths: { pre, post }` whose subtraction the library makes (the `duke-phases`
   * preprocessing, or `mst-ts train --manifest ... --channels post-pre`).
   */
  input?: 'subtraction' | 'phases';
}

/**
 * Builds a manifest of Duke-Breast-Cancer-MRI with one case per breast, as the paper:
 *
 * ```
 * <root>/clinical.csv     the three needed columns of Clinical_and_Other_Features.xlsx saved as
 *                         CSV: PatientID (Breast_MRI_001), Location (tumour side, L or R) and
 *                         Bilateral (1 bilateral, 0 unilateral, NC not cancer); extra columns
 *                         are ignored
 * <root>/data/Breast_MRI_001_left/sub.nii.gz    per-breast subtraction image (first
 * <root>/data/Breast_MRI_001_right/sub.nii.gz   post-contrast minus pre-contrast), cropped to
 *                                               one breast, 224 x 224 x 32 at 0.7 x 0.7 x 3 mm
 * <root>/data/Breast_MRI_001_left/pre.nii.gz    or, with `input: 'phases'`, the two phases
 * <root>/data/Breast_MRI_001_left/post.nii.gz   cropped alike, subtracted by the library
 * ```
 *
 * `prepareDukeBreasts` writes these folders from a patient's pre- and post-contrast series.
 *
 * A breast is positive when the tumour is on its side or the cancer is bilateral; patients marked
 * NC are left out. Splits are stratified and grouped by patient. Ids are `001_left`, `001_right`.
 *
 * @example
 * const { rows } = await dukeManifest('/data/Duke-Breast-Cancer-MRI/preprocessed_crop');
 */
export async function dukeManifest(root: string, options: DukeOptions = {}): Promise<AdapterResult> {
  const input = options.input ?? 'subtraction';
  if (input !== 'subtraction' && input !== 'phases') throw new Error(`dukeManifest: input must be 'subtraction' or 'phases', got '${String(input)}'`);
  const file = options.clinical ?? `${root}/clinical.csv`;
  const table = parseCsv(await readText(file, 'DUKE clinical table'), { source: file });
  requireColumns(table, ['PatientID', 'Location', 'Bilateral'], file);
  const ids = csvColumn(table, 'PatientID', file);
  const location = csvColumn(table, 'Location', file);
  const bilateral = csvColumn(table, 'Bilateral', file);
  const rows: ManifestRow[] = [];
  const groups: string[] = [];
  const excluded: AdapterResult['excluded'] = [];
  ids.forEach((pid, k) => {
    const where = `${file}:${table.rowLines[k]}`;
    const m = /(\d+)\s*$/.exec(pid.trim());
    if (!m) throw new Error(`${where}: PatientID must end in a number (e.g. Breast_MRI_001), got ${JSON.stringify(pid)}`);
    const num = m[1].padStart(3, '0');
    const bi = bilateral[k].trim().toUpperCase();
    if (bi === 'NC') {
      excluded.push({ id: num, reason: 'Bilateral is NC' });
      return;
    }
    if (bi !== '0' && bi !== '1') throw new Error(`${where}: Bilateral must be 0, 1 or NC, got ${JSON.stringify(bilateral[k])}`);
    const loc = location[k].trim().toUpperCase();
    if (loc !== 'L' && loc !== 'R') throw new Error(`${where}: Location must be L or R, got ${JSON.stringify(location[k])}`);
    for (const side of ['left', 'right'] as const) {
      const uid = `${num}_${side}`;
      const dir = `${root}/data/Breast_MRI_${uid}`;
      const label = loc === side[0].toUpperCase() || bi === '1' ? 1 : 0;
      if (input === 'phases') rows.push({ id: uid, path: `${dir}/pre.nii.gz`, paths: { pre: `${dir}/pre.nii.gz`, post: `${dir}/post.nii.gz` }, label, where });
      else rows.push({ id: uid, path: `${dir}/sub.nii.gz`, label, where });
      groups.push(num);
    }
  });
  const kept = await dropMissing(rows, excluded, file, options.skipMissing ?? false);
  const keptGroups = kept.map((r) => groups[rows.indexOf(r)]);
  assignGroupedSplits(kept, keptGroups, options.seed ?? 0, true);
  return { rows: kept, excluded };
}
