/**
 * Decoding compressed DICOM pixel data (JPEG, JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K) with
 * maintained WebAssembly codecs from npm, each imported only when a file needs it: reading NIfTI
 * or uncompressed DICOM never loads one. Before a codec sees a frame, its codestream header is
 * read here and must match Rows, Columns and SamplesPerPixel, so a corrupt frame cannot make a
 * codec allocate more than the image the header describes.
 */
import { concatBytes } from '../utils/bytes';

/** A compressed transfer syntax: its name and the codec that decodes it. */
interface CompressedSyntax {
  name: string;
  codec: 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k' | 'htj2k';
}

/** The compressed transfer syntaxes mst-ts decodes, by UID. */
export const COMPRESSED_TRANSFER_SYNTAXES: Record<string, CompressedSyntax> = {
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', codec: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', codec: 'jpeg-lossless' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless)', codec: 'jpeg-ls' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Image Compression (Lossless Only)', codec: 'j2k' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000 Image Compression', codec: 'j2k' },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', codec: 'htj2k' },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', codec: 'htj2k' },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000 Image Compression', codec: 'htj2k' },
};

/** What a decoded frame must be, from the DICOM header. */
export interface FrameExpectation {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  /** The file, for error messages. */
  source: string;
  /** The frame's index, for error messages. */
  frame: number;
}

/** A decoded frame: samples little-endian, interleaved, `bytesPerSample` bytes each. */
export interface DecodedFrame {
  bytes: Uint8Array;
  bytesPerSample: 1 | 2;
}

/** Size and precision a codestream's own header declares. */
interface CodestreamHeader {
  width: number;
  height: number;
  components: number;
  precision: number;
}

// The emscripten decoders of the @cornerstonejs/codec-* packages share this interface.
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;
type WasmFactory = (options: Record<string, unknown>) => Promise<WasmModule>;

const loaded = new Map<string, Promise<unknown>>();
let locateWasm: ((file: string) => string) | undefined;

/**
 * Where the codecs' `.wasm` files are served, for pages whose bundler does not place them beside the
 * codecs' scripts (Node finds them in node_modules by itself): `locateFile('charlswasm_decode.wasm')`
 * returns its URL. Codecs already loaded keep their files.
 *
 * @example
 * configureDicomCodecs({ locateFile: (file) => `/codecs/${file}` });
 */
export function configureDicomCodecs(options: { locateFile?: (file: string) => string }): void {
  locateWasm = options.locateFile;
}

// One instance of each codec per process, created on first use. The codecs print progress to
// stdout; a library must not.
function wasmCodec(codec: 'jpeg' | 'jpeg-ls' | 'j2k' | 'htj2k'): Promise<WasmModule> {
  let p = loaded.get(codec) as Promise<WasmModule> | undefined;
  if (!p) {
    const quiet = { print: () => undefined, printErr: () => undefined, ...(locateWasm ? { locateFile: locateWasm } : {}) };
    const factory = async (): Promise<WasmFactory> => {
      if (codec === 'jpeg') return (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default as WasmFactory;
      if (codec === 'jpeg-ls') return (await import('@cornerstonejs/codec-charls/decodewasmjs')).default as WasmFactory;
      if (codec === 'j2k') return (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default as WasmFactory;
      return (await import('@cornerstonejs/codec-openjph')).default as WasmFactory;
    };
    p = factory().then((f) => f(quiet));
    loaded.set(codec, p);
    p.catch(() => loaded.delete(codec));
  }
  return p;
}

const DECODER_CLASS = { jpeg: 'JPEGDecoder', 'jpeg-ls': 'JpegLSDecoder', j2k: 'J2KDecoder', htj2k: 'HTJ2KDecoder' } as const;

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

// The frame header (SOFn, or SOF55 for JPEG-LS) of a JPEG family codestream.
function jpegHeader(b: Uint8Array, where: string): CodestreamHeader {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new Error(`${where}: not a JPEG codestream (no SOI marker)`);
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) throw new Error(`${where}: corrupt JPEG codestream (no marker at byte ${o})`);
    const m = b[o + 1];
    if (m === 0xff) {
      o++;
      continue;
    }
    const len = u16(b, o + 2);
    const sof = (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7;
    if (sof) {
      if (o + 10 > b.length) break;
      return { precision: b[o + 4], height: u16(b, o + 5), width: u16(b, o + 7), components: b[o + 9] };
    }
    if (m === 0xda || m === 0xd9) break;
    o += 2 + len;
  }
  throw new Error(`${where}: JPEG codestream has no frame header (SOF) before its scan`);
}

// The SIZ segment of a JPEG 2000 codestream (raw, or inside a JP2 file's jp2c box).
function j2kHeader(b: Uint8Array, where: string): CodestreamHeader {
  let o = -1;
  const end = Math.min(b.length - 4, 1 << 16);
  for (let i = 0; i <= end; i++) {
    if (b[i] === 0xff && b[i + 1] === 0x4f && b[i + 2] === 0xff && b[i + 3] === 0x51) {
      o = i + 4;
      break;
    }
  }
  if (o < 0 || o + 38 + 3 > b.length) throw new Error(`${where}: not a JPEG 2000 codestream (no SOC and SIZ markers)`);
  const width = u32(b, o + 4) - u32(b, o + 12);
  const height = u32(b, o + 8) - u32(b, o + 16);
  return { width, height, components: u16(b, o + 36), precision: (b[o + 38] & 0x7f) + 1 };
}

/**
 * Decodes one compressed frame of the transfer syntax `uid` after checking that its codestream
 * declares the size, samples and a precision the DICOM header allows.
 *
 * @example
 * const { bytes, bytesPerSample } = await decodeCompressedFrame('1.2.840.10008.1.2.4.80', frame, { rows: 512, columns: 512, samplesPerPixel: 1, bitsAllocated: 16, source: 'a.dcm', frame: 0 });
 */
export async function decodeCompressedFrame(uid: string, frame: Uint8Array, expect: FrameExpectation): Promise<DecodedFrame> {
  const syntax = COMPRESSED_TRANSFER_SYNTAXES[uid];
  const where = `${expect.source}: frame ${expect.frame} (${syntax?.name ?? uid})`;
  if (!syntax) throw new Error(`${where}: not a compressed transfer syntax mst-ts decodes`);
  const header = syntax.codec === 'j2k' || syntax.codec === 'htj2k' ? j2kHeader(frame, where) : jpegHeader(frame, where);
  if (header.width !== expect.columns || header.height !== expect.rows || header.components !== expect.samplesPerPixel) {
    throw new Error(
      `${where}: the codestream holds ${header.width} x ${header.height} pixels of ${header.components} sample(s), the DICOM header says ${expect.columns} x ${expect.rows} of ${expect.samplesPerPixel} (Columns, Rows, SamplesPerPixel)`,
    );
  }
  if (!(header.precision >= 1 && header.precision <= 16) || header.precision > Math.max(expect.bitsAllocated, 8)) {
    throw new Error(`${where}: codestream precision of ${header.precision} bits does not fit BitsAllocated ${expect.bitsAllocated}`);
  }
  if (syntax.codec === 'jpeg' && header.precision > 8) {
    throw new Error(`${where}: ${header.precision}-bit lossy JPEG is not decoded (the maintained WebAssembly codec, libjpeg-turbo, reads 8-bit); convert the series first (e.g. 'dcmdjpeg')`);
  }
  const count = header.width * header.height * header.components;
  if (syntax.codec === 'jpeg-lossless') return decodeJpegLossless(frame, count, where);
  const module = await wasmCodec(syntax.codec).catch((e: unknown) => {
    throw new Error(`${where}: the ${syntax.codec} codec could not be loaded (${e instanceof Error ? e.message : String(e)}); it ships with mst-ts as an npm dependency`);
  });
  const decoder = new module[DECODER_CLASS[syntax.codec]]();
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const out = decoder.getDecodedBuffer();
    if (info.width !== header.width || info.height !== header.height || info.componentCount !== header.components) throw new Error(`${where}: the codec decoded ${info.width} x ${info.height} x ${info.componentCount}, the codestream header says ${header.width} x ${header.height} x ${header.components}`);
    const bytesPerSample = out.length === count ? 1 : out.length === 2 * count ? 2 : 0;
    if (!bytesPerSample) throw new Error(`${where}: the codec returned ${out.length} bytes for ${count} samples`);
    // Copied out: the view points into the codec's memory, reused by the next frame.
    return { bytes: new Uint8Array(out), bytesPerSample };
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(where)) throw e;
    // A codec that aborted is unusable: the next frame loads a fresh instance.
    loaded.delete(syntax.codec);
    throw new Error(`${where}: the codec failed (${e instanceof Error ? e.message : String(e)}); the frame is corrupt or uses an option the codec lacks`);
  } finally {
    decoder.delete();
  }
}

async function decodeJpegLossless(frame: Uint8Array, count: number, where: string): Promise<DecodedFrame> {
  const { Decoder } = await import('jpeg-lossless-decoder-js').catch((e: unknown) => {
    throw new Error(`${where}: the JPEG lossless codec could not be loaded (${e instanceof Error ? e.message : String(e)}); it ships with mst-ts as an npm dependency`);
  });
  const copy = frame.slice().buffer;
  let out: Uint8Array | Uint16Array;
  try {
    out = new Decoder().decode(copy, 0, copy.byteLength) as Uint8Array | Uint16Array;
  } catch (e) {
    throw new Error(`${where}: the JPEG lossless decoder failed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (out.length !== count) throw new Error(`${where}: the JPEG lossless decoder returned ${out.length} samples, expected ${count}`);
  if (out instanceof Uint8Array) return { bytes: out, bytesPerSample: 1 };
  const bytes = new Uint8Array(2 * count);
  for (let i = 0; i < count; i++) {
    bytes[2 * i] = out[i] & 0xff;
    bytes[2 * i + 1] = out[i] >> 8;
  }
  return { bytes, bytesPerSample: 2 };
}

/**
 * Splits encapsulated pixel data into frames: by the Basic Offset Table where it has one entry per
 * frame, else one fragment per frame, else (one frame) all fragments joined.
 *
 * @example
 * encapsulatedFrames(fragments, 1, 'a.dcm'); // [frame bytes]
 */
export function encapsulatedFrames(fragments: Uint8Array[], frames: number, source: string): Uint8Array[] {
  if (fragments.length < 2) throw new Error(`${source}: encapsulated pixel data holds no fragments`);
  const [table, ...items] = fragments;
  const join = (parts: Uint8Array[]): Uint8Array => (parts.length === 1 ? parts[0] : concatBytes(...parts));
  if (table.length === 4 * frames && frames > 1) {
    const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const offsets = Array.from({ length: frames }, (_, k) => view.getUint32(4 * k, true));
    // Each fragment's offset: its item header's, from the first fragment after the table.
    const starts: number[] = [];
    let at = 0;
    for (const f of items) {
      starts.push(at);
      at += 8 + f.length;
    }
    return offsets.map((off, k) => {
      const next = k + 1 < frames ? offsets[k + 1] : Infinity;
      const parts = items.filter((_, i) => starts[i] >= off && starts[i] < next);
      if (parts.length === 0 || !starts.includes(off)) throw new Error(`${source}: the Basic Offset Table's entry ${k} (${off}) is not the start of a fragment`);
      return join(parts);
    });
  }
  if (items.length === frames) return items;
  if (frames === 1) return [join(items)];
  throw new Error(`${source}: ${items.length} pixel data fragments for NumberOfFrames ${frames}, and no Basic Offset Table to split them`);
}
