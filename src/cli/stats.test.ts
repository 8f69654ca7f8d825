import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { statsCommand } from './stats';
import { UsageError } from './command';
import { auc } from '../stats/auc';
import { bootstrapAuc } from '../stats/bootstrap';
import { calibration } from '../stats/calibration';
import { delongAuc, delongTest } from '../stats/delong';
import { delongMulti } from '../stats/delong_multi';
import { partialAuc } from '../stats/partial_auc';
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
    // Stratified by default, as bootstrapAuc and mst-ts train (issue 16: one default everywhere).
    expect(r.bootstrap).toEqual({ replicates: 200, seed: 3, stratified: true, ci: 'percentile' });
    expect(r.aucStd).toBe(bootstrapAuc(gt, pred, { replicates: 200, seed: 3 }).std);
    const pooled = JSON.parse((await run(['--csv', csv, '--json', '--replicates', '200', '--seed', '3', '--no-stratified'])).out);
    expect(pooled.bootstrap.stratified).toBe(false);
    expect(pooled.aucStd).toBe(bootstrapAuc(gt, pred, { replicates: 200, seed: 3, stratified: false }).std);
  });

  test('several --score columns: models, every pair with Holm / BH adjusted p, and the chi-square test', async () => {
    const { code, out } = await run(['--csv', csv, '--score', 'NN_pred', '--score', 'Other', '--score', 'NN', '--json', '--replicates', '100']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    const nn = gt.map((_, i) => (pred[i] >= 0.5 ? 1 : 0));
    const m = delongMulti(gt, [pred, other, nn]);
    expect(r.models.map((x: { name: string }) => x.name)).toEqual(['NN_pred', 'Other', 'NN']);
    expect(r.models[1].auc).toBe(m.models[1].auc);
    expect(r.models[1].ci95).toEqual(m.models[1].ci);
    expect(r.pairwise).toHaveLength(3);
    expect(Object.keys(r.pairwise[0]).sort()).toEqual(['auc1', 'auc2', 'model1', 'model2', 'p', 'pBH', 'pHolm', 'z']);
    expect(r.pairwise[2]).toEqual({ model1: 'Other', model2: 'NN', auc1: m.pairwise[2].auc1, auc2: m.pairwise[2].auc2, z: m.pairwise[2].z, p: m.pairwise[2].p, pHolm: m.pairwise[2].pHolm, pBH: m.pairwise[2].pBH });
    expect(r.global).toEqual({ chi2: m.global.chi2, df: 2, p: m.global.p });
    expect(r.auc).toBe(auc(gt, pred));
    const text = (await run(['--csv', csv, '--score', 'NN_pred', '--score', 'Other', '--replicates', '100'])).out;
    expect(text).toContain('NN_pred vs Other: z = ');
    expect(text).toContain('All AUCs equal: chi2 = ');
  });

  test('--partial-auc, --partial-focus, --partial-correct and --ci', async () => {
    const r = JSON.parse((await run(['--csv', csv, '--json', '--replicates', '200', '--partial-auc', '0.8:1', '--partial-correct', '--ci', 'bca'])).out);
    expect(r.partialAuc.value).toBe(partialAuc(gt, pred, { range: [0.8, 1], correct: true }));
    expect(r.partialAuc).toMatchObject({ from: 0.8, to: 1, focus: 'specificity', correct: true, ci: 'percentile' });
    expect(r.partialAuc.bootstrapCi95[0]).toBeLessThan(r.partialAuc.bootstrapCi95[1]);
    expect(r.bootstrapCi95).toEqual(bootstrapAuc(gt, pred, { replicates: 200, ciType: 'bca' }).ci);
    expect(r.bootstrap.ci).toBe('bca');
    const s = JSON.parse((await run(['--csv', csv, '--json', '--replicates', '50', '--partial-auc', '0.9:1', '--partial-focus', 'sensitivity'])).out);
    expect(s.partialAuc.value).toBe(partialAuc(gt, pred, { range: [0.9, 1], focus: 'sensitivity' }));
    await expect(run(['--csv', csv, '--partial-auc', '1:2'])).rejects.toThrow("--partial-auc expects FROM:TO, two different numbers in [0, 1] (e.g. 0.8:1), got '1:2'");
    await expect(run(['--csv', csv, '--partial-correct'])).rejects.toThrow('need --partial-auc FROM:TO');
    await expect(run(['--csv', csv, '--ci', 'student'])).rejects.toThrow("--ci must be percentile, basic or bca, got 'student'");
  });

  test('--calibration, the reliability diagram and the decision curve', async () => {
    const rel = path.join(dir, 'reliability.png');
    const dca = path.join(dir, 'dca.svg');
    const r = JSON.parse((await run(['--csv', csv, '--json', '--replicates', '50', '--calibration', '--calibration-plot', rel, '--decision-curve', dca])).out);
    const c = calibration(gt, pred);
    expect(r.calibration).toMatchObject({ ece: c.ece, brier: c.brier, slope: c.slope, intercept: c.intercept });
    expect(Object.keys(r.calibration.brierDecomposition).sort()).toEqual(['reliability', 'resolution', 'uncertainty', 'withinBinCovariance', 'withinBinVariance']);
    expect(r.decisionCurve.thresholds).toHaveLength(99);
    expect(Array.from(fs.readFileSync(rel).subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    expect(fs.readFileSync(dca, 'utf8')).toContain('Treat all');
    const logits = path.join(dir, 'logits.csv');
    fs.writeFileSync(logits, 'GT,NN_pred\n1,0.9\n0,-1.5\n1,2.5\n');
    await expect(run(['--csv', logits, '--calibration'])).rejects.toThrow(`${logits}: line 3, column 'NN_pred': --calibration needs probabilities in [0, 1], got -1.5`);
  });

  test('--help documents every JSON field', () => {
    for (const field of ['models', 'pairwise', 'auc1', 'auc2', 'pHolm', 'pBH', 'global', 'chi2', 'df', 'partialAuc', 'bootstrapCi95', 'calibration', 'ece', 'brier', 'slope', 'intercept', 'decisionCurve']) {
      expect(statsCommand.usage).toMatch(new RegExp(`\\b${field}\\b`));
    }
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

  test('a ";"-separated file names the separator it saw and the --delimiter flag', async () => {
    const semi = path.join(dir, 'semi.csv');
    fs.writeFileSync(semi, 'UID;GT;NN_pred\na;1;0.9\nb;0;0.2\n');
    await expect(run(['--csv', semi])).rejects.toThrow(`the file looks ";"-separated, not ","-separated; pass --delimiter ';'`);
    // Bad data, not a bad flag: exit status 1.
    await expect(run(['--csv', semi]).catch((e) => e instanceof UsageError)).resolves.toBe(false);
    const r = JSON.parse((await run(['--csv', semi, '--delimiter', ';', '--json', '--replicates', '10'])).out);
    expect(r.auc).toBe(1);
  });

  test("reads train's test_predictions.csv (id,label,score) without --label and --score", async () => {
    const preds = path.join(dir, 'test_predictions.csv');
    fs.writeFileSync(preds, `id,label,score\n${gt.map((l, i) => `c${i},${l},${pred[i]}`).join('\n')}\n`);
    const r = await run(['--csv', preds, '--json', '--replicates', '10']);
    expect(JSON.parse(r.out).auc).toBe(auc(gt, pred));
    const text = await run(['--csv', preds, '--replicates', '10']);
    expect(text.out).toContain('80 cases (');
    expect(text.out).toContain('label label, score score');
    // A GT column still wins: the default names come first.
    await expect(run(['--csv', csv, '--json', '--replicates', '10']).then((x) => JSON.parse(x.out).auc)).resolves.toBe(auc(gt, pred));
  });

  test('an interval the cases leave undefined prints as n/a in the text, null in JSON', async () => {
    const one = path.join(dir, 'one_positive.csv');
    fs.writeFileSync(one, 'GT,NN_pred\n1,0.9\n0,0.2\n0,0.4\n0,0.1\n');
    const ci = delongAuc([1, 0, 0, 0], [0.9, 0.2, 0.4, 0.1]).ci;
    expect(Number.isNaN(ci[0])).toBe(true);
    const { out } = await run(['--csv', one, '--replicates', '10']);
    expect(out).toContain('95% CI DeLong   [n/a, n/a]');
    expect(out).not.toContain('NaN');
    expect(JSON.parse((await run(['--csv', one, '--replicates', '10', '--json'])).out).ci95).toEqual([null, null]);
  });

  test('a NaN score or a bad label names the file, the line and the column', async () => {
    const bad = path.join(dir, 'nan.csv');
    fs.writeFileSync(bad, 'GT,NN_pred\n1,0.9\n0,0.2\n1,nan\n0,0.1\n');
    await expect(run(['--csv', bad])).rejects.toThrow(`${bad}: line 4, column 'NN_pred': the value is NaN`);
    fs.writeFileSync(bad, 'GT,NN_pred\n1,0.9\n2,0.2\n');
    await expect(run(['--csv', bad])).rejects.toThrow(`${bad}: line 3, column 'GT': expected a label 0 or 1 (or True/False), got "2"`);
  });

  test('missing columns and bad flags are usage errors that say what is wrong', async () => {
    await expect(run(['--csv', csv, '--label', 'label', '--score', 'score'])).rejects.toThrow("missing columns 'label', 'score'");
    await expect(run(['--label', 'GT'])).rejects.toThrow(UsageError);
    await expect(run(['--csv', csv, '--seed', 'x'])).rejects.toThrow("--seed expects an integer, got 'x'");
    await expect(run(['--csv', path.join(dir, 'none.csv')])).rejects.toThrow('no such file');
    await expect(run(['--csv', csv, '--bogus'])).rejects.toThrow(UsageError);
    await expect(run(['--csv', csv, '--stratified', '--no-stratified'])).rejects.toThrow('give --stratified or --no-stratified, not both');
    await expect(run(['--csv', csv, '--score', 'NN_pred', '--score', 'NN_pred'])).rejects.toThrow('each --score must name a different column');
  });
});
