import * as fs from 'node:fs';
import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { auc } from '../stats/auc';
import { powerRocTest, powerRocTest2, powerRocTestPaired, type BinormalPair, type PowerAlternative, type PowerRocResult } from '../stats/power';
import { csvLabelColumn, csvNumberColumn, parseCsv, requireColumns } from '../utils/csv';

const USAGE = `Usage: mst-ts power [options]

Power and sample size of ROC studies, as R pROC's power.roc.test. Give all quantities but one;
the missing one is solved for (the number of cases, the power, the detectable AUC, or with
--solve sig-level the significance level).

One AUC against 0.5 (Obuchowski's binormal variance):
  mst-ts power --auc 0.8 --power 0.9                     cases (and controls) needed
  mst-ts power --auc 0.75 --ncases 40 --ncontrols 60     power
  mst-ts power --ncases 40 --ncontrols 80 --power 0.8    smallest detectable AUC

Two correlated AUCs:
  from binormal parameters (Obuchowski & McClish 1997, pROC's parslist):
  mst-ts power --binormal 1.2,1,0.9,1 --rn 0.4 --ra 0.6 --delta 0.07 --power 0.8
  from a pilot set (its DeLong or Obuchowski variances scaled to the study size):
  mst-ts power --csv pilot.csv --score MST --compare ResNet [--power 0.9]

Options:
  --auc A               expected AUC (one curve), in (0.5, 1)
  --ncases N            number of cases (positives)
  --ncontrols N         number of controls (negatives)
  --kappa K             ncontrols / ncases when the sizes are solved for. Default 1 (a pilot
                        set: its own ratio)
  --power P             power, in (0, 1)
  --sig-level A         significance level. Default 0.05
  --solve WHAT          what to solve for: ncases, power, auc or sig-level. Default: the one
                        quantity not given
  --one-sided           a one-sided test (the default is two-sided)
  --binormal A1,B1,A2,B2  binormal parameters of the two curves (with --rn, --ra, --delta)
  --rn R                correlation of the two scores among controls
  --ra R                correlation of the two scores among cases
  --delta D             AUC difference to detect
  --fpr FROM:TO         false-positive-rate range of a partial AUC (binormal parameters only)
  --csv FILE            a pilot results table: --score (one curve) or --score and --compare
  --label NAME          label column of --csv. Default GT
  --score NAME          score column of --csv. Default NN_pred
  --compare NAME        second score column of --csv: power to tell the two AUCs apart
  --method M            pilot variances: delong (default) or obuchowski
  --delimiter C         CSV field delimiter. Default ,
  --json                print JSON instead of text

JSON fields:
  ncases, ncontrols     the study size (solved or given)
  power, sigLevel       the power and two-sided (or one-sided) significance level
  auc                   one curve: the AUC (solved or given)
  auc1, auc2            a pilot set with --compare: its two AUCs
  solved                which quantity was solved for: ncases, power, auc or sigLevel
  design                one-curve, two-curves-binormal or two-curves-pilot
  method                obuchowski (one curve, binormal) or the pilot's delong / obuchowski
  alternative           two.sided or one.sided
`;

function num(value: string | undefined, flag: string, check: (v: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`mst-ts power: --${flag} expects ${what}, got '${value}'`);
  return v;
}

const SOLVE = ['ncases', 'power', 'auc', 'sig-level'] as const;
type Solve = (typeof SOLVE)[number];

/** `mst-ts power`: pROC's power.roc.test from the command line. */
export const powerCommand: CliCommand = {
  name: 'power',
  summary: 'Power and sample size of ROC studies: one AUC against 0.5, or two correlated AUCs (pROC power.roc.test)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs('power', USAGE, {
      args: argv,
      options: {
        auc: { type: 'string' },
        ncases: { type: 'string' },
        ncontrols: { type: 'string' },
        kappa: { type: 'string' },
        power: { type: 'string' },
        'sig-level': { type: 'string' },
        solve: { type: 'string' },
        'one-sided': { type: 'boolean', default: false },
        binormal: { type: 'string' },
        rn: { type: 'string' },
        ra: { type: 'string' },
        delta: { type: 'string' },
        fpr: { type: 'string' },
        csv: { type: 'string' },
        label: { type: 'string', default: 'GT' },
        score: { type: 'string' },
        compare: { type: 'string' },
        method: { type: 'string' },
        delimiter: { type: 'string', default: ',' },
        json: { type: 'boolean', default: false },
      },
    });
    const unit = (v: number): boolean => v > 0 && v < 1;
    const positive = (v: number): boolean => v > 0;
    const solve = values.solve as Solve | undefined;
    if (solve !== undefined && !SOLVE.includes(solve)) throw new UsageError(`mst-ts power: --solve must be ncases, power, auc or sig-level, got '${values.solve}'`);
    const alternative: PowerAlternative = values['one-sided'] ? 'one.sided' : 'two.sided';
    let power = num(values.power, 'power', unit, 'a number in (0, 1)');
    let sigLevel: number | null = num(values['sig-level'], 'sig-level', unit, 'a number in (0, 1)') ?? 0.05;
    let ncases = num(values.ncases, 'ncases', positive, 'a positive number');
    let ncontrols = num(values.ncontrols, 'ncontrols', positive, 'a positive number');
    let aucValue = num(values.auc, 'auc', (v) => v > 0.5 && v < 1, 'a number in (0.5, 1)');
    const kappa = num(values.kappa, 'kappa', positive, 'a positive number');
    // --solve names the unknown explicitly: drop it (pROC's NULL), even when a default exists.
    if (solve === 'sig-level') sigLevel = null;
    if (solve === 'power') power = undefined;
    if (solve === 'auc') aucValue = undefined;
    if (solve === 'ncases') {
      ncases = undefined;
      ncontrols = undefined;
    }
    const solvedName = (r: { auc?: boolean }): string =>
      sigLevel === null ? 'sigLevel' : power === undefined ? 'power' : r.auc && aucValue === undefined ? 'auc' : 'ncases';
    const design = values.csv ? (values.compare ? 'two-curves-pilot' : 'one-curve') : values.binormal ? 'two-curves-binormal' : 'one-curve';
    let result: PowerRocResult;
    const out: Record<string, unknown> = {};
    try {
      if (values.csv) {
        if (values.binormal || values.auc) throw new UsageError('mst-ts power: --csv takes the AUCs from the data; leave out --auc and --binormal');
        const source = values.csv;
        if (!fs.existsSync(source)) throw new UsageError(`mst-ts power: no such file '${source}'`);
        const table = parseCsv(fs.readFileSync(source, 'utf8'), { delimiter: values.delimiter, source });
        const score = values.score ?? 'NN_pred';
        requireColumns(table, [values.label, score, ...(values.compare ? [values.compare] : [])], source);
        const labels = csvLabelColumn(table, values.label, source);
        const s1 = csvNumberColumn(table, score, source, { allowNaN: false });
        let m = 0;
        for (const l of labels) m += l;
        const n = labels.length - m;
        if (values.compare) {
          const method = (values.method ?? 'delong') as 'delong' | 'obuchowski';
          if (method !== 'delong' && method !== 'obuchowski') throw new UsageError(`mst-ts power: --method must be delong or obuchowski, got '${values.method}'`);
          if (values.ncases || values.ncontrols) throw new UsageError('mst-ts power: with --csv the study size is solved for (give --power) or is the pilot\'s');
          const s2 = csvNumberColumn(table, values.compare, source, { allowNaN: false });
          result = powerRocTestPaired(labels, s1, s2, { sigLevel, power, kappa, alternative, method });
          out.auc1 = auc(labels, s1);
          out.auc2 = auc(labels, s2);
          out.method = method;
        } else {
          const a = auc(labels, s1);
          // pROC's power.roc.test(roc): the pilot's sizes, or the size for the asked power.
          result =
            power !== undefined && sigLevel !== null
              ? powerRocTest({ auc: a, power, sigLevel, kappa: kappa ?? n / m, alternative })
              : powerRocTest({ auc: a, ncases: m, ncontrols: n, power, sigLevel, alternative });
          out.method = 'obuchowski';
        }
      } else if (values.binormal) {
        const parts = values.binormal.split(',').map(Number);
        if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v))) throw new UsageError(`mst-ts power: --binormal expects A1,B1,A2,B2 (four numbers), got '${values.binormal}'`);
        const rn = num(values.rn, 'rn', (v) => v >= -1 && v <= 1, 'a correlation in [-1, 1]');
        const ra = num(values.ra, 'ra', (v) => v >= -1 && v <= 1, 'a correlation in [-1, 1]');
        const delta = num(values.delta, 'delta', (v) => v !== 0, 'a non-zero AUC difference');
        if (rn === undefined || ra === undefined || delta === undefined) throw new UsageError('mst-ts power: --binormal needs --rn, --ra and --delta');
        const pair: BinormalPair = { A1: parts[0], B1: parts[1], A2: parts[2], B2: parts[3], rn, ra, delta };
        if (values.fpr) {
          const fpr = values.fpr.split(':').map(Number);
          if (fpr.length !== 2 || !fpr.every((v) => v >= 0 && v <= 1)) throw new UsageError(`mst-ts power: --fpr expects FROM:TO in [0, 1], got '${values.fpr}'`);
          Object.assign(pair, { FPR11: fpr[0], FPR12: fpr[1], FPR21: fpr[0], FPR22: fpr[1] });
        }
        result = powerRocTest2(pair, { ncases, ncontrols, sigLevel, power, kappa, alternative });
        out.method = 'obuchowski';
      } else {
        result = powerRocTest({ auc: aucValue, ncases, ncontrols, sigLevel, power, kappa, alternative });
        out.method = 'obuchowski';
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const message = (e as Error).message;
      // The library's "leave out exactly one" and range messages are about the flags given.
      if (/leave out exactly one|must be in|must be positive|finite number/.test(message)) throw new UsageError(`mst-ts power: ${message.replace(/^powerRocTest2?(Paired)?: /, '')}`);
      throw e;
    }
    const solved = solvedName({ auc: design === 'one-curve' && !values.csv });
    const json = { ...result, ...out, solved, design, alternative };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${design === 'one-curve' ? `One AUC${result.auc !== undefined ? ` of ${result.auc.toFixed(4)}` : ''} against 0.5` : 'Two correlated AUCs'}, ${alternative} test (solved for ${solved}):`,
      `  cases ${result.ncases.toFixed(2)}, controls ${result.ncontrols.toFixed(2)} (round up)`,
      `  power ${result.power.toFixed(4)}, significance level ${result.sigLevel.toPrecision(4)}`,
    ];
    if (out.auc1 !== undefined) lines.push(`  pilot AUCs ${(out.auc1 as number).toFixed(4)} and ${(out.auc2 as number).toFixed(4)} (${String(out.method)} variances)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
