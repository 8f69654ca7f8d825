import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS } from './commands';
import { runCli, withoutLibraryPrefix } from './main';
import { editDistance, nearest } from './suggest';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // Commands print their results on process.stdout; none is expected here, but keep the log clean.
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    const code = await runCli(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
    return { code, out, err };
  } finally {
    spy.mockRestore();
  }
}

const firstLine = (s: string): string => s.split('\n')[0];

describe('mst-ts: errors and exit status', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-cli-'));
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'not a checkpoint\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('suggests the nearest command for a mistyped one (exit 2)', async () => {
    const r = await cli('stat', '--csv', 'x.csv');
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe("mst-ts: unknown command 'stat'; did you mean 'stats'?");
    expect((await cli('merg')).err).toContain("did you mean 'merge'?");
    expect(firstLine((await cli('frobnicate')).err)).toBe("mst-ts: unknown command 'frobnicate'");
  });

  it('suggests the nearest flag for a mistyped one (exit 2), with one prefix', async () => {
    const r = await cli('stats', '--csv', 'x.csv', '--scor', 'NN');
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe("mst-ts stats: unknown option '--scor'; did you mean '--score'?");
    expect(firstLine((await cli('predict', '--weight', 'w.safetensors')).err)).toBe("mst-ts predict: unknown option '--weight'; did you mean '--weights'?");
    expect(firstLine((await cli('merge', '--ot', 'x')).err)).toBe("mst-ts merge: unknown option '--ot'; did you mean '--out'?");
  });

  it.each(COMMANDS.map((c) => c.name))('%s: an unknown flag is a usage error (exit 2) with one prefix', async (name) => {
    const r = await cli(name, '--no-such-flag-anywhere');
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe(`mst-ts ${name}: unknown option '--no-such-flag-anywhere'`);
  });

  it.each([
    ['stats', ['--csv', path.join(dir, 'missing.csv')], /^mst-ts stats: no such file '.*missing\.csv'$/],
    ['merge', [path.join(dir, 'missing')], /^mst-ts merge: no such file or folder '.*missing'$/],
    ['inspect', [text], /^mst-ts inspect: .*notes\.txt: unknown checkpoint format/],
    ['info', [path.join(dir, 'missing.nii.gz')], /^mst-ts info: cannot read '.*missing\.nii\.gz': no such file or folder$/],
  ])('%s: bad input data exits 1 with one prefix', async (name, args, message) => {
    const r = await cli(name, ...(args as string[]));
    expect(r.code).toBe(1);
    expect(firstLine(r.err)).toMatch(message as RegExp);
    expect(firstLine(r.err).match(/mst-ts/g)).toHaveLength(1);
  });

  it('--version prints the package version', async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-v']) expect(await cli(flag)).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect((await cli('--help')).out).toContain('mst-ts --version');
  });

  it('prints library messages without the function that wrote them', () => {
    expect(withoutLibraryPrefix('explainVolume: targetClass 5 is out of range')).toBe('targetClass 5 is out of range');
    expect(withoutLibraryPrefix("fromPretrained('a.pth'): loadStateDict: missing keys: fc.weight")).toBe('a.pth: missing keys: fc.weight');
    expect(withoutLibraryPrefix("setBackend('webgpu'): WebGPU found no adapter")).toBe('--backend webgpu: WebGPU found no adapter');
    expect(withoutLibraryPrefix("setBackend: the tfjs backend 'x' failed to initialise")).toBe("the tfjs backend 'x' failed to initialise");
    // Not a function: left as it is.
    expect(withoutLibraryPrefix("'scan.nii' is a folder; expected a file")).toBe("'scan.nii' is a folder; expected a file");
    expect(withoutLibraryPrefix('line 4: bad value')).toBe('line 4: bad value');
  });

  it('a missing required flag is a usage error (exit 2)', async () => {
    const r = await cli('stats');
    expect(r.code).toBe(2);
    expect(firstLine(r.err)).toBe('mst-ts stats: --csv is required');
  });

  it('documents the exit status in --help, for the program and for each command; no command is a usage error', async () => {
    const main = await cli('--help');
    expect(main.code).toBe(0);
    expect(main.out).toMatch(/Exit status[^]*1 {2}the input failed[^]*2 {2}usage error/);
    const stats = await cli('stats', '--help');
    expect(stats.code).toBe(0);
    expect(stats.out).toContain('Usage: mst-ts stats');
    expect(stats.out).toContain('2  usage error');
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: mst-ts <command>');
  });
});

describe('nearest', () => {
  it('takes the closest candidate within a third of the word, or a unique prefix, else nothing', () => {
    expect(editDistance('stat', 'stats')).toBe(1);
    expect(editDistance('--scroe', '--score')).toBe(1);
    expect(nearest('--scroe', ['--score', '--csv'])).toBe('--score');
    expect(nearest('--rep', ['--replicates', '--seed'])).toBe('--replicates');
    expect(nearest('--s', ['--score', '--seed'])).toBeUndefined();
    expect(nearest('predcit', COMMANDS.map((c) => c.name))).toBe('predict');
    expect(nearest('xyz', COMMANDS.map((c) => c.name))).toBeUndefined();
  });
});
