import { readBytes } from './files';
import { InflateStream } from './inflate';
import { DEFLATE_MAX_RATIO, MAX_DICOM_SEQUENCE_DEPTH, MAX_DICOM_TEXT_BYTES, MAX_INFLATED_BYTES, MAX_VOLUME_VOXELS } from './limits';
import { COMPRESSED_TRANSFER_SYNTAXES, decodeCompressedFrame, encapsulatedFrames } from './dicom_codecs';
import { orderDicomSlices, resampleSlices, untilt, type DicomGeometryOptions } from './dicom_geometry';
import { pushTo, selectDicomImages, type DicomSelectOptions, type DicomSeriesInfo } from './dicom_series';
import { affineSpacing, assertFiniteVoxels, axisCodes, toCanonical, type Affine, type Volume } from './volume';
import type { DicomFrameGeometry, DicomImage } from './dicom_image';

export type { DicomFrameGeometry, DicomImage } from './dicom_image';

/** Transfer syntaxes whose pixel data {@link parseDicom} decodes. */
export const SUPPORTED_TRANSFER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

// Syntaxes mst-ts names but does not decode.
const UNSUPPORTED_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component Image Compression',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.8.1': 'Deflated Image Frame Compression',
};


interface Element {
  group: number;
  element: number;
  vr: string;
  offset: number;
  length: number;
  /** Fragments of encapsulated pixel data (undefined-length 7FE0,0010). */
  fragments?: Uint8Array[];
  /** Offset just past the element (past its delimiter, for undefined lengths). */
  end?: number;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
// VRs of the tags read from implicit-VR data; anything else is skipped or read as text.
const IMPLICIT_VR: Record<string, string> = {
  '00280010': 'US',
  '00280011': 'US',
  '00280100': 'US',
  '00280101': 'US',
  '00280103': 'US',
  '00280006': 'US',
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

// Decodes one RLE Lossless frame (DICOM PS3.5 Annex G): one segment per byte of each sample, most
// significant first. Returns the samples little-endian, one plane per sample (colour by plane).
function decodeRleFrame(frame: Uint8Array, bitsAllocated: number, n: number, source: string, samples = 1): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 64) throw new Error(`${source}: RLE frame header truncated (${frame.length} of 64 bytes)`);
  const segments = view.getUint32(0, true);
  const bytesPer = bitsAllocated / 8;
  if (segments !== bytesPer * samples) throw new Error(`${source}: RLE frame has ${segments} segments, expected ${bytesPer * samples} for ${samples} sample(s) of ${bitsAllocated} bits`);
  const out = new Uint8Array(n * bytesPer * samples);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    let i = start;
    let p = 0;
    const lane = bytesPer - 1 - (s % bytesPer);
    const base = Math.floor(s / bytesPer) * n;
    while (i < end && p < n) {
      const c = (frame[i++] << 24) >> 24;
      if (c >= 0) {
        for (let k = 0; k <= c && p < n; k++) out[(base + p++) * bytesPer + lane] = frame[i++];
      } else if (c !== -128) {
        const v = frame[i++];
        for (let k = 0; k < 1 - c && p < n; k++) out[(base + p++) * bytesPer + lane] = v;
      }
    }
    if (p < n) throw new Error(`${source}: RLE segment ${s} decodes to ${p} of ${n} pixels (truncated?)`);
  }
  return out;
}

// Colour samples of `frames` frames of `n` pixels as luminance (0.299 R + 0.587 G + 0.114 B): the
// grey image a slice encoder reads. YBR_FULL is converted to RGB first (rounded and clipped to
// the stored range, as pydicom does); planar configuration 1 stores each sample as a plane.
function luminance(samples: Float32Array, n: number, frames: number, planar: boolean, photometric: string, bits: number): Float32Array {
  const out = new Float32Array(n * frames);
  const max = 2 ** bits - 1;
  const mid = 2 ** (bits - 1);
  const ybr = photometric === 'YBR_FULL';
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < n; i++) {
      const at = planar ? [3 * f * n + i, 3 * f * n + n + i, 3 * f * n + 2 * n + i] : [3 * (f * n + i), 3 * (f * n + i) + 1, 3 * (f * n + i) + 2];
      let [r, g, b] = at.map((k) => samples[k]);
      if (ybr) {
        const [y, cb, cr] = [r, g, b];
        const clip = (v: number): number => Math.min(max, Math.max(0, Math.round(v)));
        r = clip(y + 1.402 * (cr - mid));
        g = clip(y - 0.344136 * (cb - mid) - 0.714136 * (cr - mid));
        b = clip(y + 1.772 * (cb - mid));
      }
      out[f * n + i] = 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  return out;
}

// Stored values as the standard reads them: the low `bitsStored` bits of each `bits`-bit sample
// (the bits above may hold overlays or garbage), two's complement when signed.
function decodeSamples(bytes: Uint8Array, le: boolean, bits: number, bitsStored: number, signed: boolean, count: number, out: Float32Array, at: number, source: string): void {
  if (bits === 1) {
    // Bit-packed (segmentations): pixel i is bit i % 8 of byte i / 8, least significant first.
    if (bytes.length < Math.ceil(count / 8)) throw new Error(`${source}: pixel data has ${bytes.length} bytes, ${count} 1-bit pixels need ${Math.ceil(count / 8)} (truncated?)`);
    for (let i = 0; i < count; i++) out[at + i] = (bytes[i >> 3] >> (i & 7)) & 1;
    return;
  }
  const bytesPer = bits / 8;
  if (bytes.length < count * bytesPer) throw new Error(`${source}: pixel data has ${bytes.length} bytes, ${count} pixels of ${bits} bits need ${count * bytesPer} (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const range = 2 ** bitsStored;
  const half = range / 2;
  for (let i = 0; i < count; i++) {
    let v: number;
    if (bits === 8) v = view.getUint8(i);
    else if (bits === 16) v = view.getUint16(2 * i, le);
    else v = view.getUint32(4 * i, le);
    if (bitsStored < bits) v %= range;
    out[at + i] = signed && v >= half ? v - range : v;
  }
}

// The per-frame geometry of an enhanced multi-frame file: each field from the frame's own
// functional group macro, else the shared one, else the top-level element.
function functionalGroups(r: Reader, els: Map<number, Element>, le: boolean, explicit: boolean, image: DicomImage): DicomFrameGeometry[] {
  const items = (el: Element | undefined, max: number): Map<number, Element>[] =>
    el ? sequenceItems(r, el.offset, el.length === UNDEFINED ? el.end! : el.offset + el.length, le, explicit, max) : [];
  const shared = items(els.get(SHARED_GROUPS), 1)[0] ?? new Map<number, Element>();
  const frames = items(els.get(PER_FRAME_GROUPS), image.frames);
  if (frames.length !== image.frames) throw new Error(`${r.source}: PerFrameFunctionalGroupsSequence (5200,9230) holds ${frames.length} items for NumberOfFrames ${image.frames}`);
  // A macro is a sequence of one item; a few more are tolerated and ignored.
  const macro = (group: Map<number, Element>, tag: number): Map<number, Element> | undefined => items(group.get(tag), 16)[0];
  const sharedMacros = new Map<number, Map<number, Element> | undefined>();
  const fromShared = (tag: number): Map<number, Element> | undefined => {
    if (!sharedMacros.has(tag)) sharedMacros.set(tag, macro(shared, tag));
    return sharedMacros.get(tag);
  };
  return frames.map((frame) => {
    const get = (macroTag: number, tag: number): Element | undefined => macro(frame, macroTag)?.get(tag) ?? fromShared(macroTag)?.get(tag);
    const nums = (el: Element | undefined): number[] | null => {
      const v = el ? numbers(r, el) : [];
      return v.length ? v : null;
    };
    const position = nums(get(0x00209113, 0x00200032));
    const orientation = nums(get(0x00209116, 0x00200037));
    const spacing = nums(get(0x00289110, 0x00280030));
    const slope = nums(get(0x00289145, 0x00281053))?.[0];
    const temporal = get(0x00209111, 0x00209128);
    if (slope === 0) throw new Error(`${r.source}: RescaleSlope (0028,1053) is 0 in a functional group`);
    return {
      position: position && position.length >= 3 ? [position[0], position[1], position[2]] : image.position,
      orientation: orientation && orientation.length >= 6 ? (orientation.slice(0, 6) as DicomImage['orientation']) : image.orientation,
      pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0], spacing[1]] : image.pixelSpacing,
      sliceThickness: positive(nums(get(0x00289110, 0x00180050))?.[0]) ?? image.sliceThickness,
      spacingBetweenSlices: positive(nums(get(0x00289110, 0x00180088))?.[0]) ?? image.spacingBetweenSlices,
      rescaleSlope: slope ?? image.rescaleSlope,
      rescaleIntercept: nums(get(0x00289145, 0x00281052))?.[0] ?? image.rescaleIntercept,
      temporalPositionIdentifier: temporal?.length === 4 ? r.view.getUint32(temporal.offset, le) : image.temporalPositionIdentifier,
    };
  });
}

/**
 * One image per frame of an enhanced multi-frame file (with its frame's position, orientation,
 * spacing, rescale and phase); any other image as it is. Frames are named `file [frame k]`.
 *
 * @example
 * const slices = dicomFrames(parseDicom(bytes, 'enhanced.dcm')); // one DicomImage per frame
 */
export function dicomFrames(image: DicomImage): DicomImage[] {
  const geometry = image.perFrame;
  if (!geometry) return [image];
  const n = image.rows * image.columns;
  return geometry.map((g, k) => {
    const frame: DicomImage = { ...image, ...g, frames: 1, source: `${image.source} [frame ${k + 1}]`, pixels: image.pixels ? image.pixels.subarray(k * n, (k + 1) * n) : null };
    delete frame.perFrame;
    return frame;
  });
}

function isMultiFrame(r: Reader, els: Map<number, Element>): boolean {
  const el = els.get(0x00280008);
  return el !== undefined && (numbers(r, el)[0] ?? 0) > 1;
}

// The items of a sequence value in [start, end), each as its top-level elements (nested sequences
// are skipped, and read by a further call on their element). At most `maxItems` items.
function sequenceItems(r: Reader, start: number, end: number, le: boolean, explicit: boolean, maxItems: number): Map<number, Element>[] {
  const items: Map<number, Element>[] = [];
  let o = start;
  while (o + 8 <= end) {
    const g = r.view.getUint16(o, le);
    const e = r.view.getUint16(o + 2, le);
    const len = r.view.getUint32(o + 4, le);
    if (g === 0xfffe && e === 0xe0dd) break;
    if (!(g === 0xfffe && e === 0xe000)) throw new Error(`${r.source}: malformed sequence at byte ${o}: expected an item, got (${hex(g)},${hex(e)})`);
    if (items.length === maxItems) throw new Error(`${r.source}: a functional groups sequence holds more than ${maxItems} items (NumberOfFrames)`);
    o += 8;
    const stop = len === UNDEFINED ? end : o + len;
    if (len !== UNDEFINED) r.need(o, len, 'sequence item');
    const els = new Map<number, Element>();
    while (o + 8 <= stop) {
      if (r.view.getUint16(o, le) === 0xfffe && r.view.getUint16(o + 2, le) === 0xe00d) {
        o += 8;
        break;
      }
      const { el, next } = readElementHeader(r, o, le, explicit);
      el.end = next;
      const tag = ((el.group << 16) | el.element) >>> 0;
      if (!els.has(tag)) els.set(tag, el);
      o = next;
    }
    if (len !== UNDEFINED) o = stop;
    items.push(els);
  }
  return items;
}

// Reads the dataset's elements from `o`, keeping only the tags parseDicom uses (a dataset of
// millions of elements costs no memory); stops at the pixel data, or past group 0028 for a header.
function walkElements(r: Reader, o: number, le: boolean, explicit: boolean, headerOnly: boolean): Map<number, Element> {
  const els = new Map<number, Element>();
  const keep = (el: Element, at: number, next: number): void => {
    const tag = ((el.group << 16) | el.element) >>> 0;
    if (!WANTED.has(tag)) return;
    el.end = next;
    // Readers disagree on which copy of a repeated element counts (pydicom the last): refuse.
    if (els.has(tag)) throw new Error(`${r.source}: element (${hex(el.group)},${hex(el.element)}) appears twice (again at byte ${at}); refusing an ambiguous file`);
    els.set(tag, el);
  };
  while (o + 8 <= r.bytes.length) {
    // Elements come in ascending tag order: past group 0028 a header read has all it needs, but
    // for the functional groups (5200) of a multi-frame file.
    const group = r.view.getUint16(o, le);
    if (headerOnly && group > 0x0028 && (group > 0x5200 || !isMultiFrame(r, els))) break;
    const at = o;
    const { el, next } = readElementHeader(r, o, le, explicit);
    keep(el, at, next);
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
    keep(step.el, o, step.next);
    o = step.next;
  }
  return els;
}

/**
 * Parses one DICOM file (Part 10 with or without the 128-byte preamble, or a bare dataset).
 * Implicit and explicit VR little endian, explicit VR big endian, deflated explicit little endian
 * and RLE Lossless pixel data are decoded here; the syntaxes that need a WebAssembly codec (JPEG,
 * JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K) are decoded by {@link parseDicomAsync}, and here raise
 * an error saying so unless `encoded: true` keeps their frames in `encodedFrames`. Syntaxes mst-ts
 * cannot decode raise an error naming their UID and name. Sequences are skipped. Set
 * `pixels: false` to read headers only.
 *
 * @example
 * const img = parseDicom(bytes, 'CT_small.dcm'); // img.rows, img.columns, img.pixels
 */
export function parseDicom(bytes: Uint8Array, source = 'DICOM', options: { pixels?: boolean; encoded?: boolean } = {}): DicomImage {
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
  const compressed = COMPRESSED_TRANSFER_SYNTAXES[transferSyntax];
  if (!SUPPORTED_TRANSFER_SYNTAXES[transferSyntax] && !compressed) {
    const name = UNSUPPORTED_NAMES[transferSyntax] ?? 'an unknown transfer syntax';
    throw new Error(
      `${source}: pixel data is encoded as ${name} (${transferSyntax}), which mst-ts does not decode; supported: ${[...Object.values(SUPPORTED_TRANSFER_SYNTAXES), ...Object.values(COMPRESSED_TRANSFER_SYNTAXES).map((c) => c.name)].join(', ')}. Convert the series first (e.g. 'gdcmconv --raw').`,
    );
  }
  const headerOnly = options.pixels === false;
  if (compressed && !headerOnly && !options.encoded) {
    throw new Error(`${source}: pixel data is encoded as ${compressed.name} (${transferSyntax}), which needs a codec loaded asynchronously: read it with parseDicomAsync, readDicomSeries or readVolume`);
  }
  const le = transferSyntax !== '1.2.840.10008.1.2.2';
  const explicit = transferSyntax !== '1.2.840.10008.1.2';
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
  // A binary double (FD), as DiffusionBValue; absent or of another size: null.
  const float64 = (tag: number): number | null => {
    const el = els.get(tag);
    if (!el || el.length !== 8) return null;
    const v = r.view.getFloat64(el.offset, le);
    return Number.isFinite(v) ? v : null;
  };
  const rows = us(0x00280010, 0);
  const bitsAllocated = us(0x00280100, 16);
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
    seriesDescription: str(0x0008103e),
    seriesNumber: num(0x00200011)?.[0] ?? null,
    instanceNumber: num(0x00200013)?.[0] ?? null,
    acquisitionNumber: num(0x00200012)?.[0] ?? null,
    temporalPositionIdentifier: num(0x00200100)?.[0] ?? null,
    triggerTime: num(0x00181060)?.[0] ?? null,
    echoNumber: num(0x00180086)?.[0] ?? null,
    diffusionBValue: float64(0x00189087),
    position: position && position.length >= 3 ? [position[0], position[1], position[2]] : null,
    orientation: orientation && orientation.length >= 6 ? (orientation.slice(0, 6) as DicomImage['orientation']) : null,
    pixelSpacing: spacing && spacing.length >= 2 ? [spacing[0], spacing[1]] : null,
    sliceThickness: positive(num(0x00180050)?.[0]),
    spacingBetweenSlices: positive(num(0x00180088)?.[0]),
    rows,
    columns,
    frames: frameCount(num(0x00280008), source),
    bitsAllocated,
    bitsStored: us(0x00280101, bitsAllocated),
    pixelRepresentation: us(0x00280103, 0),
    samplesPerPixel: us(0x00280002, 1),
    photometricInterpretation: str(0x00280004) || 'MONOCHROME2',
    rescaleSlope: slope,
    rescaleIntercept: num(0x00281052)?.[0] ?? 0,
    pixels: null,
  };
  if (image.frames > 1 && els.has(PER_FRAME_GROUPS)) image.perFrame = functionalGroups(r, els, le, explicit, image);
  if (headerOnly) return image;
  const pix = els.get(PIXEL_DATA);
  if (!pix) throw new Error(`${source}: no pixel data (7FE0,0010) in this DICOM file`);
  const spp = image.samplesPerPixel;
  if (spp !== 1 && spp !== 3) throw new Error(`${source}: ${spp} samples per pixel; mst-ts reads greyscale (1) and colour (3) images`);
  const colour = spp === 3;
  if (colour && !compressed && !['RGB', 'YBR_FULL'].includes(image.photometricInterpretation)) {
    throw new Error(`${source}: colour pixel data in ${image.photometricInterpretation} is not supported uncompressed (expected RGB or YBR_FULL)`);
  }
  if (colour && image.bitsAllocated !== 8 && image.bitsAllocated !== 16) throw new Error(`${source}: colour pixel data of ${image.bitsAllocated} bits is not supported (expected 8 or 16)`);
  if (![1, 8, 16, 32].includes(image.bitsAllocated)) throw new Error(`${source}: BitsAllocated ${image.bitsAllocated} is not supported (expected 1, 8, 16 or 32)`);
  if (!(image.bitsStored >= 1 && image.bitsStored <= image.bitsAllocated)) throw new Error(`${source}: BitsStored (0028,0101) is ${image.bitsStored}, expected 1 to BitsAllocated (${image.bitsAllocated})`);
  if (!(rows > 0 && columns > 0)) throw new Error(`${source}: Rows and Columns must be positive, got ${rows} x ${columns}`);
  const n = rows * columns;
  const total = n * image.frames;
  if (total * spp > MAX_VOLUME_VOXELS) throw new Error(`${source}: Rows x Columns x NumberOfFrames = ${rows} x ${columns} x ${image.frames} pixels, more than the limit of ${MAX_VOLUME_VOXELS}`);
  const planar = us(0x00280006, 0) === 1;
  const signed = image.pixelRepresentation === 1;
  if (compressed) {
    if (!pix.fragments) throw new Error(`${source}: ${compressed.name} pixel data must be encapsulated (undefined length), but (7FE0,0010) has a defined length`);
    if (image.bitsAllocated === 1 || image.bitsAllocated === 32) throw new Error(`${source}: ${image.bitsAllocated}-bit ${compressed.name} pixel data is not supported`);
    image.encodedFrames = encapsulatedFrames(pix.fragments, image.frames, source);
    return image;
  }
  if (pix.fragments) {
    if (transferSyntax !== '1.2.840.10008.1.2.5') throw new Error(`${source}: encapsulated pixel data in ${SUPPORTED_TRANSFER_SYNTAXES[transferSyntax]}`);
    // The first fragment is the basic offset table; with one fragment per frame the rest are frames.
    const frames = pix.fragments.slice(1);
    if (frames.length !== image.frames) throw new Error(`${source}: ${frames.length} RLE fragments for NumberOfFrames ${image.frames} (fragmented frames are not supported)`);
    if (image.bitsAllocated === 1) throw new Error(`${source}: RLE-encoded 1-bit pixel data is not supported`);
    // An RLE run of 2 bytes gives at most 128: a frame cannot decode to more than 64x its size.
    frames.forEach((f, k) => {
      if (n * spp * (image.bitsAllocated / 8) > f.length * 64) throw new Error(`${source}: RLE frame ${k} has ${f.length} bytes, too few for ${rows} x ${columns} pixels (Rows/Columns corrupt?)`);
    });
    const out = new Float32Array(total * spp);
    frames.forEach((f, k) => decodeSamples(decodeRleFrame(f, image.bitsAllocated, n, source, spp), true, image.bitsAllocated, image.bitsStored, signed, n * spp, out, k * n * spp, source));
    image.pixels = colour ? luminance(out, n, image.frames, true, image.photometricInterpretation, image.bitsStored) : out;
  } else {
    const data = r.bytes.subarray(pix.offset, pix.offset + pix.length);
    const need = image.bitsAllocated === 1 ? Math.ceil(total / 8) : total * spp * (image.bitsAllocated / 8);
    // Checked before allocating: Rows, Columns and NumberOfFrames cannot claim more than the file holds.
    if (data.length < need) {
      throw new Error(`${source}: pixel data has ${data.length} bytes, Rows x Columns x NumberOfFrames = ${rows} x ${columns} x ${image.frames} of ${image.bitsAllocated} bits need ${need} (truncated?)`);
    }
    const out = new Float32Array(total * spp);
    decodeSamples(data, le, image.bitsAllocated, image.bitsStored, signed, total * spp, out, 0, source);
    image.pixels = colour ? luminance(out, n, image.frames, planar, image.photometricInterpretation, image.bitsStored) : out;
  }
  return image;
}

/**
 * Decodes an image's `encodedFrames` (from `parseDicom(bytes, source, { encoded: true })`) into
 * `pixels`, loading the syntax's codec on first use. Images without encoded frames are returned as
 * they are.
 *
 * @example
 * const img = await decodeDicomPixels(parseDicom(bytes, 'a.dcm', { encoded: true }));
 */
export async function decodeDicomPixels(image: DicomImage): Promise<DicomImage> {
  const frames = image.encodedFrames;
  if (!frames) return image;
  const n = image.rows * image.columns;
  const spp = image.samplesPerPixel;
  const out = new Float32Array(n * spp * image.frames);
  let bits = image.bitsStored;
  for (let k = 0; k < frames.length; k++) {
    const { bytes, bytesPerSample } = await decodeCompressedFrame(image.transferSyntax, frames[k], {
      rows: image.rows,
      columns: image.columns,
      samplesPerPixel: image.samplesPerPixel,
      bitsAllocated: image.bitsAllocated,
      source: image.source,
      frame: k,
    });
    bits = Math.min(image.bitsStored, 8 * bytesPerSample);
    decodeSamples(bytes, true, 8 * bytesPerSample, bits, image.pixelRepresentation === 1, n * spp, out, k * n * spp, image.source);
  }
  // The codecs return colour as interleaved RGB, their colour transforms (YBR, RCT, ICT) undone.
  image.pixels = spp === 3 ? luminance(out, n, image.frames, false, 'RGB', bits) : out;
  delete image.encodedFrames;
  return image;
}

/**
 * {@link parseDicom} for every transfer syntax mst-ts reads, compressed ones included: the codec a
 * file needs is imported on first use.
 *
 * @example
 * const img = await parseDicomAsync(bytes, 'CT_jpeg_ls.dcm'); // img.pixels
 */
export async function parseDicomAsync(bytes: Uint8Array, source = 'DICOM'): Promise<DicomImage> {
  return decodeDicomPixels(parseDicom(bytes, source, { encoded: true }));
}

const PIXEL_DATA = 0x7fe00010;
const SHARED_GROUPS = 0x52009229;
const PER_FRAME_GROUPS = 0x52009230;
const WANTED = new Set([
  SHARED_GROUPS,
  PER_FRAME_GROUPS,
  0x00080016, 0x00080018, 0x00080060, 0x0008103e, 0x00180050, 0x00180086, 0x00180088, 0x00181060, 0x00189087, 0x0020000e, 0x00200011, 0x00200012, 0x00200013, 0x00200032,
  0x00200037, 0x00200100, 0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010, 0x00280011, 0x00280030, 0x00280100, 0x00280101, 0x00280103, 0x00281052,
  0x00281053, PIXEL_DATA,
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

/** Options of {@link readDicomSeries}: which volume of a folder, and how strict its geometry is read. */
export interface DicomReadOptions extends DicomSelectOptions, DicomGeometryOptions {
  /** Reorient to the mst-ts convention; default true. */
  canonical?: boolean;
  /** Keep NaN or infinite voxels; default false. */
  allowNonFinite?: boolean;
}

// MONOCHROME1 shows the lowest value white: stored values are mirrored in their range, so that
// higher always means brighter, as in MONOCHROME2.
function monochrome1Offset(im: DicomImage): number {
  return im.pixelRepresentation === 1 ? -1 : 2 ** im.bitsStored - 1;
}

/**
 * Stacks DICOM images of one series into a {@link Volume}: ordered along the slice normal
 * (row direction x column direction) by ImagePositionPatient, never by file name or InstanceNumber,
 * after the checks of {@link orderDicomSlices} (missing or mixed geometry, duplicated positions,
 * gantry tilt and uneven gaps are refused, naming the files, or resampled where `options` ask).
 * MONOCHROME1 is inverted, RescaleSlope/Intercept applied, spacing from PixelSpacing and the median
 * gap, the affine converted from DICOM's LPS+ to RAS+. `(d, h, w)` before reorientation is
 * (slice, row, column).
 *
 * @example
 * const v = dicomImagesToVolume(images, 'series/'); // v.meta.seriesInstanceUid, v.meta.slices
 */
export function dicomImagesToVolume(files: DicomImage[], source: string, options: DicomReadOptions = {}): Volume {
  if (files.length === 0) throw new Error(`${source}: no DICOM images to stack`);
  const images = files.flatMap(dicomFrames);
  const first = images[0];
  for (const im of images) {
    if (im.rows !== first.rows || im.columns !== first.columns) {
      throw new Error(`${source}: '${im.source}' is ${im.rows} x ${im.columns} but '${first.source}' is ${first.rows} x ${first.columns}; a series must share one size`);
    }
  }
  const multiFrame = images.length > 1 ? images.find((im) => im.frames > 1) : undefined;
  if (multiFrame) throw new Error(`${source}: '${multiFrame.source}' holds ${multiFrame.frames} frames with one position; it cannot be ordered among the series' other files (read it alone)`);
  const g = orderDicomSlices(images, source, options);
  const { sorted, normal, rowDir, colDir } = g;
  const frames = sorted.reduce((s, im) => s + im.frames, 0);
  const [R, C] = [first.rows, first.columns];
  if (frames * R * C > MAX_VOLUME_VOXELS) throw new Error(`${source}: ${frames} slices of ${R} x ${C} make more than the limit of ${MAX_VOLUME_VOXELS} voxels`);
  for (const im of sorted) if (!im.pixels || im.pixels.length !== im.frames * R * C) throw new Error(`${source}: '${im.source}' has no decoded pixels for its ${im.frames} frame(s) of ${R} x ${C}`);
  let data: Float32Array = new Float32Array(frames * R * C);
  let at = 0;
  for (const im of sorted) {
    const px = im.pixels!;
    const invert = im.photometricInterpretation === 'MONOCHROME1';
    const offset = monochrome1Offset(im);
    for (let i = 0; i < px.length; i++) data[at + i] = (invert ? offset - px[i] : px[i]) * im.rescaleSlope + im.rescaleIntercept;
    at += px.length;
  }
  const [dr, dc] = first.pixelSpacing ?? [1, 1];
  if (!(dr > 0 && dc > 0)) throw new Error(`${source}: PixelSpacing (0028,0030) of '${first.source}' is [${dr}, ${dc}]; both must be positive`);
  const resampled: string[] = [];
  if (g.tiltDegrees > 0) {
    let fill = Infinity;
    for (let i = 0; i < data.length; i++) if (data[i] < fill) fill = data[i];
    data = untilt(data, [frames, R, C], sorted.map((im) => im.position!), g, [dr, dc], fill);
    resampled.push(`gantry tilt of ${g.tiltDegrees.toFixed(2)} degrees: slices shifted in plane onto the first slice's grid`);
  }
  let slices = frames;
  if (g.irregular && options.irregularSpacing === 'resample') {
    ({ data, slices } = resampleSlices(data, [frames, R, C], g.along, g.spacing, MAX_VOLUME_VOXELS));
    resampled.push(`uneven slice gaps: ${frames} slices resampled linearly to ${slices} at ${g.spacing.toFixed(3)} mm`);
  }
  const sliceSpacing = g.spacing;
  // Along the normal from the first slice; a tilted stack's own positions drift in plane.
  const p0 = sorted[0].position ?? [0, 0, 0];
  // LPS affine over (slice, row, column), then x and y negated for RAS+.
  const lps: Affine = [0, 1, 2].map((a) => [normal[a] * sliceSpacing, colDir[a] * dr, rowDir[a] * dc, p0[a]]);
  const affine: Affine = [lps[0].map((v) => -v + 0), lps[1].map((v) => -v + 0), lps[2], [0, 0, 0, 1]];
  let volume: Volume = {
    data,
    shape: [slices, R, C],
    spacing: affineSpacing(affine),
    affine,
    orientation: axisCodes(affine),
    dtype: `${first.pixelRepresentation === 1 ? 'int' : 'uint'}${first.bitsAllocated}`,
    source,
    meta: {
      format: 'dicom',
      seriesInstanceUid: first.seriesInstanceUid,
      seriesDescription: first.seriesDescription,
      modality: first.modality,
      slices,
      files: sorted.map((im) => im.source),
      transferSyntax: first.transferSyntax,
      photometricInterpretation: first.photometricInterpretation,
      ...(first.samplesPerPixel === 3 ? { colour: 'converted to luminance, 0.299 R + 0.587 G + 0.114 B' } : {}),
      irregularSliceSpacing: g.irregular,
      rescaleSlope: first.rescaleSlope,
      rescaleIntercept: first.rescaleIntercept,
      ...(resampled.length ? { resampled } : {}),
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
 * Reads a DICOM series from a folder (recursively) or a single DICOM file. Files are grouped by
 * SeriesInstanceUID and split into phases where a series repeats its positions (see
 * {@link selectDicomImages}); the chosen series (`seriesInstanceUid`, else the largest) and phase
 * (`phase`, required where there are several) are stacked by {@link dicomImagesToVolume}. Files
 * that are not DICOM images (DICOMDIR, other files) are skipped; `meta.series` lists every series
 * found ({@link DicomSeriesInfo}), `meta.phase` the phase read.
 *
 * @example
 * const v = await readDicomSeries('LIDC-IDRI-0001/01-01-2000-30178/3000566-03192');
 * const late = await readDicomSeries('breast-dce/', { phase: 2 });
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
    // Through the selection: an enhanced multi-frame file may hold several phases.
    return stackDicomHeaders([parseDicom(await readBytes(path), path, { pixels: false })], path, options, readBytes);
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
  return stackDicomHeaders(headers, path, options, readBytes);
}

/**
 * Chooses one volume among image headers (read with `pixels: false`; enhanced multi-frame files
 * split into their frames) as {@link selectDicomImages} does, reads the chosen files again with
 * `load` (one at a time, decoding compressed ones) and stacks them with {@link dicomImagesToVolume}.
 * `meta.series` lists every series, `meta.phase` the phase read.
 *
 * @example
 * const v = await stackDicomHeaders(headers, 'study/', { phase: 1 }, readBytes);
 */
export async function stackDicomHeaders(headers: DicomImage[], source: string, options: DicomReadOptions, load: (file: string) => Promise<Uint8Array>): Promise<Volume> {
  const entries = headers.flatMap((h) => dicomFrames(h).map((header, k) => ({ header, item: { file: h.source, frame: h.perFrame ? k : -1 } })));
  const { chosen, series, phase } = selectDicomImages(entries, source, options);
  const byFile = new Map<string, number[]>();
  for (const c of chosen) pushTo(byFile, c.file, c.frame);
  const images: DicomImage[] = [];
  // One file at a time: a folder of compressed slices never holds more than one file's bytes.
  for (const [file, frames] of byFile) {
    const image = await parseDicomAsync(await load(file), file);
    if (frames[0] === -1) images.push(image);
    else {
      const split = dicomFrames(image);
      for (const k of frames) images.push(split[k]);
    }
  }
  const volume = dicomImagesToVolume(images, source, options);
  volume.meta.series = series;
  if (phase) volume.meta.phase = phase;
  return volume;
}
