import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduceCommand } from '../../src/cli/reproduce';
import { aucCell, formatCell, type ModelRun } from '../../src/reproduce';
import { auc } from '../../src/stats/auc';
import { FULL } from '../helpers';

// End to end: `mst-ts reproduce table2` at the tiny scale (seconds of training per row), every file
// checked, and the table's numbers recomputed from the written predictions.
const full = FULL ? test : test.skip;

full('reproduce table2 --scale tiny writes the table, every prediction, the figures and the command, and the table is what the predictions give', async () => {
  const out = await mkdtemp(join(tmpdir(), 'mst-reproduce-table2-'));
  const printed: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  const errors = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await reproduceCommand.run(['table2', '--scale', 'tiny', '--seed', '1', '--out', out]);
    expect(code).toBe(0);
  } finally {
    write.mockRestore();
    errors.mockRestore();
  }
  try {
    const md = await readFile(join(out, 'table2.md'), 'utf8');
    expect(printed.join('')).toContain(md.split('\n_Made by')[0]);
    expect(md).not.toContain('not run');
    expect(md).toContain('_Made by `mst-ts reproduce table2 --scale tiny --seed 1 --out');
    expect(await readFile(join(out, 'table2_command.txt'), 'utf8')).toMatch(/^mst-ts reproduce table2 --scale tiny --seed 1 --out .*\n# seed 1, scale tiny\n$/);
    const provenance = JSON.parse(await readFile(join(out, 'table2_provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({ name: 'table2', seed: 1, scale: 'tiny', tasks: ['synthetic-breast', 'synthetic-chest', 'synthetic-knee'] });
    for (const task of provenance.tasks) {
      const png = await readFile(join(out, `table2_roc_${task}.png`));
      expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      expect((await readFile(join(out, `table2_roc_${task}.svg`), 'utf8')).startsWith('<svg')).toBe(true);
    }
    const { runs, seed } = JSON.parse(await readFile(join(out, 'table2_predictions.json'), 'utf8')) as { runs: ModelRun[]; seed: number };
    expect(seed).toBe(1);
    expect(runs.map((r) => r.model)).toEqual([0, 1, 2].flatMap(() => ['Transformer', 'Transformer (with AdPE)', 'Linear Layer', 'Average']));
    const lines = md.split('\n');
    for (const run of runs) {
      expect(run.ids.length).toBe(12);
      expect(run.labels.filter((l) => l === 1).length).toBe(6);
      expect(run.scores.every((p) => p >= 0 && p <= 1)).toBe(true);
      const a = auc(run.labels, run.scores);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
      // Each row's training run is on disk: its log and best weights.
      expect((await stat(join(out, 'train', run.task, run.model.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''), 'best.safetensors'))).size).toBeGreaterThan(0);
      const ref = runs.find((r) => r.task === run.task && r.model === 'Transformer') as ModelRun;
      const cell = aucCell(run, { replicates: 50, seed: 1, reference: run.model === 'Transformer' ? undefined : ref });
      expect(cell.auc).toBe(a);
      const row = lines.find((l) => l.startsWith(`| ${run.model} |`)) as string;
      // Columns: name, then (ours, paper) per dataset in the paper's order.
      const column = 1 + 2 * ['synthetic-breast', 'synthetic-chest', 'synthetic-knee'].indexOf(run.task);
      expect(row.split(' | ')[column]).toBe(formatCell(cell));
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 600_000);
