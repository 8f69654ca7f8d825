import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduceCommand } from '../../src/cli/reproduce';
import { TABLE1_METHODS, type Table1ExtendedRow } from '../../src/reproduce/table1';

// End to end: `mst-ts reproduce table1` at the tiny scale on one task, with the extended table of
// every explanation method of both models.
const full = process.env.MST_FULL ? test : test.skip;

full('reproduce table1 --scale tiny writes the paper\'s table and the extended one, every method of both models scored', async () => {
  const out = await mkdtemp(join(tmpdir(), 'mst-reproduce-table1-'));
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const errors = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await reproduceCommand.run(['table1', '--scale', 'tiny', '--task', 'synthetic-chest', '--seed', '1', '--out', out])).toBe(0);
  } finally {
    write.mockRestore();
    errors.mockRestore();
  }
  try {
    const md = await readFile(join(out, 'table1.md'), 'utf8');
    expect(md).toContain('## Table 1, extended: every explanation method, localisation and faithfulness');
    const predictions = JSON.parse(await readFile(join(out, 'table1_predictions.json'), 'utf8')) as { extended: Table1ExtendedRow[] };
    const extended = predictions.extended;
    expect(extended.map((r) => `${r.model}/${r.method}`)).toEqual([
      ...TABLE1_METHODS.MST.map((m) => `MST/${m.method}`),
      ...TABLE1_METHODS['3D ResNet'].map((m) => `3D ResNet/${m.method}`),
    ]);
    for (const r of extended) {
      expect(r.cases).toBe(3);
      expect(r.deletionAuc).toBeGreaterThanOrEqual(0);
      expect(r.insertionAuc).toBeLessThanOrEqual(1);
      expect(r.pointingGame).toBeGreaterThanOrEqual(r.lesionCorrect);
      expect(md).toContain(`| ${r.model} | ${r.method} | ${r.sliceCorrect}/3 | ${r.lesionCorrect}/3 | ${r.pointingGame}/3 |`);
    }
    // The paper's radiologist counts stand beside the methods the paper used.
    expect(md).toMatch(/\| MST \| attention \|.*\| 49\/50 \/ 28\/50 \|/);
    expect(md).toMatch(/\| 3D ResNet \| gradcam \|.*\| 14\/50 \/ 0\/50 \|/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 1_200_000);
