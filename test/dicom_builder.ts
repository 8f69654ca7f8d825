/** Builds small DICOM Part 10 files element by element, for tests of broken and hostile headers. */
import { deflateSync } from 'fflate';
import { concatBytes } from '../src/utils/bytes';

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UN', 'UT']);

/** One explicit-VR little-endian element; strings are padded to an even length. `length` overrides the written length (0xffffffff: undefined). */
export function dicomElement(tag: number, vr: string, value: Uint8Array | string, length?: number): Uint8Array {
  let v = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (v.length % 2) v = new Uint8Array([...v, vr === 'UI' ? 0 : 0x20]);
  const long = LONG.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, tag >>> 16, true);
  view.setUint16(2, tag & 0xffff, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, length ?? v.length, true);
  else view.setUint16(6, length ?? v.length, true);
  return concatBytes(head, v);
}

/** An unsigned short value. */
export function us(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, n >> 8]);
}

export { concatBytes };

/** A Part 10 file: preamble, `DICM`, the meta group naming the transfer syntax, the dataset (deflated for 1.2.840.10008.1.2.1.99). */
export function dicomFile(dataset: Uint8Array[], transferSyntax = '1.2.840.10008.1.2.1'): Uint8Array {
  const body = concatBytes(...dataset);
  return concatBytes(dicomPrefix(transferSyntax), transferSyntax === '1.2.840.10008.1.2.1.99' ? deflateSync(body) : body);
}

/** The preamble, `DICM` and the meta group: what precedes the dataset. */
export function dicomPrefix(transferSyntax: string): Uint8Array {
  return concatBytes(new Uint8Array(128), new TextEncoder().encode('DICM'), dicomElement(0x00020010, 'UI', transferSyntax));
}

/** The elements of a small greyscale image: `rows` x `columns` 16-bit pixels, `extra` elements sorted in by tag. */
export function dicomImage(rows: number, columns: number, pixels: Uint8Array, extra: [number, Uint8Array][] = []): Uint8Array[] {
  const els: [number, Uint8Array][] = [
    [0x00080060, dicomElement(0x00080060, 'CS', 'CT')],
    [0x0020000e, dicomElement(0x0020000e, 'UI', '1.2.3.4')],
    [0x00280002, dicomElement(0x00280002, 'US', us(1))],
    [0x00280010, dicomElement(0x00280010, 'US', us(rows))],
    [0x00280011, dicomElement(0x00280011, 'US', us(columns))],
    [0x00280100, dicomElement(0x00280100, 'US', us(16))],
    [0x00280103, dicomElement(0x00280103, 'US', us(0))],
    [0x7fe00010, dicomElement(0x7fe00010, 'OW', pixels)],
    ...extra,
  ];
  return els.sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}
