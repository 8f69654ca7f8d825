import { inflateSync } from 'fflate';
import { readBytes } from './files';
import { affineSpacing, assertFiniteVoxels, axisCodes, toCanonical, type Affine, type Volume } from './volume';

/** Transfer syntaxes whose pixel data {@link parseDicom} decodes. */
export const SUPPORTED_TRANSFER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const COMPRESSED_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
};

/** One DICOM file's header fields that mst-ts uses, plus its decoded frames. */
export interface DicomImage {
  /** Path or description. */
  source: string;
  transferSyntax: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  instanceNumber: number | null;
  /** ImagePositionPatient (LPS mm), or null when absent. */
  position: [number, number, number] | null;
  /** ImageOrientationPatient: row direction then column direction (LPS), or null. */
  orientation: [number, number, number, number, number, number] | null;
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  spacingBetweenSlices: number | null;
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Decoded stored values `[frames, rows, columns]` as float32, before rescaling. */
  pixels: Float32Array | null;
}

interface Element {
  group: number;
  element: number;
  vr: string;
  offset: number;
  length: number;
  /** Fragments of encapsulated pixel data (undefined-length 7FE0,0010). */
  fragments?: Uint8Array[];
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
// VRs of the tags read from implicit-VR data; anything else is skipped or read as text.
const IMPLICIT_VR: Record<string, string> = {
  '00280010': 'US',
  '00280011': 'US',
  '00280100': 'US',
  '00280101': 'US',
  '00280103': 'US',
  '00280002': 'US',
  '7fe00010': 'OW',
};

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(offset: number, n: number, what: string): void {
    if (offset + n > this.bytes.length) {
      throw new Error(`${this.source}: truncated DICOM file: ${what} at byte ${offset} needs ${n} bytes, only ${Math.max(0, this.bytes.length - offset)} remain`);
    }
  }
}

const UNDEFINED = 0xffffffff;

// Skips an undefined-length sequence or item list starting at `offset`; returns the offset after
// its delimiter. Items and delimiters are always little- or big-endian like the dataset.
function skipUndefined(r: Reader, offset: number, le: boolean, explicit: boolean): number {
  let o = offset;
  for (;;) {
    r.need(o, 8, 'sequence item');
    const g = r.view.getUint16(o, le);
    const e = r.view.getUint16(o + 2, le);
    const len = r.view.getUint32(o + 4, le);
    o += 8;
    if (g === 0xfffe && e === 0xe0dd) return o;
    if (g === 0xfffe && e === 0xe000) {
      if (len === UNDEFINED) o = skipItemElements(r, o, le, explicit);
      else o += len;
      continue;
    }
    throw new Error(`${r.source}: malformed sequence at byte ${o - 8}: expected an item or delimiter tag, got (${hex(g)},${hex(e)})`);
  }
}

// Walks the elements of an undefined-length item until its item delimiter.
function skipItemElements(r: Reader, offset: number, le: boolean, explicit: boolean): number {
  let o = offset;
  for (;;) {
    r.need(o, 8, 'item element');
    const g = r.view.getUint16(o, le);
    const e = r.view.getUint16(o + 2, le);
    if (g === 0xfffe && e === 0xe00d) return o + 8;
    const el = readElementHeader(r, o, le, explicit);
    o = el.next;
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function readElementHeader(r: Reader, o: number, le: boolean, explicit: boolean): { el: Element; next: number } {
  r.need(o, 8, 'element header');
  const group = r.view.getUint16(o, le);
  const element = r.view.getUint16(o + 2, le);
  let vr: string;
  let length: number;
  let valueOffset: number;
  // Item tags carry no VR even in explicit syntaxes.
  if (explicit && group !== 0xfffe) {
    vr = String.fromCharCode(r.bytes[o + 4], r.bytes[o + 5]);
    if (LONG_VRS.has(vr)) {
      r.need(o, 12, 'element header');
      length = r.view.getUint32(o + 8, le);
      valueOffset = o + 12;
    } else {
      length = r.view.getUint16(o + 6, le);
      valueOffset = o + 8;
    }
  } else {
    const key = hex(group).toLowerCase() + hex(element).toLowerCase();
    vr = IMPLICIT_VR[key] ?? 'UN';
    length = r.view.getUint32(o + 4, le);
    valueOffset = o + 8;
  }
  const el: Element = { group, element, vr, offset: valueOffset, length };
  if (length === UNDEFINED) {
    if (group === 0x7fe0 && element === 0x0010) {
      el.fragments = [];
      let p = valueOffset;
      for (;;) {
        r.need(p, 8, 'pixel data fragment');
        const g = r.view.getUint16(p, le);
        const e = r.view.getUint16(p + 2, le);
        const len = r.view.getUint32(p + 4, le);
        p += 8;
        if (g === 0xfffe && e === 0xe0dd) break;
        if (!(g === 0xfffe && e === 0xe000)) throw new Error(`${r.source}: malformed encapsulated pixel data at byte ${p - 8}`);
        r.need(p, len, 'pixel data fragment');
        el.fragments.push(r.bytes.subarray(p, p + len));
        p += len;
      }
      return { el, next: p };
    }
    return { el, next: skipUndefined(r, valueOffset, le, explicit) };
  }
  r.need(valueOffset, length, `value of (${hex(group)},${hex(element)})`);
  return { el, next: valueOffset + length };
}

function text(r: Reader, el: Element): string {
  let s = '';
  for (let i = el.offset; i < el.offset + el.length; i++) s += String.fromCharCode(r.bytes[i]);
  return s.replace(/[\0 ]+$/, '').trim();
}

function numbers(r: Reader, el: Element): number[] {
  return text(r, el)
    .split('\\')
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isFinite(v));
}

// Decodes one RLE Lossless frame (DICOM PS3.5 Annex G) into `out` at `at`, for 1 sample per pixel.
function decodeRleFrame(frame: Uint8Array, bitsAllocated: number, n: number, source: string): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 64) throw new Error(`${source}: RLE frame header truncated (${frame.length} of 64 bytes)`);
  const segments = view.getUint32(0, true);
  const bytesPer = bitsAllocated / 8;
  if (segments !== bytesPer) throw new Error(`${source}: RLE frame has ${segments} segments, expected ${bytesPer} for ${bitsAllocated}-bit grey pixels`);
  // Segment s holds byte s (most significant first) of every pixel; reassemble little-endian.
  const out = new Uint8Array(n * bytesPer);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    let i = start;
    let p = 0;
    const lane = bytesPer - 1 - s;
    while (i < end && p < n) {
      const c = (frame[i++] << 24) >> 24;
      if (c >= 0) {
        for (let k = 0; k <= c && p < n; k++) out[p++ * bytesPer + lane] = frame[i++];
      } else if (c !== -128) {
        const v = frame[i++];
        for (let k = 0; k < 1 - c && p < n; k++) out[p++ * bytesPer + lane] = v;
      }
    }
    if (p < n) throw new Error(`${source}: RLE segment ${s} decodes to ${p} of ${n} pixels (truncated?)`);
  }
  return out;
}

function decodeSamples(bytes: Uint8Array, le: boolean, bits: number, signed: boolean, count: number, out: Float32Array, at: number, source: string): void {
  if (bits === 1) {
    // Bit-packed (segmentations): pixel i is bit i % 8 of byte i / 8, least significant first.
    if (bytes.length < Math.ceil(count / 8)) throw new Error(`${source}: pixel data has ${bytes.length} bytes, ${count} 1-bit pixels need ${Math.ceil(count / 8)} (truncated?)`);
    for (let i = 0; i < count; i++) out[at + i] = (bytes[i >> 3] >> (i & 7)) & 1;
    return;
  }
  const bytesPer = bits / 8;
  if (bytes.length < count * bytesPer) throw new Error(`${source}: pixel data has ${bytes.length} bytes, ${count} pixels of ${bits} bits need ${count * bytesPer} (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    let v: number;
    if (bits === 8) v = signed ? view.getInt8(i) : view.getUint8(i);
    else if (bits === 16) v = signed ? view.getInt16(2 * i, le) : view.getUint16(2 * i, le);
    else v = signed ? view.getInt32(4 * i, le) : view.getUint32(4 * i, le);
    out[at + i] = v;
  }
}

/**
 * Parses one DICOM file (Part 10 with or without the 128-byte preamble, or a bare dataset).
 * Implicit and explicit VR little endian, explicit VR big endian, deflated explicit little endian
 * and RLE Lossless pixel data are decoded; other compressed syntaxes (JPEG, JPEG-LS, JPEG 2000)
 * raise an error naming the syntax. Sequences are skipped. Set `pixels: false` to read headers only.
 *
 * @example
 * const img = parseDicom(bytes, 'CT_small.dcm'); // img.rows, img.columns, img.pixels
 */
export function parseDicom(bytes: Uint8Array, source = 'DICOM', options: { pixels?: boolean } = {}): DicomImage {
  let r = new Reader(bytes, source);
  let o = 0;
  const hasPreamble = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  if (hasPreamble) o = 132;
  let transferSyntax = '';
  // File meta group (0002): always explicit VR little endian.
  while (o + 8 <= bytes.length && r.view.getUint16(o, true) === 0x0002) {
    const { el, next } = readElementHeader(r, o, true, true);
    if (el.element === 0x0010) transferSyntax = text(r, el);
    o = next;
  }
  if (!hasPreamble && o === 0) {
    // A bare dataset: guess explicit or implicit little endian from the first element.
    if (bytes.length < 8) throw new Error(`${source}: not a DICOM file (${bytes.length} bytes)`);
    const vr = String.fromCharCode(bytes[4], bytes[5]);
    const g = r.view.getUint16(0, true);
    if (g !== 0x0008 && g !== 0x0010 && g !== 0x0018 && g !== 0x0020 && g !== 0x0028) {
      const gb = r.view.getUint16(0, false);
      if (gb === 0x0008 && /^[A-Z]{2}$/.test(vr)) transferSyntax = '1.2.840.10008.1.2.2';
      else throw new Error(`${source}: not a DICOM file (no 'DICM' marker at byte 128 and no dataset group at byte 0)`);
    } else transferSyntax = /^[A-Z]{2}$/.test(vr) ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
  }
  if (!transferSyntax) transferSyntax = '1.2.840.10008.1.2';
  if (!SUPPORTED_TRANSFER_SYNTAXES[transferSyntax]) {
    const name = COMPRESSED_NAMES[transferSyntax] ?? 'an unknown transfer syntax';
    throw new Error(
      `${source}: pixel data is encoded as ${name} (${transferSyntax}), which mst-ts does not decode; supported: ${Object.values(SUPPORTED_TRANSFER_SYNTAXES).join(', ')}. Convert the series first (e.g. 'gdcmconv --raw' or 'dcmdjpeg').`,
    );
  }
  const le = transferSyntax !== '1.2.840.10008.1.2.2';
  const explicit = transferSyntax !== '1.2.840.10008.1.2';
  if (transferSyntax === '1.2.840.10008.1.2.1.99') {
    try {
      r = new Reader(inflateSync(bytes.subarray(o)), source);
    } catch (e) {
      throw new Error(`${source}: corrupt deflated dataset (${(e as Error).message})`);
    }
    o = 0;
  }
  const els = new Map<string, Element>();
  while (o < r.bytes.length) {
    if (o + 8 > r.bytes.length) break;
    const { el, next } = readElementHeader(r, o, le, explicit);
    els.set(hex(el.group) + hex(el.element), el);
    o = next;
    if (el.group === 0x7fe0 && el.element === 0x0010) break;
  }
  const us = (tag: string, fallback: number): number => {
    const el = els.get(tag);
    if (!el) return fallback;
    if (el.length === 2) return r.view.getUint16(el.offset, le);
    if (el.length === 4) return r.view.getUint32(el.offset, le);
    return fallback;
  };
  const str = (tag: string): string => {
    const el = els.get(tag);
    return el ? text(r, el) : '';
  };
  const num = (tag: string): number[] | null => {
    const el = els.get(tag);
    if (!el) return null;
    const v = numbers(r, el);
    return v.length ? v : null;
  };
  const rows = us('00280010', 0);
  const columns = us('00280011', 0);
  const position = num('00200032');
  const orientation = num('00200037');
  const spacing = num('00280030');
  const image: DicomImage = {
    source,
    transferSyntax,
    sopClassUid: str('00080016'),
    sopInstanceUid: str('00080018'),
    seriesInstanceUid: str('0020000E'),
    modality: str('00080060'),
    instanceNumber: num('00200013')?.[0] ?? null,
    position: position && position.length >= 3 ? [position[0], position[1], position[2]] : null,
    orientation: orientation && orientation.length >= 6 ? (orientation.slice(0, 6) as DicomImage['orientation']) : null,
    pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0], spacing[1]] : null,
    sliceThickness: num('00180050')?.[0] ?? null,
    spacingBetweenSlices: num('00180088')?.[0] ?? null,
    rows,
    columns,
    frames: num('00280008')?.[0] ?? 1,
    bitsAllocated: us('00280100', 16),
    pixelRepresentation: us('00280103', 0),
    samplesPerPixel: us('00280002', 1),
    rescaleSlope: num('00281053')?.[0] ?? 1,
    rescaleIntercept: num('00281052')?.[0] ?? 0,
    pixels: null,
  };
  if (options.pixels === false) return image;
  const pix = els.get('7FE00010');
  if (!pix) throw new Error(`${source}: no pixel data (7FE0,0010) in this DICOM file`);
  if (image.samplesPerPixel !== 1) throw new Error(`${source}: ${image.samplesPerPixel} samples per pixel (colour); mst-ts reads greyscale images only`);
  if (![1, 8, 16, 32].includes(image.bitsAllocated)) throw new Error(`${source}: BitsAllocated ${image.bitsAllocated} is not supported (expected 1, 8, 16 or 32)`);
  if (!(rows > 0 && columns > 0)) throw new Error(`${source}: Rows and Columns must be positive, got ${rows} x ${columns}`);
  const n = rows * columns;
  const out = new Float32Array(n * image.frames);
  const signed = image.pixelRepresentation === 1;
  if (pix.fragments) {
    if (transferSyntax !== '1.2.840.10008.1.2.5') throw new Error(`${source}: encapsulated pixel data in ${SUPPORTED_TRANSFER_SYNTAXES[transferSyntax]}`);
    // The first fragment is the basic offset table; with one fragment per frame the rest are frames.
    const frames = pix.fragments.slice(1);
    if (frames.length !== image.frames) throw new Error(`${source}: ${frames.length} RLE fragments for ${image.frames} frames (fragmented frames are not supported)`);
    if (image.bitsAllocated === 1) throw new Error(`${source}: RLE-encoded 1-bit pixel data is not supported`);
    frames.forEach((f, k) => decodeSamples(decodeRleFrame(f, image.bitsAllocated, n, source), true, image.bitsAllocated, signed, n, out, k * n, source));
  } else {
    decodeSamples(r.bytes.subarray(pix.offset, pix.offset + pix.length), le, image.bitsAllocated, signed, n * image.frames, out, 0, source);
  }
  image.pixels = out;
  return image;
}

/** Options of {@link readDicomSeries}. */
export interface DicomReadOptions {
  /** Which series of the folder (SeriesInstanceUID); default the one with the most images. */
  seriesInstanceUid?: string;
  /** Reorient to the mst-ts convention; default true. */
  canonical?: boolean;
  /** Keep NaN or infinite voxels; default false. */
  allowNonFinite?: boolean;
}

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/**
 * Stacks DICOM images of one series into a {@link Volume}: sorted along the slice normal
 * (row direction x column direction) by ImagePositionPatient (by InstanceNumber where positions are
 * missing), RescaleSlope/Intercept applied, spacing from PixelSpacing and the median distance
 * between slice positions, affine converted from DICOM's LPS+ to RAS+. `(d, h, w)` before
 * reorientation is (slice, row, column).
 *
 * @example
 * const v = dicomImagesToVolume(images, 'series/'); // v.meta.seriesInstanceUid, v.meta.slices
 */
export function dicomImagesToVolume(images: DicomImage[], source: string, options: DicomReadOptions = {}): Volume {
  if (images.length === 0) throw new Error(`${source}: no DICOM images to stack`);
  const first = images[0];
  for (const im of images) {
    if (im.rows !== first.rows || im.columns !== first.columns) {
      throw new Error(`${source}: '${im.source}' is ${im.rows} x ${im.columns} but '${first.source}' is ${first.rows} x ${first.columns}; a series must share one size`);
    }
  }
  const iop = first.orientation ?? [1, 0, 0, 0, 1, 0];
  const rowDir = iop.slice(0, 3);
  const colDir = iop.slice(3, 6);
  const normal = cross(rowDir, colDir);
  const along = (im: DicomImage): number => (im.position ? im.position[0] * normal[0] + im.position[1] * normal[1] + im.position[2] * normal[2] : NaN);
  const sorted = images.every((im) => im.position)
    ? [...images].sort((a, b) => along(a) - along(b))
    : [...images].sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0));
  const frames = sorted.reduce((s, im) => s + im.frames, 0);
  const [R, C] = [first.rows, first.columns];
  const data = new Float32Array(frames * R * C);
  let at = 0;
  for (const im of sorted) {
    const px = im.pixels!;
    for (let i = 0; i < px.length; i++) data[at + i] = px[i] * im.rescaleSlope + im.rescaleIntercept;
    at += px.length;
  }
  const gaps: number[] = [];
  for (let k = 1; k < sorted.length; k++) gaps.push(along(sorted[k]) - along(sorted[k - 1]));
  const finiteGaps = gaps.filter((g) => Number.isFinite(g)).sort((a, b) => a - b);
  const sliceSpacing = finiteGaps.length
    ? finiteGaps[Math.floor(finiteGaps.length / 2)]
    : (first.spacingBetweenSlices ?? first.sliceThickness ?? 1);
  const [dr, dc] = first.pixelSpacing ?? [1, 1];
  const p0 = sorted[0].position ?? [0, 0, 0];
  // LPS affine over (slice, row, column), then x and y negated for RAS+.
  const lps: Affine = [0, 1, 2].map((a) => [normal[a] * sliceSpacing, colDir[a] * dr, rowDir[a] * dc, p0[a]]);
  const affine: Affine = [lps[0].map((v) => -v + 0), lps[1].map((v) => -v + 0), lps[2], [0, 0, 0, 1]];
  const irregular = finiteGaps.length > 1 && finiteGaps[finiteGaps.length - 1] - finiteGaps[0] > 0.01 * Math.abs(sliceSpacing) + 1e-3;
  let volume: Volume = {
    data,
    shape: [frames, R, C],
    spacing: affineSpacing(affine),
    affine,
    orientation: axisCodes(affine),
    dtype: `${first.pixelRepresentation === 1 ? 'int' : 'uint'}${first.bitsAllocated}`,
    source,
    meta: {
      format: 'dicom',
      seriesInstanceUid: first.seriesInstanceUid,
      modality: first.modality,
      slices: frames,
      files: sorted.map((im) => im.source),
      transferSyntax: first.transferSyntax,
      irregularSliceSpacing: irregular,
      rescaleSlope: first.rescaleSlope,
      rescaleIntercept: first.rescaleIntercept,
    },
  };
  if (!options.allowNonFinite) assertFiniteVoxels(volume);
  if (options.canonical !== false) volume = toCanonical(volume, 0);
  return volume;
}

/** Whether a header read without pixels is an image (DICOMDIR and other non-image objects have no rows). */
export function isDicomImage(header: DicomImage): boolean {
  return header.rows > 0 && header.sopClassUid !== '1.2.840.10008.1.3.10';
}

/**
 * Groups items by their header's SeriesInstanceUID and picks one series: `seriesInstanceUid`, or
 * the one with the most images. `series` lists every series found, for the volume's metadata.
 */
export function pickDicomSeries<T>(
  items: { header: DicomImage; item: T }[],
  source: string,
  seriesInstanceUid?: string,
): { chosen: T[]; series: { uid: string; images: number }[] } {
  const bySeries = new Map<string, T[]>();
  for (const { header, item } of items) {
    const list = bySeries.get(header.seriesInstanceUid) ?? [];
    list.push(item);
    bySeries.set(header.seriesInstanceUid, list);
  }
  const series = [...bySeries.entries()].map(([uid, list]) => ({ uid, images: list.length }));
  const uid = seriesInstanceUid ?? [...series].sort((a, b) => b.images - a.images)[0].uid;
  const chosen = bySeries.get(uid);
  if (!chosen) throw new Error(`${source}: no series with SeriesInstanceUID '${uid}'; found ${series.map((s) => `${s.uid} (${s.images} images)`).join(', ')}`);
  return { chosen, series };
}

/**
 * Reads a DICOM series from a folder (recursively) or a single DICOM file. Files are grouped by
 * SeriesInstanceUID; the chosen series (`seriesInstanceUid`, else the largest) is stacked by
 * {@link dicomImagesToVolume}. Files that are not DICOM images (DICOMDIR, other files) are skipped;
 * `meta.series` lists every series found with its image count.
 *
 * @example
 * const v = await readDicomSeries('LIDC-IDRI-0001/01-01-2000-30178/3000566-03192');
 */
export async function readDicomSeries(path: string, options: DicomReadOptions = {}): Promise<Volume> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    throw new Error(`cannot read '${path}': no such file or folder`);
  }
  if (!stat.isDirectory()) {
    const image = parseDicom(await readBytes(path), path);
    return dicomImagesToVolume([image], path, options);
  }
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = nodePath.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  await walk(path);
  files.sort();
  const headers: DicomImage[] = [];
  let skipped = 0;
  for (const file of files) {
    const bytes = await readBytes(file);
    const isDicom = (bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM') || /\.dcm$/i.test(file);
    const header = isDicom ? parseDicom(bytes, file, { pixels: false }) : null;
    if (header && isDicomImage(header)) headers.push(header);
    else skipped++;
  }
  if (headers.length === 0) throw new Error(`${path}: no DICOM images found (${files.length} files, ${skipped} skipped as not DICOM images)`);
  const { chosen, series } = pickDicomSeries(headers.map((h) => ({ header: h, item: h })), path, options.seriesInstanceUid);
  const images = await Promise.all(chosen.map(async (h) => parseDicom(await readBytes(h.source), h.source)));
  const volume = dicomImagesToVolume(images, path, options);
  volume.meta.series = series;
  return volume;
}
