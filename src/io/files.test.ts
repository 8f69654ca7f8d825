import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileSource } from './byte_source';
import { loadCheckpoint } from './checkpoint';
import { appendText, readBytes, writeFileAtomic } from './files';

describe('writeFileAtomic', () => {
  it('creates missing folders and leaves no temporary file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    const target = path.join(dir, 'a', 'b', 'c.txt');
    await writeFileAtomic(target, 'hello');
    expect(fs.readFileSync(target, 'utf8')).toBe('hello');
    expect(fs.readdirSync(path.dirname(target))).toEqual(['c.txt']);
  });

  it('names the target, never its temporary file, when it cannot write', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    fs.writeFileSync(path.join(dir, 'plain'), 'x');
    const target = path.join(dir, 'plain', 'model.safetensors');
    const err = await writeFileAtomic(target, 'y').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe(`cannot write '${target}': a parent is not a folder; the previous file, if any, is unchanged`);
    expect(err?.message).not.toMatch(/\.tmp-/);
    expect(fs.readdirSync(dir)).toEqual(['plain']);
  });

  it('says a folder is a folder when the target is one (an --out file given a folder)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    const target = path.join(dir, 'plots');
    fs.mkdirSync(path.join(target, 'inside'), { recursive: true });
    const err = await writeFileAtomic(target, 'y').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe(`'${target}' is a folder; expected a file`);
    expect(fs.readdirSync(dir)).toEqual(['plots']);
  });

  it("removes a dead process's leftover temporary file of the same target, never a running one's", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    // A pid that no longer runs: a child that has exited (and been reaped).
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(child.status).toBe(0);
    const dead = child.pid as number;
    expect(() => process.kill(dead, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    const stale = `last.safetensors.tmp-${dead}-1700000000000`;
    const live = `last.safetensors.tmp-${process.pid}-1700000000001`;
    const otherTarget = `best.safetensors.tmp-${dead}-1700000000002`;
    for (const n of [stale, live, otherTarget]) fs.writeFileSync(path.join(dir, n), 'partial');
    await writeFileAtomic(path.join(dir, 'last.safetensors'), 'complete');
    expect(fs.readdirSync(dir).sort()).toEqual([otherTarget, 'last.safetensors', live].sort());
    expect(fs.readFileSync(path.join(dir, 'last.safetensors'), 'utf8')).toBe('complete');
    // The other target's leftover goes with that target's next write.
    await writeFileAtomic(path.join(dir, 'best.safetensors'), 'best');
    expect(fs.readdirSync(dir).sort()).toEqual(['best.safetensors', 'last.safetensors', live].sort());
  });
});

describe('appendText', () => {
  it('creates the file and its folder, appends, and names the path when it cannot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    const log = path.join(dir, 'run', 'log.jsonl');
    await appendText(log, 'a\n');
    await appendText(log, 'b\n');
    expect(fs.readFileSync(log, 'utf8')).toBe('a\nb\n');
    const blocked = path.join(dir, 'run', 'log.jsonl', 'inner.jsonl');
    await expect(appendText(blocked, 'c\n')).rejects.toThrow(`cannot append to '${blocked}': a parent is not a folder`);
  });
});

describe('readBytes and fileSource', () => {
  it('say a folder is a folder, and a missing file missing, never EISDIR', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-files-'));
    await expect(readBytes(dir)).rejects.toThrow(`'${dir}' is a folder; expected a file`);
    await expect(fileSource(dir)).rejects.toThrow(`'${dir}' is a folder; expected a file`);
    await expect(loadCheckpoint(dir)).rejects.toThrow(`'${dir}' is a folder; expected a file`);
    await expect(readBytes(path.join(dir, 'nope'))).rejects.toThrow(`cannot read '${path.join(dir, 'nope')}': no such file`);
    fs.writeFileSync(path.join(dir, 'a'), 'xyz');
    const src = await fileSource(path.join(dir, 'a'));
    expect(src.size).toBe(3);
    expect(Array.from(await src.read(0, 3))).toEqual([120, 121, 122]);
    await src.close();
  });
});
