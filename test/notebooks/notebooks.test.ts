/**
 * The ablation notebooks under examples/notebooks. Always: each committed notebook is a Deno
 * (TypeScript) notebook without outputs, with one marked knobs cell, importing the kit. With
 * MST_FULL=1 (`npm run test:full`, after its build): every notebook runs headlessly through
 * examples/notebooks/run_all.sh (Deno's Jupyter kernel driven by Python's nbclient) and the test
 * fails if a cell fails. Without deno or Python's nbclient it skips with a message, except under
 * CI, where it fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FULL, needs } from '../helpers';

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'examples', 'notebooks');
const DENO = path.join(ROOT, 'node_modules', '.bin', 'deno');
const NOTEBOOKS = fs.readdirSync(DIR).filter((f) => f.endsWith('.ipynb')).sort();

interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Notebook {
  metadata: { kernelspec?: { name: string; language: string } };
  cells: Cell[];
}

const read = (file: string): Notebook => JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Notebook;

/** Every text an executed notebook shows (text/plain, text/markdown and printed streams), joined. */
function shownText(file: string): string {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { outputs?: { text?: string | string[]; data?: Record<string, string | string[]> }[] }[] };
  const join = (t: string | string[] | undefined): string => (Array.isArray(t) ? t.join('') : (t ?? ''));
  const parts: string[] = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) parts.push(join(o.text), join(o.data?.['text/markdown']), join(o.data?.['text/plain']));
  }
  return parts.join('\n');
}
const text = (c: Cell): string => (Array.isArray(c.source) ? c.source.join('') : c.source);

describe('committed notebooks', () => {
  test('one notebook per ablation family and the explain notebook', () => {
    expect(NOTEBOOKS).toEqual(['explain_a_case.ipynb', 'table2_fusion.ipynb', 'table3_encoder.ipynb', 'tableS1_resnet3d_depth.ipynb']);
  });

  test.each(NOTEBOOKS)('%s: Deno kernel, no outputs, one knobs cell, the kit imported', (file) => {
    const nb = read(file);
    expect(nb.metadata.kernelspec).toMatchObject({ name: 'deno', language: 'typescript' });
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    for (const c of code) {
      expect(c.outputs).toEqual([]);
      expect(c.execution_count ?? null).toBeNull();
    }
    expect(code.filter((c) => text(c).includes('KNOBS: edit')).length).toBe(1);
    expect(code.some((c) => text(c).includes("from './lib/ablation.ts'"))).toBe(true);
  });
});

function python(): string | null {
  for (const p of ['python3', '/usr/bin/python3']) {
    if (spawnSync(p, ['-c', 'import nbclient, nbformat'], { stdio: 'ignore' }).status === 0) return p;
  }
  return null;
}

const haveDeno = fs.existsSync(DENO) && spawnSync(DENO, ['--version'], { stdio: 'ignore' }).status === 0;
const havePython = FULL ? python() !== null : false;

describe('headless execution (MST_FULL)', () => {
  const runs =
    FULL &&
    needs(haveDeno, DENO, 'npm install') &&
    needs(havePython, 'python3 with nbclient', 'apt-get install python3-nbclient python3-jupyter-client python3-nbconvert')
      ? test
      : test.skip;
  runs(
    'run_all.sh executes every notebook without a failing cell',
    async () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-notebooks-test-'));
      try {
        const { code, log } = await new Promise<{ code: number | null; log: string }>((resolve, reject) => {
          const child = spawn('bash', [path.join(DIR, 'run_all.sh')], { cwd: ROOT, env: { ...process.env, NOTEBOOK_OUT: out } });
          let log = '';
          child.stdout.on('data', (d: Buffer) => (log += d.toString()));
          child.stderr.on('data', (d: Buffer) => (log += d.toString()));
          child.on('error', reject);
          child.on('close', (c) => resolve({ code: c, log }));
        });
        if (code !== 0) throw new Error(`run_all.sh exited ${code}:\n${log.slice(-6000)}`);
        for (const file of NOTEBOOKS) {
          expect(log).toContain(`ok   ${file}`);
          // The executed copy went to NOTEBOOK_OUT with outputs in every code cell; the committed one is untouched.
          const executed = JSON.parse(fs.readFileSync(path.join(out, file), 'utf8')) as Notebook;
          for (const c of executed.cells.filter((c) => c.cell_type === 'code')) expect(c.execution_count).toBeGreaterThan(0);
          expect(read(file).cells.every((c) => c.cell_type !== 'code' || (c.outputs ?? []).length === 0)).toBe(true);
        }
        const table2 = JSON.parse(fs.readFileSync(path.join(out, 'table2_fusion.ipynb'), 'utf8')) as Notebook;
        const shown = JSON.stringify(table2.cells.map((c) => c.outputs ?? []));
        expect(shown).toContain('text/markdown');
        expect(shown).toContain('image/svg+xml');
        expect(shown).toContain('Chest CT, paper (Table 2)');
        // The numbers the notebooks print: every ablation row's test AUC ± std, above chance.
        for (const file of ['table2_fusion.ipynb', 'table3_encoder.ipynb', 'tableS1_resnet3d_depth.ipynb']) {
          const rows = [...shownText(path.join(out, file)).matchAll(/^\| ([^|]+) \| (\d\.\d\d)±(\d\.\d\d)/gm)];
          expect([file, rows.length >= 2]).toEqual([file, true]);
          for (const [, name, aucText, stdText] of rows) {
            expect([file, name, Number(aucText) > 0.5 && Number(aucText) <= 1, Number(stdText) >= 0 && Number(stdText) < 0.5]).toEqual([file, name, true, true]);
          }
        }
        const explain = shownText(path.join(out, 'explain_a_case.ipynb'));
        const testAuc = Number(/test AUC (\d\.\d+) on (\d+) held-out cases/.exec(explain)?.[1]);
        expect(testAuc).toBeGreaterThan(0.5);
        expect(testAuc).toBeLessThanOrEqual(1);
        const metrics = /\| (true|false) \| (true|false) \| (\d\.\d+) \| (\d\.\d+) \|/.exec(explain);
        expect(metrics).not.toBeNull();
        for (const v of [Number(metrics?.[3]), Number(metrics?.[4])]) expect(v >= 0 && v <= 1).toBe(true);
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    },
    45 * 60 * 1000,
  );
});
