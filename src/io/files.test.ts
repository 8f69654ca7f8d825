import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendText, writeFileAtomic } from './files';

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
