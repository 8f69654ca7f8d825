/**
 * A saliency volume as a DICOM series that a PACS viewer overlays on the scan it explains: one
 * Secondary Capture image per slice (derived, modality OT), 16-bit with Rescale Slope/Intercept
 * carrying the float values, in the source series' study and Frame of Reference, each slice with
 * its Image Position and Orientation (Patient), Pixel Spacing and a reference to its source image.
 * Encoded as Explicit VR Little Endian Part 10 files, from bytes only (Node, a page, a worker).
 *
 * What is copied from the source: Study Instance UID and Frame of Reference UID (they tie the
 * series to the scan, so a viewer lists it in the study and overlays it), the source images' SOP
 * UIDs (Source Image Sequence). De-identified by default: no patient name, ID, birth date or sex,
 * accession number, study date, time or ID and no physician are copied unless `copyPatient`; the
 * Type 2 ones are written empty.
 *
 * New UIDs (series, instances) are `2.25.<n>`, `n` a 128-bit integer (the ISO/IEC 9834-8 form)
 * from SHA-256 of the UID seed, the source Series Instance UID and the instance's role, so a given
 * seed always gives the same UIDs (and bytes); without a seed it is random, so every export is
 * new. With `uidRoot` (your organisation's root) UIDs are `<root>.<n>` with `n` from the same
 * digest, cut to fit 64 characters.
 */
import { inflateSync } from 'fflate';
import { sha256 } from '../utils/sha256';
import { writeFileAtomic } from './files';
import type { Affine } from './volume';
import { concatBytes } from '../utils/bytes';

/** Secondary Capture Image Storage. */
export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_VERSION = 'MST_TS_0_1';

/** What a saliency series takes from the series it explains (read with {@link readDicomSourceInfo}). */
export interface DicomSourceInfo {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  modality?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Patient and study identifiers, copied only with `copyPatient`. */
  patient?: {
    patientName?: string;
    patientId?: string;
    patientBirthDate?: string;
    patientSex?: string;
    accessionNumber?: string;
    studyDate?: string;
    studyTime?: string;
    studyId?: string;
    referringPhysicianName?: string;
  };
  /**
   * The source images in the volume's slice order (`d` = 0, 1, ...): their SOP UIDs, referenced
   * per slice, and Image Position (Patient), used per slice where present so each written image
   * sits exactly on its source image even where slice spacing varies.
   */
  slices?: { sopClassUid: string; sopInstanceUid: string; position?: [number, number, number] }[];
}

/** Options of {@link saliencyDicomSeries}. */
export interface SaliencyDicomOptions {
  /** Series Description (default 'mst-ts saliency'). */
  description?: string;
  /** Series Number (default the source's plus 1000, else 1000). */
  seriesNumber?: number;
  /** Seed of the new UIDs: the same seed gives the same UIDs and bytes (default random). */
  uidSeed?: string | number;
  /** An organisation UID root for the new UIDs instead of `2.25` (digits and dots, at most 40 characters). */
  uidRoot?: string;
  /** Copy the patient and study identifiers of `source.patient` (default false: de-identified). */
  copyPatient?: boolean;
}

/** One written file. */
export interface DicomFile {
  name: string;
  bytes: Uint8Array;
}

// ---- encoding ----

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const text = new TextEncoder();

interface El {
  tag: number;
  vr: string;
  value: Uint8Array;
}

function padded(bytes: Uint8Array, pad: number): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

function str(tag: number, vr: string, value: string): El {
  return { tag, vr, value: padded(text.encode(value), vr === 'UI' ? 0 : 0x20) };
}

function us(tag: number, value: number): El {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return { tag, vr: 'US', value: b };
}

/** A decimal string of at most 16 characters (DICOM's DS), as precise as that allows. */
export function decimalString(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`decimalString: ${x} is not a finite number`);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  for (let p = 15; p >= 1; p--) {
    const s = Number(x.toPrecision(p)).toString();
    if (s.length <= 16) return s;
    const e = x.toExponential(p - 1).replace(/\.?0+e/, 'e');
    if (e.length <= 16) return e;
  }
  throw new Error(`decimalString: ${x} does not fit 16 characters`);
}

function ds(tag: number, values: number[]): El {
  return str(tag, 'DS', values.map(decimalString).join('\\'));
}

function encodeElements(els: El[]): Uint8Array {
  const sorted = [...els].sort((a, b) => a.tag - b.tag);
  const parts: Uint8Array[] = [];
  for (const el of sorted) {
    const long = LONG_VRS.has(el.vr);
    const head = new Uint8Array(long ? 12 : 8);
    const v = new DataView(head.buffer);
    v.setUint16(0, el.tag >>> 16, true);
    v.setUint16(2, el.tag & 0xffff, true);
    head[4] = el.vr.charCodeAt(0);
    head[5] = el.vr.charCodeAt(1);
    if (long) v.setUint32(8, el.value.length, true);
    else {
      if (el.value.length > 0xffff) throw new Error(`DICOM element (${(el.tag >>> 16).toString(16)},${(el.tag & 0xffff).toString(16)}) ${el.vr} is too long (${el.value.length} bytes)`);
      v.setUint16(6, el.value.length, true);
    }
    parts.push(head, el.value);
  }
  return concatBytes(...parts);
}

/** A sequence of items, each a list of elements, with explicit lengths. */
function sequence(tag: number, items: El[][]): El {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const body = encodeElements(item);
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint16(0, 0xfffe, true);
    v.setUint16(2, 0xe000, true);
    v.setUint32(4, body.length, true);
    parts.push(head, body);
  }
  return { tag, vr: 'SQ', value: concatBytes(...parts) };
}

function part10(sopClassUid: string, sopInstanceUid: string, dataset: El[]): Uint8Array {
  const meta = encodeElements([
    { tag: 0x00020001, vr: 'OB', value: Uint8Array.from([0, 1]) },
    str(0x00020002, 'UI', sopClassUid),
    str(0x00020003, 'UI', sopInstanceUid),
    str(0x00020010, 'UI', EXPLICIT_LE),
    str(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID),
    str(0x00020013, 'SH', IMPLEMENTATION_VERSION),
  ]);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, meta.length, true);
  const preamble = new Uint8Array(132);
  preamble.set(text.encode('DICM'), 128);
  return concatBytes(preamble, encodeElements([{ tag: 0x00020000, vr: 'UL', value: groupLength }]), meta, encodeElements(dataset));
}

// ---- UIDs ----

function digestInteger(parts: string[], bytes: number): bigint {
  const d = sha256(parts.join('\u0000'));
  let n = 0n;
  for (let i = 0; i < bytes; i++) n = (n << 8n) | BigInt(d[i]);
  return n;
}

/** mst-ts's Implementation Class UID, derived as the other UIDs are from a fixed name. */
const IMPLEMENTATION_CLASS_UID = `2.25.${digestInteger(['mst-ts', 'implementation class'], 16)}`;

function randomSeed(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * A new UID for `role` (`'series'`, `'instance 3'`) of a saliency series of `sourceSeries`: see the
 * module notes.
 *
 * @example
 * derivedUid('seed', '1.2.3', 'series'); // '2.25.' followed by up to 39 digits, the same every time
 */
export function derivedUid(seed: string | number, sourceSeries: string, role: string, root?: string): string {
  if (root === undefined) return `2.25.${digestInteger([String(seed), sourceSeries, role], 16)}`;
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(root) || root.length > 40) throw new Error(`DICOM UID root '${root}': expected digits and dots without leading zeros (e.g. 1.2.826.0.1.3680043.10.999), at most 40 characters`);
  const n = digestInteger([String(seed), sourceSeries, role], 16).toString().slice(0, 63 - root.length).replace(/^0+/, '') || '1';
  return `${root}.${n}`;
}

// ---- geometry ----

const dot3 = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The patient-orientation letters of an LPS direction (its dominant axes, strongest first). */
function orientationLetters(dir: number[]): string {
  const letters = [dir[0] > 0 ? 'L' : 'R', dir[1] > 0 ? 'P' : 'A', dir[2] > 0 ? 'H' : 'F'];
  return [0, 1, 2]
    .filter((a) => Math.abs(dir[a]) > 1e-3)
    .sort((a, b) => Math.abs(dir[b]) - Math.abs(dir[a]))
    .map((a) => letters[a])
    .join('');
}

/** A volume to write: `[D, H, W]` values on a grid whose affine maps `(d, h, w)` to RAS+ mm. */
export interface DicomVolume {
  data: Float32Array;
  shape: [number, number, number];
  affine: Affine;
}

/**
 * The saliency as a Secondary Capture series, one file per slice `d` (rows `h`, columns `w`), in
 * the source's study and Frame of Reference (see the module notes for what is copied and how
 * UIDs are made). Values are stored as 16-bit integers with Rescale Slope/Intercept: read back,
 * each differs from the float by at most half a step of (max - min) / 65535.
 *
 * @example
 * const { files } = saliencyDicomSeries(e.saliency, await readDicomSourceInfo(scan.meta.files), { uidSeed: 'case-17' });
 */
export function saliencyDicomSeries(volume: DicomVolume, source: DicomSourceInfo, options: SaliencyDicomOptions = {}): { seriesInstanceUid: string; files: DicomFile[] } {
  const [D, H, W] = volume.shape;
  if (!(D >= 1 && H >= 1 && W >= 1) || volume.data.length !== D * H * W) throw new Error(`saliencyDicomSeries: ${volume.data.length} values do not fill [${volume.shape.join(', ')}]`);
  if (H > 65535 || W > 65535) throw new Error(`saliencyDicomSeries: slices of ${H} x ${W} exceed DICOM's 65535 rows or columns`);
  for (const [k, v] of [['studyInstanceUid', source.studyInstanceUid], ['frameOfReferenceUid', source.frameOfReferenceUid], ['seriesInstanceUid', source.seriesInstanceUid]] as const) {
    if (!v) throw new Error(`saliencyDicomSeries: the source has no ${k}; a viewer overlays a series only in the study and Frame of Reference of its source`);
  }
  if (source.slices && source.slices.length !== D) throw new Error(`saliencyDicomSeries: the source lists ${source.slices.length} images, the volume has ${D} slices; write the saliency on the source's own grid`);
  let min = Infinity;
  let max = -Infinity;
  for (const v of volume.data) {
    if (!Number.isFinite(v)) throw new Error(`saliencyDicomSeries: the volume holds ${v}; expected finite values`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // The written (decimal) slope and intercept are the ones a reader applies: quantise with them.
  const intercept = Number(decimalString(min));
  const slope = max > min ? Number(decimalString((max - min) / 65535)) : 1;
  const seed = options.uidSeed ?? randomSeed();
  const uid = (role: string): string => derivedUid(seed, source.seriesInstanceUid, role, options.uidRoot);
  const seriesInstanceUid = uid('series');
  // LPS: x and y negated from RAS+.
  const a = volume.affine;
  const lps = (r: number, c: number): number => (r < 2 ? -a[r][c] : a[r][c]) + 0;
  const col = (c: number): number[] => [lps(0, c), lps(1, c), lps(2, c)];
  const norm = (v: number[]): number => Math.hypot(v[0], v[1], v[2]);
  const [dirD, dirH, dirW] = [col(0), col(1), col(2)];
  const [sd, sh, sw] = [norm(dirD), norm(dirH), norm(dirW)];
  if (!(sh > 0 && sw > 0 && sd > 0)) throw new Error('saliencyDicomSeries: the affine has a zero column');
  const rowDir = dirW.map((v) => v / sw);
  const colDir = dirH.map((v) => v / sh);
  const iop = [...rowDir, ...colDir];
  const patient = options.copyPatient ? (source.patient ?? {}) : {};
  const seriesNumber = options.seriesNumber ?? (source.seriesNumber !== undefined ? source.seriesNumber + 1000 : 1000);
  const description = options.description ?? 'mst-ts saliency';
  const stored = new Uint8Array(H * W * 2);
  const sv = new DataView(stored.buffer);
  const files: DicomFile[] = [];
  for (let d = 0; d < D; d++) {
    const ref = source.slices?.[d];
    // The source image's own position where it lies on this slice's plane (varying spacing), else the affine's.
    const fromAffine = [0, 1, 2].map((r) => lps(r, 0) * d + lps(r, 3));
    const position = ref?.position && Math.abs(dot3(ref.position.map((p, i) => p - fromAffine[i]), rowDir)) < 1e-3 * sw + 1e-3 && Math.abs(dot3(ref.position.map((p, i) => p - fromAffine[i]), colDir)) < 1e-3 * sh + 1e-3 ? ref.position : fromAffine;
    const base = d * H * W;
    for (let i = 0; i < H * W; i++) sv.setUint16(2 * i, Math.min(65535, Math.max(0, Math.round((volume.data[base + i] - intercept) / slope))), true);
    const sopInstanceUid = uid(`instance ${d + 1}`);
    const dataset: El[] = [
      str(0x00080005, 'CS', 'ISO_IR 192'),
      str(0x00080008, 'CS', 'DERIVED\\SECONDARY'),
      str(0x00080016, 'UI', SECONDARY_CAPTURE_SOP_CLASS),
      str(0x00080018, 'UI', sopInstanceUid),
      str(0x00080020, 'DA', patient.studyDate ?? ''),
      str(0x00080030, 'TM', patient.studyTime ?? ''),
      str(0x00080050, 'SH', patient.accessionNumber ?? ''),
      str(0x00080060, 'CS', 'OT'),
      str(0x00080064, 'CS', 'WSD'),
      str(0x00080070, 'LO', 'mst-ts'),
      str(0x00080090, 'PN', patient.referringPhysicianName ?? ''),
      str(0x0008103e, 'LO', description.slice(0, 64)),
      str(0x00082111, 'ST', `${description}, a map over the source series${source.seriesDescription ? ` '${source.seriesDescription}'` : ''}, values scaled by Rescale Slope and Intercept`.slice(0, 1024)),
      str(0x00100010, 'PN', patient.patientName ?? ''),
      str(0x00100020, 'LO', patient.patientId ?? ''),
      str(0x00100030, 'DA', patient.patientBirthDate ?? ''),
      str(0x00100040, 'CS', patient.patientSex ?? ''),
      str(0x00180050, 'DS', decimalString(sd)),
      str(0x00181016, 'LO', 'mst-ts'),
      str(0x0020000d, 'UI', source.studyInstanceUid),
      str(0x0020000e, 'UI', seriesInstanceUid),
      str(0x00200010, 'SH', patient.studyId ?? ''),
      str(0x00200011, 'IS', String(seriesNumber)),
      str(0x00200013, 'IS', String(d + 1)),
      str(0x00200020, 'CS', `${orientationLetters(rowDir)}\\${orientationLetters(colDir)}`),
      str(0x00200060, 'CS', ''),
      ds(0x00200032, position),
      ds(0x00200037, iop),
      str(0x00200052, 'UI', source.frameOfReferenceUid),
      str(0x00201040, 'LO', ''),
      us(0x00280002, 1),
      str(0x00280004, 'CS', 'MONOCHROME2'),
      us(0x00280010, H),
      us(0x00280011, W),
      ds(0x00280030, [sh, sw]),
      us(0x00280100, 16),
      us(0x00280101, 16),
      us(0x00280102, 15),
      us(0x00280103, 0),
      ds(0x00281050, [(min + max) / 2]),
      ds(0x00281051, [Math.max(max - min, 1e-6)]),
      str(0x00281052, 'DS', decimalString(intercept)),
      str(0x00281053, 'DS', decimalString(slope)),
      str(0x00281054, 'LO', 'US'),
      // Saliency ranges are often below 1: a window narrower than 1 needs the exact linear function.
      str(0x00281056, 'CS', 'LINEAR_EXACT'),
      { tag: 0x7fe00010, vr: 'OW', value: stored.slice() },
    ];
    if (ref) dataset.push(sequence(0x00082112, [[str(0x00081150, 'UI', ref.sopClassUid), str(0x00081155, 'UI', ref.sopInstanceUid)]]));
    files.push({ name: `IM${String(d + 1).padStart(5, '0')}.dcm`, bytes: part10(SECONDARY_CAPTURE_SOP_CLASS, sopInstanceUid, dataset) });
  }
  return { seriesInstanceUid, files };
}

/**
 * Writes {@link saliencyDicomSeries} into `dir` (created if missing), each file atomically;
 * returns the paths. Node only.
 *
 * @example
 * await writeSaliencyDicom('out/saliency_dicom', e.saliency, await readDicomSourceInfo(files), { uidSeed: 1 });
 */
export async function writeSaliencyDicom(dir: string, volume: DicomVolume, source: DicomSourceInfo, options: SaliencyDicomOptions = {}): Promise<string[]> {
  const { files } = saliencyDicomSeries(volume, source, options);
  const out: string[] = [];
  for (const f of files) {
    const p = `${dir.replace(/[\\/]+$/, '')}/${f.name}`;
    await writeFileAtomic(p, f.bytes);
    out.push(p);
  }
  return out;
}

// ---- reading what a saliency series needs from its source ----

const WANTED: Record<number, string> = {
  0x00080016: 'sopClassUid',
  0x00080018: 'sopInstanceUid',
  0x00080020: 'studyDate',
  0x00080030: 'studyTime',
  0x00080050: 'accessionNumber',
  0x00080060: 'modality',
  0x00080090: 'referringPhysicianName',
  0x0008103e: 'seriesDescription',
  0x00100010: 'patientName',
  0x00100020: 'patientId',
  0x00100030: 'patientBirthDate',
  0x00100040: 'patientSex',
  0x0020000d: 'studyInstanceUid',
  0x0020000e: 'seriesInstanceUid',
  0x00200010: 'studyId',
  0x00200011: 'seriesNumber',
  0x00200032: 'position',
  0x00200052: 'frameOfReferenceUid',
};

/**
 * The attributes of one DICOM file that a saliency series takes from its source (the top-level
 * text attributes of groups 0008 to 0020, read up to group 0028): Explicit and Implicit VR Little
 * Endian, Explicit VR Big Endian and Deflated files. Errors name the file.
 *
 * @example
 * const fields = dicomHeaderFields(bytes, 'IM0001.dcm'); // fields.frameOfReferenceUid
 */
export function dicomHeaderFields(bytes: Uint8Array, name = 'DICOM'): Record<string, string> {
  let view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (o: number, n: number): void => {
    if (o + n > view.byteLength) throw new Error(`${name}: truncated DICOM header at byte ${o}`);
  };
  let o = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM' ? 132 : 0;
  let syntax = '';
  const values: Record<string, string> = {};
  const decode = new TextDecoder();
  let data = bytes;
  // File meta: explicit VR little endian.
  while (o + 8 <= data.length && view.getUint16(o, true) === 0x0002) {
    const vr = String.fromCharCode(data[o + 4], data[o + 5]);
    const long = LONG_VRS.has(vr);
    need(o, long ? 12 : 8);
    const len = long ? view.getUint32(o + 8, true) : view.getUint16(o + 6, true);
    const at = o + (long ? 12 : 8);
    need(at, len);
    if (view.getUint16(o + 2, true) === 0x0010) syntax = decode.decode(data.subarray(at, at + len)).replace(/[\0 ]+$/, '');
    o = at + len;
  }
  if (syntax === '1.2.840.10008.1.2.1.99') {
    try {
      data = inflateSync(data.subarray(o));
    } catch (e) {
      throw new Error(`${name}: corrupt deflated dataset (${(e as Error).message})`);
    }
    view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    o = 0;
  }
  const le = syntax !== '1.2.840.10008.1.2.2';
  // Without a meta header, a dataset whose first bytes hold a VR is explicit.
  const explicit = syntax ? syntax !== '1.2.840.10008.1.2' : /^[A-Z]{2}$/.test(String.fromCharCode(data[o + 4] ?? 0, data[o + 5] ?? 0));
  const skipUndefined = (p: number): number => {
    // Items and delimiters until the sequence delimiter; nested undefined lengths recursively.
    for (;;) {
      need(p, 8);
      const g = view.getUint16(p, le);
      const e = view.getUint16(p + 2, le);
      const len = view.getUint32(p + 4, le);
      p += 8;
      if (g === 0xfffe && (e === 0xe0dd || e === 0xe00d)) return p;
      if (g === 0xfffe && e === 0xe000) {
        if (len !== 0xffffffff) p += len;
        continue;
      }
      p = element(p - 8).next;
    }
  };
  const element = (p: number): { tag: number; at: number; len: number; next: number } => {
    need(p, 8);
    const tag = ((view.getUint16(p, le) << 16) | view.getUint16(p + 2, le)) >>> 0;
    let len: number;
    let at: number;
    if (explicit) {
      const vr = String.fromCharCode(data[p + 4], data[p + 5]);
      if (LONG_VRS.has(vr)) {
        need(p, 12);
        len = view.getUint32(p + 8, le);
        at = p + 12;
      } else {
        len = view.getUint16(p + 6, le);
        at = p + 8;
      }
    } else {
      len = view.getUint32(p + 4, le);
      at = p + 8;
    }
    if (len === 0xffffffff) return { tag, at, len: 0, next: skipUndefined(at) };
    need(at, len);
    return { tag, at, len, next: at + len };
  };
  while (o + 8 <= data.length) {
    const el = element(o);
    if (el.tag >= 0x00280000) break;
    const key = WANTED[el.tag];
    if (key) values[key] = decode.decode(data.subarray(el.at, el.at + el.len)).replace(/[\0 ]+$/, '').trim();
    o = el.next;
  }
  return values;
}

/**
 * What {@link saliencyDicomSeries} needs of a source series, read from its files in the volume's
 * slice order (as `readVolume` lists them in `meta.files`). Node only.
 *
 * @example
 * const scan = await readVolume('series/', { canonical: false });
 * const source = await readDicomSourceInfo(scan.meta.files as string[]);
 */
export async function readDicomSourceInfo(files: readonly string[]): Promise<DicomSourceInfo> {
  const { readBytes } = await import('./files');
  if (files.length === 0) throw new Error('readDicomSourceInfo: no files');
  const infos: Record<string, string>[] = [];
  for (const f of files) infos.push(dicomHeaderFields(await readBytes(f), f));
  const first = infos[0];
  const position = (s: string | undefined): [number, number, number] | undefined => {
    const v = (s ?? '').split('\\').map(Number);
    return v.length === 3 && v.every(Number.isFinite) ? [v[0], v[1], v[2]] : undefined;
  };
  const patientKeys = ['patientName', 'patientId', 'patientBirthDate', 'patientSex', 'accessionNumber', 'studyDate', 'studyTime', 'studyId', 'referringPhysicianName'] as const;
  const patient: NonNullable<DicomSourceInfo['patient']> = {};
  for (const k of patientKeys) if (first[k]) patient[k] = first[k];
  const seriesNumber = Number(first.seriesNumber);
  return {
    studyInstanceUid: first.studyInstanceUid ?? '',
    seriesInstanceUid: first.seriesInstanceUid ?? '',
    frameOfReferenceUid: first.frameOfReferenceUid ?? '',
    ...(first.modality ? { modality: first.modality } : {}),
    ...(first.seriesNumber && Number.isInteger(seriesNumber) ? { seriesNumber } : {}),
    ...(first.seriesDescription ? { seriesDescription: first.seriesDescription } : {}),
    patient,
    slices: infos.map((i) => ({ sopClassUid: i.sopClassUid ?? '', sopInstanceUid: i.sopInstanceUid ?? '', ...(position(i.position) ? { position: position(i.position) } : {}) })),
  };
}
