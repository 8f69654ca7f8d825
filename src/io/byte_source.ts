/**
 * Random access to the bytes of a file (Node) or of an in-memory buffer (anywhere), so readers of
 * large checkpoints fetch only the ranges they need instead of holding the whole file twice.
 */
import { readError } from './files';

/** A bounded, random-access view of a file or buffer. Every read is checked against `size`. */
export interface ByteSource {
  /** Name used in error messages (the path, or the kind of buffer). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. For buffers the result may share memory with the input;
   * for files it is a new array. Throws when the range leaves the source.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads `target.byteLength` bytes at `offset` into `target` (one copy, no intermediate buffer).
   * Throws when the range leaves the source.
   */
  readInto(offset: number, target: Uint8Array): Promise<void>;
  /** Releases the file handle (no-op for buffers). */
  close(): Promise<void>;
}

function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new Error(`${source.name}: read of ${length} bytes at offset ${offset} lies outside the file's ${source.size} bytes (truncated or corrupt file)`);
  }
}

/** A {@link ByteSource} over bytes already in memory. */
export function bytesSource(bytes: Uint8Array, name = 'bytes'): ByteSource {
  const info = { name, size: bytes.byteLength };
  return {
    ...info,
    async read(offset, length) {
      checkRange(info, offset, length);
      return bytes.subarray(offset, offset + length);
    },
    async readInto(offset, target) {
      checkRange(info, offset, target.byteLength);
      target.set(bytes.subarray(offset, offset + target.byteLength));
    },
    async close() {},
  };
}

/**
 * A {@link ByteSource} over a file opened in Node; `close()` it when done. Reads are synchronous
 * (`fs.readSync`, one tensor's bytes at a time): a checkpoint is read in hundreds of pieces, and
 * each asynchronous read waits for a thread-pool hand-off, which on a busy machine costs more
 * than the copy itself.
 */
export async function fileSource(path: string): Promise<ByteSource> {
  const fs = await import('node:fs/promises');
  const { readSync } = await import('node:fs');
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    throw readError(path, e);
  }
  // A folder opens for reading on Linux and fails only at the first read (EISDIR).
  const stat = await handle.stat();
  if (stat.isDirectory()) {
    await handle.close();
    throw readError(path, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
  }
  const info = { name: path, size: stat.size };
  const readInto = async (offset: number, target: Uint8Array): Promise<void> => {
    checkRange(info, offset, target.byteLength);
    // `read` returns fewer bytes than asked only at end of file or for very large requests.
    let done = 0;
    while (done < target.byteLength) {
      const bytesRead = readSync(handle.fd, target, done, target.byteLength - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path}: file ended at ${offset + done} bytes while reading (was it truncated while open?)`);
      done += bytesRead;
    }
  };
  return {
    ...info,
    async read(offset, length) {
      checkRange(info, offset, length);
      const out = new Uint8Array(length);
      await readInto(offset, out);
      return out;
    },
    readInto,
    async close() {
      await handle.close();
    },
  };
}

/** Opens a path (Node) or wraps bytes as a {@link ByteSource}. */
export async function openByteSource(pathOrBytes: string | Uint8Array | ArrayBuffer, name?: string): Promise<ByteSource> {
  if (typeof pathOrBytes === 'string') return fileSource(pathOrBytes);
  const bytes = pathOrBytes instanceof Uint8Array ? pathOrBytes : new Uint8Array(pathOrBytes);
  return bytesSource(bytes, name);
}

/** Runs `fn` on an opened source and closes it afterwards, also on error. */
export async function withByteSource<T>(pathOrBytes: string | Uint8Array | ArrayBuffer, fn: (src: ByteSource) => Promise<T>, name?: string): Promise<T> {
  const src = await openByteSource(pathOrBytes, name);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}
