import { parseCsv } from '../../utils/csv';
import type { ManifestRow } from '../manifest';
import { assignGroupedSplits, dropMissing, readText, type AdapterOptions, type AdapterResult } from './common';

/** Options of {@link mrnetManifest}. */
export interface MrnetOptions extends AdapterOptions {
  /** Which label: `'meniscus'` (the paper's task), `'acl'` or `'abnormal'`; default `'meniscus'`. */
  task?: 'meniscus' | 'acl' | 'abnormal';
  /** Which stack: `'sagittal'` (the paper's, T2), `'coronal'` or `'axial'`; default `'sagittal'`. */
  plane?: 'sagittal' | 'coronal' | 'axial';
}

/**
 * Builds a manifest of MRNet (Stanford knee MRI) as downloaded:
 *
 * ```
 * <root>/                       the unpacked MRNet-v1.0 folder
 *   train-meniscus.csv          "0000,0" per line, no header (likewise -acl, -abnormal)
 *   valid-meniscus.csv
 *   train/sagittal/0000.npy     uint8 [slices, 256, 256]
 *   valid/sagittal/1130.npy
 * ```
 *
 * As the paper: the official validation set is the test set; the training set is split 80/20
 * (stratified, seeded) into train and val. Ids are `train-0000`, `valid-1130`. Read the volumes
 * with `manifestDataset(m, { read: { spacing: [3, 0.5, 0.5] } })` or similar (`.npy` has no
 * geometry).
 *
 * @example
 * const { rows } = await mrnetManifest('/data/MRNet-v1.0');
 */
export async function mrnetManifest(root: string, options: MrnetOptions = {}): Promise<AdapterResult> {
  const task = options.task ?? 'meniscus';
  const plane = options.plane ?? 'sagittal';
  const rows: ManifestRow[] = [];
  const excluded: AdapterResult['excluded'] = [];
  for (const part of ['train', 'valid'] as const) {
    const file = `${root}/${part}-${task}.csv`;
    const table = parseCsv(`id,label\n${await readText(file, `MRNet ${part} labels`)}`, { source: file });
    table.rows.forEach((r, k) => {
      // The header line was added here, so file lines are one less than the table's.
      const where = `${file}:${table.rowLines[k] - 1}`;
      const id = r[0].trim();
      const label = Number(r[1].trim());
      if (!/^\d+$/.test(id)) throw new Error(`${where}: expected a numeric case id, got ${JSON.stringify(r[0])}`);
      if (label !== 0 && label !== 1) throw new Error(`${where}: case '${id}' has label ${JSON.stringify(r[1])}, expected 0 or 1`);
      const name = id.padStart(4, '0');
      rows.push({ id: `${part}-${name}`, path: `${root}/${part}/${plane}/${name}.npy`, label, where, ...(part === 'valid' ? { split: 'test' as const } : {}) });
    });
  }
  const kept = await dropMissing(rows, excluded, root, options.skipMissing ?? false);
  assignGroupedSplits(kept, kept.map((r) => r.id), options.seed ?? 0, false);
  return { rows: kept, excluded };
}
