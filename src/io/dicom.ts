import { readBytes } from './files';
import { InflateStream } from './inflate';
import { DEFLATE_MAX_RATIO, MAX_DICOM_SEQUENCE_DEPTH, MAX_DICOM_TEXT_BYTES, MAX_INFLATED_BYTES, MAX_VOLUME_VOXELS } from './limits';
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

// Skips the value of an undefined-length element (a sequence, or encapsulated data inside one)
// starting at `offset`; returns the offset after its delimiter. Nested sequences are walked with
// an explicit stack, not recursion, so a file cannot exhaust the call stack; their depth is capped.
function skipUndefined(r: Reader, offset: number, le: boolean, explicit: boolean): number {
  // 'seq': items until the sequence delimiter; 'item': elements until the item delimiter.
  const stack: ('seq' | 'item')[] = ['seq'];
  let depth = 1;
  let o = offset;
  while (stack.length > 0) {
    r.need(o, 8, 'sequence item');
    const g = r.view.getUint16(o, le);
    const e = r.view.getUint16(o + 2, le);
    if (stack[stack.length - 1] === 'seq') {
      const len = r.view.getUint32(o + 4, le);
      o += 8;
      if (g === 0xfffe && e === 0xe0dd) {
        stack.pop();
        depth--;
      } else if (g === 0xfffe && e === 0xe000) {
        if (len === UNDEFINED) stack.push('item');
        else {
          r.need(o, len, 'sequence item');
          o += len;
        }
      } else {
        throw new Error(`${r.source}: malformed sequence at byte ${o - 8}: expected an item or delimiter tag, got (${hex(g)},${hex(e)})`);
      }
    } else if (g === 0xfffe && e === 0xe00d) {
      o += 8;
      stack.pop();
    } else {
      const h = elementHeader(r, o, le, explicit);
      if (h.length === UNDEFINED) {
        if (++depth > MAX_DICOM_SEQUENCE_DEPTH) throw new Error(`${r.source}: sequences nested deeper than ${MAX_DICOM_SEQUENCE_DEPTH} levels at byte ${o}`);
        stack.push('seq');
        o = h.valueOffset;
      } else {
        r.need(h.valueOffset, h.length, `value of (${hex(h.group)},${hex(h.element)})`);
        o = h.valueOffset + h.length;
      }
    }
  }
  return o;
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

// The tag, VR and length of the element at `o`, without looking at its value.
function elementHeader(r: Reader, o: number, le: boolean, explicit: boolean): { group: number; element: number; vr: string; length: number; valueOffset: number } {
  r.need(o, 8, 'element header');
  const group = r.view.getUint16(o, le);
  const element = r.view.getUint16(o + 2, le);
  // Item tags carry no VR even in explicit syntaxes.
  if (explicit && group !== 0xfffe) {
    const vr = String.fromCharCode(r.bytes[o + 4], r.bytes[o + 5]);
    if (LONG_VRS.has(vr)) {
      r.need(o, 12, 'element header');
      return { group, element, vr, length: r.view.getUint32(o + 8, le), valueOffset: o + 12 };
    }
    return { group, element, vr, length: r.view.getUint16(o + 6, le), valueOffset: o + 8 };
  }
  const key = hex(group).toLowerCase() + hex(element).toLowerCase();
  return { group, element, vr: IMPLICIT_VR[key] ?? 'UN', length: r.view.getUint32(o + 4, le), valueOffset: o + 8 };
}

function readElementHeader(r: Reader, o: number, le: boolean, explicit: boolean): { el: Element; next: number } {
  const { group, element, vr, length, valueOffset } = elementHeader(r, o, le, explicit);
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
  if (el.length > MAX_DICOM_TEXT_BYTES) throw new Error(`${r.source}: (${hex(el.group)},${hex(el.element)}) holds a ${el.length}-byte value, more than the ${MAX_DICOM_TEXT_BYTES} a header field may have`);
  return new TextDecoder('latin1').decode(r.bytes.subarray(el.offset, el.offset + el.length)).replace(/[\0 ]+$/, '').trim();
}

function numbers(r: Reader, el: Element): number[] {
  return text(r, el)
    .split('\\')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map(Number)
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

// Reads the dataset's elements from `o`, keeping only the tags parseDicom uses (a dataset of
// millions of elements costs no memory); stops at the pixel data, or past group 0028 for a header.
function walkElements(r: Reader, o: number, le: boolean, explicit: boolean, headerOnly: boolean): Map<number, Element> {
  const els = new Map<number, Element>();
  const keep = (el: Element, at: number): void => {
    const tag = ((el.group << 16) | el.element) >>> 0;
    if (!WANTED.has(tag)) return;
    // Readers disagree on which copy of a repeated element counts (pydicom the last): refuse.
    if (els.has(tag)) throw new Error(`${r.source}: element (${hex(el.group)},${hex(el.element)}) appears twice (again at byte ${at}); refusing an ambiguous file`);
    els.set(tag, el);
  };
  while (o + 8 <= r.bytes.length) {
    // Elements come in ascending tag order: past group 0028 a header read has all it needs.
    if (headerOnly && r.view.getUint16(o, le) > 0x0028) break;
    const at = o;
    const { el, next } = readElementHeader(r, o, le, explicit);
    keep(el, at);
    o = next;
    if (el.group === 0x7fe0 && el.element === 0x0010) break;
  }
  // After the pixel data only padding and private trailers may follow; a second copy of an
  // element read above makes the file ambiguous. Bytes that are no elements end the walk.
  while (!headerOnly && o + 8 <= r.bytes.length) {
    let step: { el: Element; next: number };
    try {
      step = readElementHeader(r, o, le, explicit);
    } catch {
      break;
    }
    keep(step.el, o);
    o = step.next;
  }
  return els;
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
  const headerOnly = options.pixels === false;
  let els: Map<number, Element>;
  if (transferSyntax === '1.2.840.10008.1.2.1.99') {
    const rest = bytes.subarray(o);
    const limit = Math.min(MAX_INFLATED_BYTES, rest.length * DEFLATE_MAX_RATIO + 1024);
    // A header read inflates only as far as the elements it needs: a prefix, doubled (and
    // inflated anew) while the elements run past it.
    for (let ask = headerOnly ? 65536 : limit; ; ask = Math.min(limit, 2 * ask)) {
      const stream = new InflateStream(rest, `${source}: deflated dataset`, ask, false);
      if (ask === limit) stream.drain(limit);
      else stream.fill(ask);
      r = new Reader(stream.data(), source);
      try {
        els = walkElements(r, 0, le, explicit, headerOnly);
        break;
      } catch (e) {
        if (stream.ended || ask === limit || !(e as Error).message.includes('truncated DICOM file')) throw e;
      }
    }
  } else {
    els = walkElements(r, o, le, explicit, headerOnly);
  }
  // A present element of the wrong size is an error, not the default: reading Rows as 0 or
  // BitsAllocated as 16 when the file says otherwise gives wrong pixels.
  const us = (tag: number, fallback: number): number => {
    const el = els.get(tag);
    if (!el) return fallback;
    if (el.length === 2) return r.view.getUint16(el.offset, le);
    if (el.length === 4) return r.view.getUint32(el.offset, le);
    throw new Error(`${source}: (${hex(tag >>> 16)},${hex(tag & 0xffff)}) holds ${el.length} bytes, expected a 2-byte unsigned short`);
  };
  const str = (tag: number): string => {
    const el = els.get(tag);
    return el ? text(r, el) : '';
  };
  // Empty values (type 2 elements present without a value) count as absent, never as 0.
  const num = (tag: number): number[] | null => {
    const el = els.get(tag);
    if (!el) return null;
    const v = numbers(r, el);
    return v.length ? v : null;
  };
  const rows = us(0x00280010, 0);
  const columns = us(0x00280011, 0);
  const position = num(0x00200032);
  const orientation = num(0x00200037);
  const spacing = num(0x00280030);
  const slope = num(0x00281053)?.[0] ?? 1;
  if (slope === 0) throw new Error(`${source}: RescaleSlope (0028,1053) is 0, which would map every pixel to the intercept`);
  const image: DicomImage = {
    source,
    transferSyntax,
    sopClassUid: str(0x00080016),
    sopInstanceUid: str(0x00080018),
    seriesInstanceUid: str(0x0020000e),
    modality: str(0x00080060),
    instanceNumber: num(0x00200013)?.[0] ?? null,
    position: position && position.length >= 3 ? [position[0], position[1], position[2]] : null,
    orientation: orientation && orientation.length >= 6 ? (orientation.slice(0, 6) as DicomImage['orientation']) : null,
    pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0], spacing[1]] : null,
    sliceThickness: positive(num(0x00180050)?.[0]),
    spacingBetweenSlices: positive(num(0x00180088)?.[0]),
    rows,
    columns,
    frames: frameCount(num(0x00280008), source),
    bitsAllocated: us(0x00280100, 16),
    pixelRepresentation: us(0x00280103, 0),
    samplesPerPixel: us(0x00280002, 1),
    rescaleSlope: slope,
    rescaleIntercept: num(0x00281052)?.[0] ?? 0,
    pixels: null,
  };
  if (headerOnly) return image;
  const pix = els.get(PIXEL_DATA);
  if (!pix) throw new Error(`${source}: no pixel data (7FE0,0010) in this DICOM file`);
  if (image.samplesPerPixel !== 1) throw new Error(`${source}: ${image.samplesPerPixel} samples per pixel (colour); mst-ts reads greyscale images only`);
  if (![1, 8, 16, 32].includes(image.bitsAllocated)) throw new Error(`${source}: BitsAllocated ${image.bitsAllocated} is not supported (expected 1, 8, 16 or 32)`);
  if (!(rows > 0 && columns > 0)) throw new Error(`${source}: Rows and Columns must be positive, got ${rows} x ${columns}`);
  const n = rows * columns;
  const total = n * image.frames;
  if (total > MAX_VOLUME_VOXELS) throw new Error(`${source}: Rows x Columns x NumberOfFrames = ${rows} x ${columns} x ${image.frames} pixels, more than the limit of ${MAX_VOLUME_VOXELS}`);
  const signed = image.pixelRepresentation === 1;
  if (pix.fragments) {
    if (transferSyntax !== '1.2.840.10008.1.2.5') throw new Error(`${source}: encapsulated pixel data in ${SUPPORTED_TRANSFER_SYNTAXES[transferSyntax]}`);
    // The first fragment is the basic offset table; with one fragment per frame the rest are frames.
    const frames = pix.fragments.slice(1);
    if (frames.length !== image.frames) throw new Error(`${source}: ${frames.length} RLE fragments for NumberOfFrames ${image.frames} (fragmented frames are not supported)`);
    if (image.bitsAllocated === 1) throw new Error(`${source}: RLE-encoded 1-bit pixel data is not supported`);
    // An RLE run of 2 bytes gives at most 128: a frame cannot decode to more than 64x its size.
    frames.forEach((f, k) => {
      if (n * (image.bitsAllocated / 8) > f.length * 64) throw new Error(`${source}: RLE frame ${k} has ${f.length} bytes, too few for ${rows} x ${columns} pixels (Rows/Columns corrupt?)`);
    });
    const out = new Float32Array(total);
    frames.forEach((f, k) => decodeSamples(decodeRleFrame(f, image.bitsAllocated, n, source), true, image.bitsAllocated, signed, n, out, k * n, source));
    image.pixels = out;
  } else {
    const data = r.bytes.subarray(pix.offset, pix.offset + pix.length);
    const need = image.bitsAllocated === 1 ? Math.ceil(total / 8) : total * (image.bitsAllocated / 8);
    // Checked before allocating: Rows, Columns and NumberOfFrames cannot claim more than the file holds.
    if (data.length < need) {
      throw new Error(`${source}: pixel data has ${data.length} bytes, Rows x Columns x NumberOfFrames = ${rows} x ${columns} x ${image.frames} of ${image.bitsAllocated} bits need ${need} (truncated?)`);
    }
    const out = new Float32Array(total);
    decodeSamples(data, le, image.bitsAllocated, signed, total, out, 0, source);
    image.pixels = out;
  }
  return image;
}

const PIXEL_DATA = 0x7fe00010;
const WANTED = new Set([
  0x00080016, 0x00080018, 0x00080060, 0x00180050, 0x00180088, 0x0020000e, 0x00200013, 0x00200032, 0x00200037, 0x00280002, 0x00280008, 0x00280010, 0x00280011,
  0x00280030, 0x00280100, 0x00280103, 0x00281052, 0x00281053, PIXEL_DATA,
]);

function positive(v: number | undefined): number | null {
  return v !== undefined && v > 0 ? v : null;
}

// NumberOfFrames as pydicom reads it: absent, empty or 0 mean one frame; anything but a positive
// integer is an error naming the field.
function frameCount(values: number[] | null, source: string): number {
  const v = values?.[0];
  if (v === undefined || v === 0) return 1;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${source}: NumberOfFrames (0028,0008) must be a positive integer, got ${v}`);
  return v;
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
  if (frames * R * C > MAX_VOLUME_VOXELS) throw new Error(`${source}: ${frames} slices of ${R} x ${C} make more than the limit of ${MAX_VOLUME_VOXELS} voxels`);
  for (const im of sorted) if (!im.pixels || im.pixels.length !== im.frames * R * C) throw new Error(`${source}: '${im.source}' has no decoded pixels for its ${im.frames} frame(s) of ${R} x ${C}`);
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
  if (!(Math.abs(sliceSpacing) > 0)) {
    const k = gaps.findIndex((g) => g === 0);
    const pair = k >= 0 ? `'${sorted[k].source}' and '${sorted[k + 1].source}'` : 'its images';
    throw new Error(`${source}: ${pair} share one ImagePositionPatient along the slice normal (duplicate slices?); the slice spacing would be 0`);
  }
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
