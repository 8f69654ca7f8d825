import { gzipSync } from 'fflate';
import { readBytes, writeFileAtomic } from './files';
import { GunzipStream, isGzip } from './gzip';
import { DEFLATE_MAX_RATIO, MAX_GZIP_TRAILING_BYTES, MAX_INFLATED_BYTES, MAX_VOLUME_VOXELS } from './limits';
import { affineSpacing, assertFiniteVoxels, axisCodes, toCanonical, type Affine, type Volume, type VolumeShape } from './volume';

/** Options of {@link readNifti} and {@link parseNifti}. */
export interface NiftiReadOptions {
  /** Which volume of a 4D file (index along the 4th axis); default 0. */
  volume?: number;
  /** Reorient to the mst-ts convention ({@link toCanonical}); default true. */
  canonical?: boolean;
  /** Keep NaN or infinite voxels instead of throwing; default false. */
  allowNonFinite?: boolean;
}

/** The header fields mst-ts uses, as read from a NIfTI-1 or NIfTI-2 file. */
export interface NiftiHeader {
  /** 1 or 2. */
  version: 1 | 2;
  /** Whether the file's byte order is little-endian. */
  littleEndian: boolean;
  /** `dim[1..dim[0]]`: sizes along i, j, k, t, ... */
  dims: number[];
  /** NIfTI datatype code (2 uint8, 4 int16, 16 float32, ...). */
  datatype: number;
  /** Element type name. */
  dtype: string;
  /** `pixdim[0..7]` (pixdim[0] is qfac). */
  pixdim: number[];
  /** Byte offset of the voxel data. */
  voxOffset: number;
  /** Scale slope and intercept (slope 0 means none). */
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** Quaternion b, c, d and offsets x, y, z. */
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** sform rows x, y, z (4 values each). */
  srow: [number[], number[], number[]];
  /** `'n+1'`, `'ni1'` (header and data in separate files) or `'n+2'`. */
  magic: string;
  /** The description field. */
  descrip: string;
}

const DATATYPES: Record<number, { name: string; bytes: number }> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
  256: { name: 'int8', bytes: 1 },
  512: { name: 'uint16', bytes: 2 },
  768: { name: 'uint32', bytes: 4 },
  1024: { name: 'int64', bytes: 8 },
  1280: { name: 'uint64', bytes: 8 },
};

const UNSUPPORTED: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export { isGzip };

/**
 * Parses a NIfTI-1 or NIfTI-2 header (either byte order, detected from `sizeof_hdr`).
 *
 * @example
 * const h = parseNiftiHeader(bytes, 'brain.nii'); // h.dims [91, 109, 91], h.dtype 'float32'
 */
export function parseNiftiHeader(bytes: Uint8Array, source = 'NIfTI'): NiftiHeader {
  if (bytes.length < 348) throw new Error(`${source}: not a NIfTI file (expected at least a 348-byte header, got ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true);
  const be = view.getInt32(0, false);
  const size = le === 348 || le === 540 ? le : be === 348 || be === 540 ? be : 0;
  if (size === 0) throw new Error(`${source}: not a NIfTI file (sizeof_hdr must be 348 or 540 in either byte order, got ${le})`);
  const littleEndian = le === size;
  if (size === 540 && bytes.length < 540) throw new Error(`${source}: truncated NIfTI-2 header (${bytes.length} of 540 bytes)`);
  const i16 = (o: number): number => view.getInt16(o, littleEndian);
  const i32 = (o: number): number => view.getInt32(o, littleEndian);
  const f32 = (o: number): number => view.getFloat32(o, littleEndian);
  const f64 = (o: number): number => view.getFloat64(o, littleEndian);
  const i64 = (o: number): number => Number(view.getBigInt64(o, littleEndian));
  let h: Omit<NiftiHeader, 'dtype'>;
  if (size === 348) {
    const magic = ascii(bytes, 344, 4);
    if (magic !== 'n+1' && magic !== 'ni1') throw new Error(`${source}: NIfTI-1 magic must be 'n+1' or 'ni1', got '${magic}' (an Analyze 7.5 file?)`);
    const ndim = i16(40);
    h = {
      version: 1,
      littleEndian,
      dims: Array.from({ length: Math.max(0, Math.min(ndim, 7)) }, (_, k) => i16(42 + 2 * k)),
      datatype: i16(70),
      pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      qformCode: i16(252),
      sformCode: i16(254),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as [number[], number[], number[]],
      magic,
      descrip: ascii(bytes, 148, 80),
    };
    if (!(ndim >= 1 && ndim <= 7)) throw new Error(`${source}: dim[0] must be 1..7, got ${ndim}`);
  } else {
    const magic = ascii(bytes, 4, 8);
    if (magic !== 'n+2' && magic !== 'ni2') throw new Error(`${source}: NIfTI-2 magic must be 'n+2', got '${magic}'`);
    const ndim = i64(16);
    if (!(ndim >= 1 && ndim <= 7)) throw new Error(`${source}: dim[0] must be 1..7, got ${ndim}`);
    h = {
      version: 2,
      littleEndian,
      dims: Array.from({ length: ndim }, (_, k) => i64(24 + 8 * k)),
      datatype: i16(12),
      pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
      voxOffset: i64(168),
      sclSlope: f64(176),
      sclInter: f64(184),
      qformCode: i32(344),
      sformCode: i32(348),
      quatern: [f64(352), f64(360), f64(368)],
      qoffset: [f64(376), f64(384), f64(392)],
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))) as [number[], number[], number[]],
      magic: magic === 'ni2' ? 'ni2' : 'n+2',
      descrip: ascii(bytes, 240, 80),
    };
  }
  // As nibabel: a code outside the defined ones (0 unknown .. 5 template) means unknown.
  const validCode = (c: number): number => (Number.isInteger(c) && c >= 0 && c <= 5 ? c : 0);
  h.qformCode = validCode(h.qformCode);
  h.sformCode = validCode(h.sformCode);
  const dt = DATATYPES[h.datatype];
  if (!dt) {
    const what = UNSUPPORTED[h.datatype] ? `${UNSUPPORTED[h.datatype]} (code ${h.datatype})` : `unknown code ${h.datatype}`;
    throw new Error(`${source}: unsupported NIfTI datatype ${what}; expected one of ${Object.values(DATATYPES).map((d) => d.name).join(', ')}`);
  }
  for (const [k, n] of h.dims.entries()) {
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new Error(`${source}: dim[${k + 1}] must be a positive integer, got ${n}`);
  }
  if (!Number.isFinite(h.voxOffset) || h.voxOffset < 0) throw new Error(`${source}: vox_offset must be a finite, non-negative byte offset, got ${h.voxOffset}`);
  return { ...h, dtype: dt.name };
}

/**
 * The voxel-to-world (RAS+) affine of a NIfTI header, over NIfTI's own voxel axes (i, j, k), chosen
 * as nibabel does: the sform if `sform_code > 0`, else the qform if `qform_code > 0`, else the
 * Analyze-style fallback (pixdim scaling, x flipped, centred on the volume).
 */
export function niftiAffine(h: NiftiHeader): Affine {
  if (h.sformCode > 0) return [...h.srow.map((r) => r.slice()), [0, 0, 0, 1]];
  if (h.qformCode > 0) return qformAffine(h);
  const [dx, dy, dz] = zooms(h);
  const dims = [h.dims[0] ?? 1, h.dims[1] ?? 1, h.dims[2] ?? 1];
  const z = [-dx, dy, dz];
  return [
    [z[0], 0, 0, -((dims[0] - 1) / 2) * z[0]],
    [0, z[1], 0, -((dims[1] - 1) / 2) * z[1]],
    [0, 0, z[2], -((dims[2] - 1) / 2) * z[2]],
    [0, 0, 0, 1],
  ];
}

function zooms(h: NiftiHeader): [number, number, number] {
  // A zero, negative or missing pixdim is no size: nibabel's fallback uses 1.
  const z = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v !== 0 ? v : 1);
  return [z(h.pixdim[1]), z(h.pixdim[2]), z(h.pixdim[3])];
}

function qformAffine(h: NiftiHeader): Affine {
  const [dx, dy, dz] = zooms(h);
  const [b, c, d] = h.quatern;
  // a is the quaternion's real part; rounding can push b^2 + c^2 + d^2 just above 1.
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const qfac = h.pixdim[0] < 0 ? -1 : 1;
  const z = [dx, dy, dz * qfac];
  return [
    [R[0][0] * z[0], R[0][1] * z[1], R[0][2] * z[2], h.qoffset[0]],
    [R[1][0] * z[0], R[1][1] * z[1], R[1][2] * z[2], h.qoffset[1]],
    [R[2][0] * z[0], R[2][1] * z[1], R[2][2] * z[2], h.qoffset[2]],
    [0, 0, 0, 1],
  ];
}

// A placement: finite, with no zero-length voxel axis (which would make the spacing 0).
const finiteAffine = (m: Affine): boolean => m.every((row) => row.every((v) => Number.isFinite(v))) && [0, 1, 2].every((c) => Math.hypot(m[0][c], m[1][c], m[2][c]) > 0);

/**
 * {@link niftiAffine}, refusing what is not a placement: a sform with NaN or infinite entries
 * falls back to the qform when that is set and finite (recorded in `from`), else it is an error
 * naming the fields, as is a non-finite qform.
 */
function checkedAffine(h: NiftiHeader, source: string): { affine: Affine; from: 'sform' | 'qform' | 'pixdim' } {
  const qformOk = h.qformCode > 0 && finiteAffine(qformAffine(h));
  if (h.sformCode > 0) {
    const s = niftiAffine(h);
    if (finiteAffine(s)) return { affine: s, from: 'sform' };
    if (qformOk) return { affine: qformAffine(h), from: 'qform' };
    throw new Error(`${source}: sform (srow_x/y/z) [${h.srow.map((r) => r.join(', ')).join('; ')}] is not finite or has a zero-length axis, and there is no usable qform`);
  }
  if (h.qformCode > 0) {
    const negative = [1, 2, 3].find((k) => h.pixdim[k] < 0);
    if (negative !== undefined) throw new Error(`${source}: pixdim[${negative}] is ${h.pixdim[negative]}; voxel sizes of a qform must be positive`);
    if (qformOk) return { affine: qformAffine(h), from: 'qform' };
    throw new Error(`${source}: qform (quatern_b/c/d, qoffset_x/y/z, pixdim) [${[...h.quatern, ...h.qoffset].join(', ')}] is not finite`);
  }
  return { affine: niftiAffine(h), from: 'pixdim' };
}

function readElement(view: DataView, dtype: string, offset: number, le: boolean): number {
  switch (dtype) {
    case 'uint8':
      return view.getUint8(offset);
    case 'int8':
      return view.getInt8(offset);
    case 'int16':
      return view.getInt16(offset, le);
    case 'uint16':
      return view.getUint16(offset, le);
    case 'int32':
      return view.getInt32(offset, le);
    case 'uint32':
      return view.getUint32(offset, le);
    case 'float32':
      return view.getFloat32(offset, le);
    case 'float64':
      return view.getFloat64(offset, le);
    case 'int64':
      return Number(view.getBigInt64(offset, le));
    default:
      return Number(view.getBigUint64(offset, le));
  }
}

const headerBytes = (h: NiftiHeader): number => (h.version === 1 ? 348 : 540);

/**
 * Checks a header's sizes against the limits and returns the bytes its voxels need from the start
 * of the image data (all volumes of a 4D file: a file cut inside a later volume is truncated).
 */
function voxelBytes(h: NiftiHeader, source: string): { n3: number; need: number } {
  const dt = DATATYPES[h.datatype];
  const extra = h.dims.slice(4).reduce((a, b) => a * b, 1);
  if (extra !== 1) throw new Error(`${source}: only 3D and 4D images are supported, got dims [${h.dims.join(', ')}]`);
  const [ni, nj, nk, nt] = [h.dims[0] ?? 1, h.dims[1] ?? 1, h.dims[2] ?? 1, h.dims[3] ?? 1];
  const n3 = ni * nj * nk;
  if (n3 > MAX_VOLUME_VOXELS) throw new Error(`${source}: dims [${h.dims.join(', ')}] give ${n3} voxels per volume, more than the limit of ${MAX_VOLUME_VOXELS}`);
  const need = n3 * nt * dt.bytes;
  if (!Number.isSafeInteger(need)) throw new Error(`${source}: dims [${h.dims.join(', ')}] of ${h.dtype} overflow`);
  return { n3, need };
}

// Inflates only what the header says the file holds (header, then voxels), then runs through the
// rest without keeping it to check the CRC-32 and ISIZE of every member.
function gunzipNifti(bytes: Uint8Array, source: string, need: (head: Uint8Array) => number): Uint8Array {
  // Kept in full until the header says how much matters: one inflation step is bounded anyway.
  const gz = new GunzipStream(bytes, source, MAX_INFLATED_BYTES);
  gz.fill(540);
  const total = need(gz.data());
  const canHold = bytes.length * DEFLATE_MAX_RATIO + 1024;
  if (total > canHold) throw new Error(`${source}: the header describes ${total} bytes, more than ${bytes.length} gzip bytes can inflate to (truncated or corrupt)`);
  if (total > MAX_INFLATED_BYTES) throw new Error(`${source}: the header describes ${total} bytes, more than the limit of ${MAX_INFLATED_BYTES} for a gzip stream`);
  gz.keep = total;
  gz.fill(total);
  gz.finish(total + MAX_GZIP_TRAILING_BYTES, ` (the header describes ${total})`);
  return gz.data();
}

/** The header, the bytes holding the voxels and where they start, validated against each other. */
function niftiParts(bytes: Uint8Array, source: string, imageBytes?: Uint8Array): { header: NiftiHeader; data: Uint8Array; offset: number } {
  let header: NiftiHeader | undefined;
  const readHeader = (head: Uint8Array): NiftiHeader => {
    header = parseNiftiHeader(head, source);
    return header;
  };
  const pair = (h: NiftiHeader): boolean => h.magic === 'ni1' || h.magic === 'ni2';
  const raw = isGzip(bytes)
    ? gunzipNifti(bytes, source, (head) => {
        const h = readHeader(head);
        return pair(h) ? headerBytes(h) : Math.floor(h.voxOffset) + voxelBytes(h, source).need;
      })
    : bytes;
  const h = header ?? readHeader(raw);
  const { need } = voxelBytes(h, source);
  let data = raw;
  let offset = Math.floor(h.voxOffset);
  if (pair(h)) {
    if (!imageBytes) throw new Error(`${source}: a '${h.magic}' header keeps its voxels in a separate .img file; read the .hdr path with readNifti`);
    data = isGzip(imageBytes) ? gunzipNifti(imageBytes, `${source} (.img)`, () => offset + need) : imageBytes;
  } else if (offset < headerBytes(h)) {
    throw new Error(`${source}: vox_offset ${h.voxOffset} points inside the ${headerBytes(h)}-byte header`);
  }
  if (data.length < offset + need) {
    throw new Error(`${source}: truncated NIfTI data: ${h.dtype}[${h.dims.join(', ')}] needs ${need} bytes from vox_offset ${offset}, the file has ${Math.max(0, data.length - offset)}`);
  }
  return { header: h, data, offset };
}

/**
 * Parses NIfTI bytes (`.nii`, gzipped or not) into a {@link Volume}. NIfTI voxel `(i, j, k)` becomes
 * `(d, h, w) = (k, j, i)`, so D is the third (usually the slice) axis, and then the volume is
 * reoriented to the mst-ts convention unless `canonical: false`. `scl_slope`/`scl_inter` are
 * applied (ignored when the slope is 0 or not finite, as nibabel does). For a `'ni1'` header
 * (separate `.img`), pass the image bytes as `imageBytes`.
 *
 * @example
 * const v = parseNifti(bytes, 'sub-01_T1w.nii.gz'); // v.shape [D, H, W], v.affine 4x4 RAS+
 */
export function parseNifti(bytes: Uint8Array, source = 'NIfTI', options: NiftiReadOptions = {}, imageBytes?: Uint8Array): Volume {
  const { header: h, data, offset } = niftiParts(bytes, source, imageBytes);
  const dt = DATATYPES[h.datatype];
  const [ni, nj, nk, nt] = [h.dims[0] ?? 1, h.dims[1] ?? 1, h.dims[2] ?? 1, h.dims[3] ?? 1];
  const t = options.volume ?? 0;
  if (!Number.isInteger(t) || t < 0 || t >= nt) throw new Error(`${source}: volume index must be an integer in [0, ${nt}), got ${t}`);
  const n3 = ni * nj * nk;
  const start = offset + t * n3 * dt.bytes;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(n3);
  // As nibabel: a zero or non-finite slope means no scaling; a valid slope with a non-finite
  // intercept is an error, not an intercept of 0.
  const scale = h.sclSlope !== 0 && Number.isFinite(h.sclSlope);
  if (scale && !Number.isFinite(h.sclInter)) throw new Error(`${source}: scl_slope ${h.sclSlope} with a non-finite scl_inter ${h.sclInter}`);
  const slope = scale ? h.sclSlope : 1;
  const inter = scale ? h.sclInter : 0;
  const nativeLe = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (h.dtype === 'float32' && h.littleEndian === nativeLe && (data.byteOffset + start) % 4 === 0) {
    out.set(new Float32Array(data.buffer, data.byteOffset + start, n3));
    if (scale) for (let i = 0; i < n3; i++) out[i] = out[i] * slope + inter;
  } else {
    for (let i = 0; i < n3; i++) out[i] = readElement(view, h.dtype, start + i * dt.bytes, h.littleEndian) * slope + inter;
  }
  const { affine: ijk, from } = checkedAffine(h, source);
  // Voxel (d, h, w) = (k, j, i): the affine's columns are reordered to match.
  const affine: Affine = ijk.map((row) => [row[2], row[1], row[0], row[3]]);
  let volume: Volume = {
    data: out,
    shape: [nk, nj, ni] as VolumeShape,
    spacing: affineSpacing(affine),
    affine,
    orientation: axisCodes(affine),
    dtype: h.dtype,
    source,
    meta: {
      format: `nifti${h.version}`,
      dims: h.dims,
      volume: t,
      volumes: nt,
      qformCode: h.qformCode,
      sformCode: h.sformCode,
      affineFrom: from,
      sclSlope: h.sclSlope,
      sclInter: h.sclInter,
      littleEndian: h.littleEndian,
      descrip: h.descrip,
    },
  };
  if (!options.allowNonFinite) assertFiniteVoxels(volume);
  if (options.canonical !== false) volume = toCanonical(volume, 0);
  return volume;
}

/**
 * Reads a NIfTI-1 or NIfTI-2 file (`.nii`, `.nii.gz`, or a `.hdr` with its `.img`).
 *
 * @example
 * const v = await readNifti('scan.nii.gz', { volume: 0 });
 * v.shape; v.spacing; v.affine; v.orientation; // e.g. [32, 224, 224], 'SPL'
 */
export async function readNifti(path: string, options: NiftiReadOptions = {}): Promise<Volume> {
  const bytes = await readBytes(path);
  // A .hdr header keeps its voxels in the sibling .img file.
  const image = /\.hdr(\.gz)?$/i.test(path) ? await readBytes(path.replace(/\.hdr(\.gz)?$/i, '.img$1')) : undefined;
  return parseNifti(bytes, path, options, image);
}

/** Options of {@link encodeNifti}. */
export interface NiftiWriteOptions {
  /** Gzip the output (a `.nii.gz`); default true. */
  gzip?: boolean;
  /** Text for the 80-byte `descrip` field. */
  description?: string;
}

// Quaternion (b, c, d) and qfac of a 3x3 rotation (possibly improper) with columns normalised.
function toQuaternion(R: number[][]): { b: number; c: number; d: number; qfac: number } {
  const det =
    R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) - R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) + R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  const qfac = det < 0 ? -1 : 1;
  const M = R.map((row) => [row[0], row[1], row[2] * qfac]);
  const tr = M[0][0] + M[1][1] + M[2][2];
  let a: number;
  let b: number;
  let c: number;
  let d: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    a = 0.25 * s;
    b = (M[2][1] - M[1][2]) / s;
    c = (M[0][2] - M[2][0]) / s;
    d = (M[1][0] - M[0][1]) / s;
  } else if (M[0][0] > M[1][1] && M[0][0] > M[2][2]) {
    const s = Math.sqrt(1 + M[0][0] - M[1][1] - M[2][2]) * 2;
    a = (M[2][1] - M[1][2]) / s;
    b = 0.25 * s;
    c = (M[0][1] + M[1][0]) / s;
    d = (M[0][2] + M[2][0]) / s;
  } else if (M[1][1] > M[2][2]) {
    const s = Math.sqrt(1 + M[1][1] - M[0][0] - M[2][2]) * 2;
    a = (M[0][2] - M[2][0]) / s;
    b = (M[0][1] + M[1][0]) / s;
    c = 0.25 * s;
    d = (M[1][2] + M[2][1]) / s;
  } else {
    const s = Math.sqrt(1 + M[2][2] - M[0][0] - M[1][1]) * 2;
    a = (M[1][0] - M[0][1]) / s;
    b = (M[0][2] + M[2][0]) / s;
    c = (M[1][2] + M[2][1]) / s;
    d = 0.25 * s;
  }
  // NIfTI stores only b, c, d and derives a >= 0.
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { b, c, d, qfac };
}

/**
 * Encodes a volume as a NIfTI-1 float32 file with the volume's affine as both sform and qform
 * (codes 1, scanner), so nibabel and other readers place it identically. The `[D, H, W]` voxels
 * are written with `i = w, j = h, k = d`, the inverse of {@link parseNifti}.
 *
 * @example
 * const bytes = encodeNifti({ data, shape: [32, 64, 64], affine }); // gzipped .nii.gz bytes
 */
export function encodeNifti(volume: Pick<Volume, 'data' | 'shape' | 'affine'>, options: NiftiWriteOptions = {}): Uint8Array {
  const [D, H, W] = volume.shape;
  if (volume.data.length !== D * H * W) throw new Error(`encodeNifti: data has ${volume.data.length} values, shape [${volume.shape.join(', ')}] needs ${D * H * W}`);
  // NIfTI (i, j, k) = (w, h, d): reorder the affine's columns back.
  const A = volume.affine;
  const ijk = [0, 1, 2].map((r) => [A[r][2], A[r][1], A[r][0], A[r][3]]);
  const zooms = [0, 1, 2].map((c) => Math.hypot(ijk[0][c], ijk[1][c], ijk[2][c]) || 1);
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => ijk[r][c] / zooms[c]));
  const q = toQuaternion(R);
  const header = new Uint8Array(352);
  const view = new DataView(header.buffer);
  view.setInt32(0, 348, true);
  header[39] = 0;
  const dims = [3, W, H, D, 1, 1, 1, 1];
  dims.forEach((v, k) => view.setInt16(40 + 2 * k, v, true));
  view.setInt16(70, 16, true);
  view.setInt16(72, 32, true);
  [q.qfac, zooms[0], zooms[1], zooms[2], 1, 1, 1, 1].forEach((v, k) => view.setFloat32(76 + 4 * k, v, true));
  view.setFloat32(108, 352, true);
  view.setFloat32(112, 1, true);
  view.setFloat32(116, 0, true);
  header[123] = 2; // xyzt_units: millimetres
  const text = (options.description ?? 'mst-ts').slice(0, 79);
  for (let k = 0; k < text.length; k++) header[148 + k] = text.charCodeAt(k) & 0x7f;
  view.setInt16(252, 1, true);
  view.setInt16(254, 1, true);
  view.setFloat32(256, q.b, true);
  view.setFloat32(260, q.c, true);
  view.setFloat32(264, q.d, true);
  view.setFloat32(268, ijk[0][3], true);
  view.setFloat32(272, ijk[1][3], true);
  view.setFloat32(276, ijk[2][3], true);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) view.setFloat32(280 + 16 * r + 4 * c, ijk[r][c], true);
  header.set([0x6e, 0x2b, 0x31, 0], 344);
  const out = new Uint8Array(352 + 4 * volume.data.length);
  out.set(header, 0);
  const body = new DataView(out.buffer, 352);
  for (let i = 0; i < volume.data.length; i++) body.setFloat32(4 * i, volume.data[i], true);
  return options.gzip === false ? out : gzipSync(out, { level: 6 });
}

/**
 * Writes a volume to `path` as NIfTI-1 (gzipped unless the path ends in `.nii`), atomically.
 *
 * @example
 * await writeNifti('out/saliency.nii.gz', { data, shape, affine: volume.affine });
 */
export async function writeNifti(path: string, volume: Pick<Volume, 'data' | 'shape' | 'affine'>, options: NiftiWriteOptions = {}): Promise<void> {
  const gzip = options.gzip ?? !/\.nii$/i.test(path);
  await writeFileAtomic(path, encodeNifti(volume, { ...options, gzip }));
}
