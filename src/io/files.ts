/**
 * File access that works in Node and leaves browsers to pass bytes. `node:fs` is imported lazily
 * so bundles for the web do not pull it in.
 */

/**
 * The bytes of a file path (Node) or the given bytes unchanged. A missing path or a folder gets
 * an error naming it ("'x' is a folder; expected a file"), not Node's bare code.
 *
 * @example
 * const bytes = await readBytes('model.safetensors');
 */
export async function readBytes(pathOrBytes: string | Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  if (pathOrBytes instanceof Uint8Array) return pathOrBytes;
  if (pathOrBytes instanceof ArrayBuffer) return new Uint8Array(pathOrBytes);
  const fs = await import('node:fs/promises');
  try {
    const buf = await fs.readFile(pathOrBytes);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw readError(pathOrBytes, e);
  }
}

/**
 * Why a path cannot be read, in words: no such file, a folder where a file was expected,
 * permission denied; Node's message otherwise. The error keeps Node's code.
 *
 * @example
 * throw readError('scans', err); // "'scans' is a folder; expected a file"
 */
export function readError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const message =
    err.code === 'EISDIR'
      ? `'${path}' is a folder; expected a file`
      : err.code === 'ENOENT'
        ? `cannot read '${path}': no such file`
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? `cannot read '${path}': permission denied`
          : `cannot read '${path}': ${err.message ?? String(e)}`;
  return Object.assign(new Error(message), { code: err.code });
}

/**
 * Writes a file so that readers see the old or the new content, never a partial one: the data go
 * to a temporary file beside it (`<path>.tmp-<pid>-<time>`), are synced, and the temporary file is
 * renamed over the target. The folder is created if missing. When writing fails (a full disk), the
 * temporary file is removed, the previous file is left as it was, and the error names the path
 * (never the temporary file). A process killed before its rename (`kill -9`) leaves its temporary
 * file behind: a later process (a resumed run) removes it when it next writes the same path, never
 * the file of a process still running; each folder is looked at once per process.
 *
 * @example
 * await writeFileAtomic('runs/a/last.safetensors', bytes);
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await import('node:fs/promises');
  const { basename, dirname } = await import('node:path');
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.mkdir(dirname(path), { recursive: true });
    await removeStaleTemps(dirname(path), basename(path));
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError('write', path, e, tmp, '; the previous file, if any, is unchanged');
  }
}

// The temporary files of writes whose process died before the rename, by folder then target name:
// a folder is listed once per process (at its first atomic write), so that a cohort of many files
// in one folder is not listed again for every file it writes.
const staleTemps = new Map<string, Promise<Map<string, string[]>>>();

/** Removes the temporary files of dead processes' writes of `name` in `dir`; never fails. */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  let found = staleTemps.get(dir);
  if (!found) {
    found = findStaleTemps(dir);
    staleTemps.set(dir, found);
  }
  const byTarget = await found;
  const names = byTarget.get(name);
  if (!names) return;
  byTarget.delete(name);
  await Promise.all(names.map((n) => fs.rm(join(dir, n), { force: true }).catch(() => undefined)));
}

/** The `<target>.tmp-<pid>-<time>` files in `dir` whose process no longer runs, by target. */
async function findStaleTemps(dir: string): Promise<Map<string, string[]>> {
  const fs = await import('node:fs/promises');
  const out = new Map<string, string[]>();
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^(.+)\.tmp-(\d+)-\d+$/.exec(n);
    if (!m || !processGone(Number(m[2]))) continue;
    const list = out.get(m[1]);
    if (list) list.push(n);
    else out.set(m[1], [n]);
  }
  return out;
}

/** Whether no process `pid` exists (signal 0 checks without sending; EPERM means it runs as another user). */
function processGone(pid: number): boolean {
  if (!(Number.isSafeInteger(pid) && pid > 0) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Appends text to a file (a log), creating it and its folder if missing; an error names the path
 * and the cause (a full disk) rather than Node's bare message.
 *
 * @example
 * await appendText('runs/a/log.jsonl', `${JSON.stringify(record)}\n`);
 */
export async function appendText(path: string, text: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  try {
    await fs.mkdir(dirname(path), { recursive: true });
    await fs.appendFile(path, text);
  } catch (e) {
    throw writeError('append to', path, e, path, '');
  }
}

/** An error naming `path` and why writing it failed, with Node's code kept. */
function writeError(verb: string, path: string, e: unknown, tmp: string, suffix: string): Error {
  const err = e as NodeJS.ErrnoException;
  // Renaming onto a folder: the path names a folder where a file was expected.
  if (err.code === 'EISDIR') return Object.assign(new Error(`'${path}' is a folder; expected a file`), { code: err.code });
  const why =
    err.code === 'ENOSPC'
      ? 'no space left on device (ENOSPC)'
      : err.code === 'EDQUOT'
        ? 'disk quota exceeded (EDQUOT)'
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? 'permission denied'
          : err.code === 'ENOTDIR' || err.code === 'EEXIST'
            ? 'a parent is not a folder'
            : (err.message ?? String(e)).replaceAll(tmp, path);
  return Object.assign(new Error(`cannot ${verb} '${path}': ${why}${suffix}`), { code: err.code });
}
