import { Rng } from '../utils/rng';
import { parseCsv, requireColumns } from '../utils/csv';
import type { ReadVolumeOptions } from '../io/read_volume';
import type { Volume } from '../io/volume';
import { CaseError } from './case_error';
import type { VolumeDataset } from './dataset';
import { checkIndex } from './dataset';
import type { Shape3, VolumeSample } from './sample';
import { checkSequenceInputs, combineSequences, type SequenceInputs } from './sequences';
import { paperSplit, type ThreeWaySplit } from './split';
import type { Transform } from './transform';

/** One case of a manifest. */
export interface ManifestRow {
  /** Unique case id. */
  id: string;
  /**
   * Volume path (absolute, or resolved against the manifest's folder on read); in a multi-sequence
   * manifest the first sequence's path.
   */
  path: string;
  /** A multi-sequence case's paths by sequence name (`path_pre` -> `pre`), in the manifest's column order. */
  paths?: Record<string, string>;
  /** Class index in `[0, numClasses)`. */
  label: number;
  /** Optional lesion mask volume path. */
  mask?: string;
  /** Optional cross-validation fold. */
  fold?: number;
  /** Optional split: `'train'`, `'val'` or `'test'`. */
  split?: 'train' | 'val' | 'test';
  /** `'<manifest file>:<line>'`, for error messages. */
  where: string;
}

/** A manifest: its rows and where it came from. */
export interface Manifest {
  /** The manifest file (or a description). */
  source: string;
  /** The cases, in file order. */
  rows: ManifestRow[];
  /** Number of classes labels were checked against. */
  numClasses: number;
  /** Sequence names of a multi-sequence manifest (its `path_<name>` columns, in order); absent for one path per case. */
  sequences?: string[];
}

/** Options of {@link parseManifest} and {@link readManifest}. */
export interface ManifestOptions {
  /** Labels must be integers in `[0, numClasses)`; default 2. */
  numClasses?: number;
  /** Folder relative paths are resolved against (default: the manifest's folder, or none). */
  baseDir?: string;
}

const SPLITS = new Set(['train', 'val', 'test']);

function joinPath(base: string | undefined, p: string): string {
  if (!base || p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return p;
  return `${base.replace(/[\\/]+$/, '')}/${p}`;
}

/** The manifest column of a sequence's paths: `path_<name>`. */
export const SEQUENCE_PATH_PREFIX = 'path_';

/**
 * Parses manifest CSV text with columns `id, path, label` and optional `mask, fold, split` (other
 * columns are ignored). A multi-sequence manifest has one path column per sequence instead of
 * `path`: `path_<name>` (`path_pre, path_post`; `path_t1, path_t2`), names of letters, digits and
 * `_`; the first is the sequence whose grid the others are registered onto. Every problem is an
 * error naming the source, line and field: a missing column, an empty id or path, a duplicate id,
 * a label that is not an integer class, a bad fold or split.
 *
 * @example
 * const m = parseManifest('id,path,label,split\na,a.nii.gz,1,train\n', 'cases.csv', { baseDir: '/data' });
 * m.rows[0].path; // returns '/data/a.nii.gz'
 * parseManifest('id,path_pre,path_post,label\na,a/pre.nii.gz,a/post.nii.gz,1\n').sequences; // ['pre', 'post']
 */
export function parseManifest(text: string, source = 'manifest', options: ManifestOptions = {}): Manifest {
  const numClasses = options.numClasses ?? 2;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`parseManifest: numClasses must be a positive integer, got ${numClasses}`);
  const table = parseCsv(text, { source });
  const sequenceColumns = table.header.map((h, i) => [h, i] as const).filter(([h]) => h.startsWith(SEQUENCE_PATH_PREFIX));
  const sequences = sequenceColumns.map(([h]) => h.slice(SEQUENCE_PATH_PREFIX.length));
  if (sequences.length) {
    if (table.header.includes('path')) throw new Error(`${source}: give one path column (path) or one per sequence (${sequenceColumns.map(([h]) => h).join(', ')}), not both`);
    sequences.forEach((name, k) => {
      if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) throw new Error(`${source}: column '${sequenceColumns[k][0]}': a sequence name is letters, digits and '_', starting with a letter`);
    });
    requireColumns(table, ['id', 'label'], source);
  } else requireColumns(table, ['id', 'path', 'label'], source);
  const col = (name: string): number => table.header.indexOf(name);
  const [ci, cp, cl, cm, cf, cs] = ['id', 'path', 'label', 'mask', 'fold', 'split'].map(col);
  const seen = new Map<string, string>();
  const rows = table.rows.map((r, k): ManifestRow => {
    const where = `${source}:${table.rowLines[k]}`;
    const id = r[ci].trim();
    if (!id) throw new Error(`${where}: empty id`);
    let paths: Record<string, string> | undefined;
    if (sequences.length) {
      paths = {};
      for (const [h, i] of sequenceColumns) {
        const p = r[i].trim();
        if (!p) throw new Error(`${where}: case '${id}' has an empty ${h}`);
        paths[h.slice(SEQUENCE_PATH_PREFIX.length)] = joinPath(options.baseDir, p);
      }
    }
    const path = paths ? paths[sequences[0]] : r[cp].trim();
    if (!path) throw new Error(`${where}: case '${id}' has an empty path`);
    if (seen.has(id)) throw new Error(`${where}: duplicate id '${id}' (first on ${seen.get(id)})`);
    seen.set(id, where);
    const labelText = r[cl].trim();
    const label = Number(labelText);
    if (labelText === '' || !Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new Error(`${where}: case '${id}' has label ${JSON.stringify(r[cl])}, expected an integer class in [0, ${numClasses})`);
    }
    const row: ManifestRow = { id, path: paths ? path : joinPath(options.baseDir, path), label, where };
    if (paths) row.paths = paths;
    if (cm >= 0 && r[cm].trim()) row.mask = joinPath(options.baseDir, r[cm].trim());
    if (cf >= 0 && r[cf].trim()) {
      const fold = Number(r[cf].trim());
      if (!Number.isInteger(fold) || fold < 0) throw new Error(`${where}: case '${id}' has fold ${JSON.stringify(r[cf])}, expected a non-negative integer`);
      row.fold = fold;
    }
    if (cs >= 0 && r[cs].trim()) {
      const split = r[cs].trim().toLowerCase();
      if (!SPLITS.has(split)) throw new Error(`${where}: case '${id}' has split ${JSON.stringify(r[cs])}, expected train, val or test`);
      row.split = split as ManifestRow['split'];
    }
    return row;
  });
  return { source, rows, numClasses, ...(sequences.length ? { sequences } : {}) };
}

/**
 * Reads a manifest CSV file; relative paths are resolved against its folder.
 *
 * @example
 * const m = await readManifest('data/duke/manifest.csv');
 * const ds = manifestDataset(m);
 */
export async function readManifest(file: string, options: ManifestOptions = {}): Promise<Manifest> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read manifest '${file}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return parseManifest(text, file, { ...options, baseDir: options.baseDir ?? nodePath.dirname(file) });
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Manifest rows as CSV text (`id,path,label,mask,fold,split`; rows with `paths` write one
 * `path_<name>` column per sequence instead of `path`), paths written as given.
 *
 * @example
 * await fs.writeFile('manifest.csv', formatManifest(rows));
 */
export function formatManifest(rows: readonly Omit<ManifestRow, 'where'>[]): string {
  const sequences = rows[0]?.paths ? Object.keys(rows[0].paths) : [];
  for (const r of rows) {
    const names = r.paths ? Object.keys(r.paths) : [];
    if (names.join() !== sequences.join()) throw new Error(`formatManifest: case '${r.id}' has sequences [${names.join(', ')}], the first case [${sequences.join(', ')}]`);
  }
  const pathColumns = sequences.length ? sequences.map((n) => `${SEQUENCE_PATH_PREFIX}${n}`) : ['path'];
  const lines = [['id', ...pathColumns, 'label', 'mask', 'fold', 'split'].join(',')];
  for (const r of rows) {
    const paths = r.paths ? sequences.map((n) => (r.paths as Record<string, string>)[n]) : [r.path];
    lines.push([r.id, ...paths, String(r.label), r.mask ?? '', r.fold === undefined ? '' : String(r.fold), r.split ?? ''].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Checks that every volume and mask file of a manifest exists; the error lists up to 10 missing
 * files with their manifest lines.
 */
export async function checkManifestFiles(manifest: Manifest): Promise<void> {
  const fs = await import('node:fs/promises');
  const missing: string[] = [];
  for (const row of manifest.rows) {
    for (const p of [...(row.paths ? Object.values(row.paths) : [row.path]), row.mask]) {
      if (p === undefined) continue;
      try {
        await fs.stat(p);
      } catch {
        missing.push(`${row.where}: case '${row.id}': '${p}' does not exist`);
      }
    }
  }
  if (missing.length) throw new Error(`${manifest.source}: ${missing.length} missing file(s):\n${missing.slice(0, 10).join('\n')}${missing.length > 10 ? '\n...' : ''}`);
}

/**
 * The train/val/test indices of a manifest: from its `split` column where every row has one,
 * otherwise the paper's stratified 80/20 then 80/20 split with `seed`.
 *
 * @example
 * const { train, val, test } = manifestSplits(m, 0);
 */
export function manifestSplits(manifest: Manifest, seed: number): ThreeWaySplit {
  if (manifest.rows.length > 0 && manifest.rows.every((r) => r.split)) {
    const out: ThreeWaySplit = { train: [], val: [], test: [] };
    manifest.rows.forEach((r, i) => out[r.split!].push(i));
    return out;
  }
  return paperSplit(
    manifest.rows.map((r) => r.label),
    { seed },
  );
}

/** Options of {@link manifestDataset}. */
export interface ManifestDatasetOptions {
  /** Reader options (e.g. `spacing` for `.npy`, `volume` for 4D NIfTI). */
  read?: ReadVolumeOptions;
  /**
   * A multi-sequence manifest's channels: which sequences (its `path_<name>` columns), how they
   * are registered and which channels are made of them (default: every sequence as a channel,
   * registered onto the first one's grid).
   */
  inputs?: SequenceInputs;
  /** Preprocessing and augmentation applied after reading, fed by the `rng` given to `get`. */
  transform?: Transform;
  /** Seed of the per-index generator used when `get` gets none; default 0. */
  seed?: number;
}

/**
 * A dataset over a manifest: `get(i)` reads row `i`'s volume (and mask) with {@link readVolume}
 * and applies the transform; a multi-sequence row's scans are registered onto the first one's grid
 * and made into channels (`options.inputs`, see `combineSequences`), the mask lying on that grid. A case that cannot be read (missing or corrupt file, NaN voxels, a
 * mask of another shape) throws a {@link CaseError} naming the case, the manifest line and the
 * cause, so a training loop can skip and count it.
 *
 * @example
 * const ds = manifestDataset(await readManifest('mrnet/manifest.csv'), { read: { spacing: [3, 0.5, 0.5] } });
 */
export function manifestDataset(manifest: Manifest, options: ManifestDatasetOptions = {}): VolumeDataset {
  const rows = manifest.rows;
  const inputs = manifestInputs(manifest, options.inputs);
  return {
    length: rows.length,
    labels: rows.map((r) => r.label),
    ids: rows.map((r) => r.id),
    get: async (index: number, rng?: Rng): Promise<VolumeSample> => {
      checkIndex('manifestDataset.get', index, rows.length);
      const row = rows[index];
      let sample: VolumeSample;
      try {
        // Loaded lazily: the readers pull in tfjs (through npy), the rest of mst-ts/data does not.
        const { readVolume } = await import('../io/read_volume');
        let v: Volume;
        if (inputs) {
          const paths = row.paths as Record<string, string>;
          const scans: Record<string, Volume> = {};
          for (const name of inputs.names) scans[name] = await readVolume(paths[name], options.read);
          v = combineSequences(scans, inputs);
        } else v = await readVolume(row.path, options.read);
        sample = { id: row.id, data: v.data, shape: v.shape as Shape3, spacing: v.spacing as Shape3, label: row.label, ...(v.channels && v.channels > 1 ? { channels: v.channels } : {}) };
        if (row.mask) {
          const m = await readVolume(row.mask, options.read);
          if (m.shape.some((n, a) => n !== v.shape[a])) {
            throw new Error(`mask '${row.mask}' has shape [${m.shape.join(', ')}], the volume [${v.shape.join(', ')}]`);
          }
          sample.mask = Uint8Array.from(m.data, (x) => (x > 0.5 ? 1 : 0));
        }
        if (options.transform) sample = options.transform.apply(sample, rng ?? new Rng((options.seed ?? 0) + index));
      } catch (e) {
        throw new CaseError(`${row.where}: case '${row.id}': ${(e as Error).message}`, row.id, row.where);
      }
      return sample;
    },
  };
}

/**
 * The sequence inputs a manifest is read with: none for one path per case; for `path_<name>`
 * columns the given ones (checked against the columns) or every sequence as a channel.
 */
export function manifestInputs(manifest: Manifest, inputs: SequenceInputs | undefined): SequenceInputs | undefined {
  const sequences = manifest.sequences;
  if (!sequences) {
    if (inputs) throw new Error(`${manifest.source}: the model takes the sequences ${inputs.names.join(', ')}; give them as columns ${inputs.names.map((n) => `${SEQUENCE_PATH_PREFIX}${n}`).join(', ')} instead of path`);
    return undefined;
  }
  if (!inputs) return { names: [...sequences], channels: sequences.map((sequence) => ({ sequence })) };
  checkSequenceInputs(inputs);
  const missing = inputs.names.filter((n) => !sequences.includes(n));
  if (missing.length) throw new Error(`${manifest.source}: no column ${missing.map((n) => `${SEQUENCE_PATH_PREFIX}${n}`).join(', ')} for the sequences ${inputs.names.join(', ')} (columns: ${sequences.map((n) => `${SEQUENCE_PATH_PREFIX}${n}`).join(', ')})`);
  return inputs;
}
