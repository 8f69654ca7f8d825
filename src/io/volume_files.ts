/**
 * Reading a volume from files a user picked or dropped in a browser (`<input type=file>`, a
 * dropped folder): one NIfTI file, or the files of a DICOM series. Works on bytes only, so it runs
 * in a page, a Web Worker and Node alike.
 */
import { isDicomImage, parseDicom, stackDicomHeaders, type DicomReadOptions } from './dicom';
import { isGzip, parseNifti, type NiftiReadOptions } from './nifti';
import type { Volume } from './volume';

/** What a reader of picked files needs of a `File`: its name and bytes. */
export interface NamedBytesFile {
  readonly name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A picked file; `webkitRelativePath` (folder uploads) or `path` names it inside its folder. */
export interface PickedFile extends NamedBytesFile {
  readonly webkitRelativePath?: string;
  readonly path?: string;
}

/** Options of {@link readVolumeFromFiles}. */
export interface VolumeFilesOptions extends NiftiReadOptions, DicomReadOptions {}

function displayName(f: PickedFile): string {
  return f.webkitRelativePath || f.path || f.name;
}

function looksLikeDicom(bytes: Uint8Array, name: string): boolean {
  const magic = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  return magic || /\.dcm$/i.test(name);
}

function looksLikeNifti(bytes: Uint8Array, name: string): boolean {
  if (/\.nii(\.gz)?$/i.test(name)) return true;
  if (isGzip(bytes)) return true;
  if (bytes.length < 348) return false;
  // sizeof_hdr is 348 (NIfTI-1) or 540 (NIfTI-2), in either byte order.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [348, 540].some((n) => view.getInt32(0, true) === n || view.getInt32(0, false) === n);
}

/**
 * Reads one volume from picked files: a single NIfTI file (`.nii`, `.nii.gz`), or DICOM files
 * (a dropped folder, any number of `.dcm` or DICOM Part 10 files) grouped by SeriesInstanceUID,
 * the largest series (or `seriesInstanceUid`; one `phase` of a series that holds several) stacked as
 * {@link dicomImagesToVolume} does.
 * Other files in a folder (DICOMDIR, notes) are skipped. Errors name the file and what is wrong.
 *
 * @example
 * input.onchange = async () => { const volume = await readVolumeFromFiles(input.files!); };
 */
export async function readVolumeFromFiles(files: ArrayLike<PickedFile> | Iterable<PickedFile>, options: VolumeFilesOptions = {}): Promise<Volume> {
  const list = Array.from(files as ArrayLike<PickedFile>);
  if (list.length === 0) throw new Error('readVolumeFromFiles: no files given; pick a NIfTI file (.nii, .nii.gz) or the files of a DICOM series');
  const loaded: { name: string; bytes: Uint8Array }[] = [];
  for (const f of list) loaded.push({ name: displayName(f), bytes: new Uint8Array(await f.arrayBuffer()) });
  const dicoms = loaded.filter((f) => looksLikeDicom(f.bytes, f.name));
  if (dicoms.length === 0) {
    const niftis = loaded.filter((f) => looksLikeNifti(f.bytes, f.name));
    if (niftis.length === 1) return parseNifti(niftis[0].bytes, niftis[0].name, options);
    if (niftis.length > 1) throw new Error(`readVolumeFromFiles: expected one NIfTI file, got ${niftis.length} (${niftis.map((f) => f.name).join(', ')})`);
    throw new Error(
      `readVolumeFromFiles: ${loaded.map((f) => `'${f.name}'`).join(', ')} ${loaded.length === 1 ? 'is' : 'are'} neither NIfTI (.nii, .nii.gz) nor DICOM; expected a NIfTI file or the files of a DICOM series`,
    );
  }
  return dicomSeriesFromBytes(dicoms, options);
}

async function dicomSeriesFromBytes(files: { name: string; bytes: Uint8Array }[], options: DicomReadOptions): Promise<Volume> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const items = sorted.map((f) => ({ header: parseDicom(f.bytes, f.name, { pixels: false }), item: f })).filter(({ header }) => isDicomImage(header));
  const source = commonFolder(files.map((f) => f.name));
  if (items.length === 0) throw new Error(`${source}: no DICOM images among ${files.length} DICOM files (${files.length} without pixel data, e.g. DICOMDIR)`);
  const bytes = new Map(sorted.map((f) => [f.name, f.bytes]));
  return stackDicomHeaders(
    items.map(({ header }) => header),
    source,
    options,
    async (name) => bytes.get(name)!,
  );
}

/** The folder the files share (`case1/` for `case1/a.dcm`, `case1/b.dcm`), else a count. */
function commonFolder(names: string[]): string {
  const dirs = names.map((n) => (n.includes('/') ? n.slice(0, n.lastIndexOf('/') + 1) : ''));
  if (dirs[0] && dirs.every((d) => d === dirs[0])) return dirs[0];
  return names.length === 1 ? names[0] : `DICOM series (${names.length} files)`;
}
