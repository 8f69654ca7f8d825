import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { statsCommand } from './stats';
import { UsageError } from './command';
import { auc } from '../stats/auc';
import { delongAuc, delongTest } from '../stats/delong';
import { Rng } from '../utils/rng';

describe('mst-ts stats', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-stats-'));
  const csv = path.join(dir, 'results.csv');
  const rng = new Rng(2);
  const gt: number[] = [];
  const pred: number[] = [];
  const other: number[] = [];
  const lines = ['UID,GT,NN,NN_pred,Other'];
  for (let i = 0; i < 80; i++) {
    const l = rng.bernoulli(0.4) ? 1 : 0;
    const p = 1 / (1 + Math.exp(-(rng.normal() + 1.5 * l - 0.7)));
    const o = 1 / (1 + Math.exp(-(rng.normal() + 0.5 * l)));
    gt.push(l);
    pred.push(p);
    other.push(o);
    lines.push(`case${i},${l},${p >= 0.5 ? 1 : 0},${p},${o}`);
  }
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);

  async function run(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      const code = await statsCommand.run(args);
      return { code, out };
    } finally {
      spy.mockRestore();
    }
  }

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('--json prints exactly the documented fields', async () => {
    const { code, out } = await run(['--csv', csv, '--label', 'GT', '--score', 'NN_pred', '--compare', 'Other', '--json', '--replicates', '200', '--seed', '3']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.auc).toBe(auc(gt, pred));
    expect(r.ci95).toEqual(delongAuc(gt, pred).ci);
    expect(r.aucStd).toBeGreaterThan(0);
    expect(r.bootstrapCi95[0]).toBeLessThan(r.bootstrapCi95[1]);
    expect(typeof r.threshold).toBe('number');
    const [[tn, fp], [fn, tp]] = r.confusionMatrix;
    expect(tn + fp + fn + tp).toBe(80);
    const t = delongTest(gt, pred, other);
    expect(r.delong).toEqual({ auc2: t.auc2, z: t.z, p: t.p });
    expect(r.bootstrap).toEqual({ replicates: 200, seed: 3, stratified: false });
  });

  test('text output and figures (SVG, PNG, confusion)', async () => {
    const svg = path.join(dir, 'roc.svg');
    const png = path.join(dir, 'roc.png');
    const cm = path.join(dir, 'cm.png');
    const { code, out } = await run(['--csv', csv, '--plot', svg, '--png', png, '--confusion', cm, '--replicates', '100']);
    expect(code).toBe(0);
    expect(out).toContain(`AUC             ${auc(gt, pred).toFixed(3)} ± `);
    expect(out).toContain('95% CI DeLong');
    expect(out).toContain('Confusion matrix TN');
    expect(fs.readFileSync(svg, 'utf8')).toContain('NN_pred (AUC = ');
    expect(Array.from(fs.readFileSync(png).subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    expect(Array.from(fs.readFileSync(cm).subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  });

  test('missing columns and bad flags are usage errors that say what is wrong', async () => {
    await expect(run(['--csv', csv, '--label', 'label', '--score', 'score'])).rejects.toThrow("missing columns 'label', 'score'");
    await expect(run(['--label', 'GT'])).rejects.toThrow(UsageError);
    await expect(run(['--csv', csv, '--seed', 'x'])).rejects.toThrow("--seed expects an integer, got 'x'");
    await expect(run(['--csv', path.join(dir, 'none.csv')])).rejects.toThrow('no such file');
    await expect(run(['--csv', csv, '--bogus'])).rejects.toThrow(UsageError);
  });
});
