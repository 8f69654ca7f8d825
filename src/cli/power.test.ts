import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { powerCommand } from './power';
import { UsageError } from './command';
import { powerRocTest, powerRocTest2, powerRocTestPaired } from '../stats/power';
import { Rng } from '../utils/rng';

describe('mst-ts power', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-power-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      return { code: await powerCommand.run(args), out };
    } finally {
      spy.mockRestore();
    }
  }
  const json = async (args: string[]): Promise<Record<string, unknown>> => JSON.parse((await run([...args, '--json'])).out);

  test('one AUC: the missing quantity is solved for, as powerRocTest (= pROC power.roc.test)', async () => {
    expect(await json(['--auc', '0.8', '--power', '0.9'])).toEqual({ ...powerRocTest({ auc: 0.8, power: 0.9 }), method: 'obuchowski', solved: 'ncases', design: 'one-curve', alternative: 'two.sided' });
    const p = await json(['--auc', '0.75', '--ncases', '40', '--ncontrols', '60', '--one-sided']);
    expect(p).toMatchObject({ power: powerRocTest({ auc: 0.75, ncases: 40, ncontrols: 60, alternative: 'one.sided' }).power, solved: 'power', alternative: 'one.sided' });
    expect((await json(['--ncases', '40', '--ncontrols', '80', '--power', '0.8'])).auc).toBe(powerRocTest({ ncases: 40, ncontrols: 80, power: 0.8 }).auc);
    const s = await json(['--auc', '0.7', '--ncases', '50', '--ncontrols', '100', '--power', '0.8', '--solve', 'sig-level']);
    expect(s).toMatchObject({ solved: 'sigLevel', sigLevel: powerRocTest({ auc: 0.7, ncases: 50, ncontrols: 100, power: 0.8, sigLevel: null }).sigLevel });
    const text = (await run(['--auc', '0.8', '--power', '0.9'])).out;
    expect(text).toContain('One AUC of 0.8000 against 0.5, two.sided test (solved for ncases)');
  });

  test('two curves from binormal parameters and from a pilot CSV', async () => {
    const pars = { A1: 1.2, B1: 1, A2: 0.9, B2: 1.1, rn: 0.4, ra: 0.6, delta: 0.07 };
    const b = await json(['--binormal', '1.2,1,0.9,1.1', '--rn', '0.4', '--ra', '0.6', '--delta', '0.07', '--power', '0.8']);
    expect(b).toMatchObject({ ncases: powerRocTest2(pars, { power: 0.8 }).ncases, design: 'two-curves-binormal', solved: 'ncases' });
    const rng = new Rng(1);
    const lines = ['GT,A,B'];
    const y: number[] = [];
    const a: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < 200; i++) {
      const l = rng.bernoulli(0.5) ? 1 : 0;
      const common = rng.normal();
      y.push(l);
      a.push(common + rng.normal() + 1.2 * l);
      c.push(common + rng.normal() + 0.8 * l);
      lines.push(`${l},${a[i]},${c[i]}`);
    }
    const csv = path.join(dir, 'pilot.csv');
    fs.writeFileSync(csv, `${lines.join('\n')}\n`);
    const pilot = await json(['--csv', csv, '--score', 'A', '--compare', 'B', '--power', '0.9']);
    expect(pilot).toMatchObject({ ncases: powerRocTestPaired(y, a, c, { power: 0.9 }).ncases, design: 'two-curves-pilot', method: 'delong', solved: 'ncases' });
    const own = await json(['--csv', csv, '--score', 'A', '--compare', 'B', '--method', 'obuchowski']);
    expect(own).toMatchObject({ power: powerRocTestPaired(y, a, c, { method: 'obuchowski' }).power, solved: 'power', ncases: 200 - y.filter((v) => v === 0).length });
  });

  test('mistakes are usage errors that say what is wrong', async () => {
    await expect(run(['--auc', '0.8'])).rejects.toThrow('leave out exactly one of auc, power, sigLevel (null) or the sample sizes, got 2 unknowns');
    await expect(run(['--auc', '0.8'])).rejects.toThrow(UsageError);
    await expect(run(['--auc', '1.3', '--power', '0.9'])).rejects.toThrow("--auc expects a number in (0.5, 1), got '1.3'");
    await expect(run(['--binormal', '1,2,3', '--rn', '0', '--ra', '0', '--delta', '0.1', '--power', '0.8'])).rejects.toThrow("--binormal expects A1,B1,A2,B2 (four numbers), got '1,2,3'");
    await expect(run(['--binormal', '1,1,1,1', '--power', '0.8'])).rejects.toThrow('--binormal needs --rn, --ra and --delta');
    await expect(run(['--solve', 'everything'])).rejects.toThrow("--solve must be ncases, power, auc or sig-level, got 'everything'");
    await expect(run(['--csv', path.join(dir, 'none.csv'), '--power', '0.8'])).rejects.toThrow('no such file');
  });

  test('--help documents every JSON field', () => {
    for (const f of ['ncases', 'ncontrols', 'power', 'sigLevel', 'auc', 'auc1', 'auc2', 'solved', 'design', 'method', 'alternative']) expect(powerCommand.usage).toContain(f);
  });
});
