import * as fs from 'node:fs';
import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { writeFileAtomic } from '../io/files';
import { bootstrapAuc } from '../stats/bootstrap';
import type { BootstrapCiType } from '../stats/bootstrap_ci';
import { calibration, type CalibrationResult } from '../stats/calibration';
import { calibrationFigurePng, calibrationFigureSvg } from '../stats/calibration_figure';
import { confusionFigurePng, confusionFigureSvg } from '../stats/confusion_figure';
import { decisionCurve } from '../stats/decision_curve';
import { decisionFigurePng, decisionFigureSvg } from '../stats/decision_figure';
import { delongAuc, delongTest } from '../stats/delong';
import { delongMulti } from '../stats/delong_multi';
import { bootstrapPartialAuc, partialAuc, type PartialAucFocus } from '../stats/partial_auc';
import { rocFigurePng, rocFigureSvg, rocSeries } from '../stats/roc_figure';
import { classificationMetrics, confusionAtThreshold, youdenThreshold } from '../stats/threshold';
import { csvLabelColumn, csvNumberColumn, guessDelimiter, parseCsv, requireColumns, type CsvTable } from '../utils/csv';

const USAGE = `Usage: mst-ts stats --csv results.csv [--label GT] [--score NN_pred [--score OTHER ...]] [--compare OTHER_SCORE] [options]

ROC analysis of score columns against a 0/1 label column: AUC ± bootstrap std, DeLong 95% CI,
bootstrap 95% CI, the Youden threshold (cases with score >= threshold are positive) and the
confusion matrix there, for the first --score. With several --score columns, every model's AUC
and all pairwise DeLong tests with Holm and Benjamini-Hochberg adjusted p-values, and DeLong's
chi-square test that all AUCs are equal. With --compare, DeLong's paired test of the first score
against a second column.

Options:
  --csv FILE             results table with a header line (required)
  --label NAME           label column, values 0/1 (or True/False). Default GT, or label in a
                         file without GT (train's test_predictions.csv)
  --score NAME           score column (higher = positive). Default NN_pred, or score in a file
                         without NN_pred. Repeat it to compare several models on the same cases
  --compare NAME         second score column: DeLong's paired test against the first --score
  --json                 print JSON instead of text
  --plot FILE            write the ROC figure (.svg, or .png by extension)
  --png FILE             write the ROC figure as PNG as well
  --confusion FILE       write the confusion-matrix heat map (.svg or .png by extension)
  --replicates N         bootstrap replicates. Default 1000
  --seed N               bootstrap seed. Default 0
  --ci TYPE              bootstrap interval: percentile (pROC's, the default), basic or bca
                         (R boot.ci's; bca with the jackknife acceleration)
  --stratified           resample positives and negatives separately (the default, as pROC and
                         the library: class counts are fixed by the study design)
  --no-stratified        resample all cases together (the MST authors' "AUC ± std")
  --partial-auc FROM:TO  partial AUC over a specificity (or sensitivity) range, e.g. 0.8:1
  --partial-focus AXIS   specificity (default) or sensitivity: the axis of --partial-auc
  --partial-correct      McClish's standardisation of the partial AUC (0.5 chance, 1 perfect)
  --calibration          calibration of the scores as probabilities in [0, 1]: ECE, Brier
                         score and its decomposition, calibration slope and intercept
  --calibration-plot FILE  write the reliability diagram (.svg or .png by extension)
  --decision-curve FILE  write the decision curve (net benefit, treat all / none; .svg or .png)
                         and add its numbers to the JSON
  --delimiter C          CSV field delimiter. Default ,

JSON fields:
  auc               AUC (ties count one half)
  aucStd            standard deviation of the bootstrap AUCs (ddof 1)
  ci95              [lower, upper] DeLong 95% interval (pROC ci.auc, method "delong")
  bootstrapCi95     [lower, upper] bootstrap 95% interval of the type --ci names
  threshold         Youden-optimal threshold (score >= threshold is positive)
  confusionMatrix   [[TN, FP], [FN, TP]] at the threshold
  metrics           accuracy, sensitivity, specificity, ppv, npv, f1 at the threshold
  n, nPositive, nNegative, bootstrap { replicates, seed, stratified, ci }
  delong            with --compare: { auc2, z, p } (paired DeLong test, two-sided p)
  models            with several --score: [{ name, auc, ci95, aucStd, bootstrapCi95 }] per column
  pairwise          with several --score: [{ model1, model2, auc1, auc2, z, p, pHolm, pBH }] for
                    every pair: paired DeLong z and two-sided p, Holm- and BH-adjusted over all pairs
  global            with several --score: { chi2, df, p }, DeLong's test that all AUCs are equal
  partialAuc        with --partial-auc: { value, from, to, focus, correct, std, ci, bootstrapCi95 }
                    (pROC auc(partial.auc = ...); its interval by bootstrap, as pROC ci.auc; with
                    --ci bca the partial AUC's interval is the percentile one, ci says which)
  calibration       with --calibration: { ece, mce, brier, slope, intercept, recalibrationIntercept,
                    brierDecomposition { reliability, resolution, uncertainty, withinBinVariance,
                    withinBinCovariance }, bins } (10 equal-width bins)
  decisionCurve     with --decision-curve: { thresholds, netBenefit, treatAll, prevalence }
NaN values (e.g. a variance with fewer than 2 cases of a class) print as null (as n/a in the text).
`;

function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v)) throw new UsageError(`mst-ts stats: --${name} expects an integer, got '${value}'`);
  return v;
}

async function writeFigure(file: string, svg: () => string, png: () => Uint8Array): Promise<void> {
  await writeFileAtomic(file, file.toLowerCase().endsWith('.png') ? png() : svg());
}

// NaN (an interval or test undefined for these cases) prints as n/a, as the text output is read by people.
function fmt(x: number, digits = 3): string {
  return Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

function fmtP(x: number, digits: number): string {
  return Number.isNaN(x) ? 'n/a' : x.toPrecision(digits);
}

/**
 * The column a flag defaults to: `mst-ts`'s results-table name where the file has it, else the
 * name train's `test_predictions.csv` uses, so `stats --csv <run>/test_predictions.csv` works bare.
 */
function defaultColumn(header: readonly string[], name: string, fallback: string): string {
  return !header.includes(name) && header.includes(fallback) ? fallback : name;
}

function parseRange(value: string): [number, number] {
  const m = /^\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(value);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2]) : NaN;
  if (!(a >= 0 && a <= 1 && b >= 0 && b <= 1) || a === b) {
    throw new UsageError(`mst-ts stats: --partial-auc expects FROM:TO, two different numbers in [0, 1] (e.g. 0.8:1), got '${value}'`);
  }
  return [a, b];
}

const CI_TYPES: readonly BootstrapCiType[] = ['percentile', 'basic', 'bca'];

/** Every score of the column must be a probability (for calibration and decision curves). */
function requireProbabilities(table: CsvTable, column: string, scores: Float64Array, source: string, what: string): void {
  for (let i = 0; i < scores.length; i++) {
    if (!(scores[i] >= 0 && scores[i] <= 1)) {
      throw new Error(`${source}: line ${table.rowLines[i]}, column '${column}': ${what} needs probabilities in [0, 1], got ${scores[i]}`);
    }
  }
}

function calibrationJson(c: CalibrationResult): Record<string, unknown> {
  return {
    ece: c.ece,
    mce: c.mce,
    brier: c.brier,
    slope: c.slope,
    intercept: c.intercept,
    recalibrationIntercept: c.recalibrationIntercept,
    brierDecomposition: c.brierDecomposition,
    bins: c.bins,
  };
}

/** `mst-ts stats`: ROC / AUC / DeLong / bootstrap report of a results CSV. */
export const statsCommand: CliCommand = {
  name: 'stats',
  summary: 'AUC ± std, DeLong and bootstrap CIs, several-model DeLong tests, partial AUC, calibration, decision curves, ROC figure',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs('stats', USAGE, {
      args: argv,
      options: {
        csv: { type: 'string' },
        label: { type: 'string' },
        score: { type: 'string', multiple: true },
        compare: { type: 'string' },
        json: { type: 'boolean', default: false },
        plot: { type: 'string' },
        png: { type: 'string' },
        confusion: { type: 'string' },
        replicates: { type: 'string' },
        seed: { type: 'string' },
        ci: { type: 'string', default: 'percentile' },
        stratified: { type: 'boolean' },
        'no-stratified': { type: 'boolean' },
        'partial-auc': { type: 'string' },
        'partial-focus': { type: 'string' },
        'partial-correct': { type: 'boolean', default: false },
        calibration: { type: 'boolean', default: false },
        'calibration-plot': { type: 'string' },
        'decision-curve': { type: 'string' },
        delimiter: { type: 'string', default: ',' },
      },
    });
    if (!values.csv) throw new UsageError(`mst-ts stats: --csv is required\n\n${USAGE}`);
    const replicates = intFlag(values.replicates, 'replicates', 1000);
    const seed = intFlag(values.seed, 'seed', 0);
    if (replicates < 2) throw new UsageError(`mst-ts stats: --replicates must be >= 2, got ${replicates}`);
    if (values.stratified && values['no-stratified']) throw new UsageError('mst-ts stats: give --stratified or --no-stratified, not both');
    const stratified = !values['no-stratified'];
    const ciType = values.ci as BootstrapCiType;
    if (!CI_TYPES.includes(ciType)) throw new UsageError(`mst-ts stats: --ci must be percentile, basic or bca, got '${values.ci}'`);
    const focus = (values['partial-focus'] ?? 'specificity') as PartialAucFocus;
    if (focus !== 'specificity' && focus !== 'sensitivity') {
      throw new UsageError(`mst-ts stats: --partial-focus must be specificity or sensitivity, got '${values['partial-focus']}'`);
    }
    if ((values['partial-focus'] !== undefined || values['partial-correct']) && values['partial-auc'] === undefined) {
      throw new UsageError('mst-ts stats: --partial-focus and --partial-correct need --partial-auc FROM:TO');
    }
    const range = values['partial-auc'] !== undefined ? parseRange(values['partial-auc']) : undefined;
    const givenScores = values.score && values.score.length > 0 ? values.score : undefined;
    if (givenScores && new Set(givenScores).size !== givenScores.length) throw new UsageError(`mst-ts stats: each --score must name a different column, got ${givenScores.join(', ')}`);
    const source = values.csv;
    if (!fs.existsSync(source)) throw new Error(`mst-ts stats: no such file '${source}'`);
    const table = parseCsv(fs.readFileSync(source, 'utf8'), { delimiter: values.delimiter, source });
    const labelName = values.label ?? defaultColumn(table.header, 'GT', 'label');
    const scoreNames = givenScores ?? [defaultColumn(table.header, 'NN_pred', 'score')];
    const columns = [labelName, ...scoreNames, ...(values.compare ? [values.compare] : [])];
    const seen = guessDelimiter(table);
    if (seen !== undefined && columns.some((c) => !table.header.includes(c))) {
      const flag = seen === '\t' ? "--delimiter $'\\t'" : `--delimiter '${seen}'`;
      // The file's content, not a flag, is wrong: bad data (exit status 1).
      throw new Error(
        `mst-ts stats: ${source}: the header is one column ('${table.header[0]}'): the file looks ${JSON.stringify(seen)}-separated, not ${JSON.stringify(values.delimiter)}-separated; pass ${flag}`,
      );
    }
    requireColumns(table, columns, source);
    const labels = csvLabelColumn(table, labelName, source);
    const scoreColumns = scoreNames.map((name) => csvNumberColumn(table, name, source, { allowNaN: false }));
    const scores = scoreColumns[0];
    const scoreName = scoreNames[0];

    const bootOptions = { replicates, seed, stratified, ciType };
    const delong = delongAuc(labels, scores);
    const boot = bootstrapAuc(labels, scores, bootOptions);
    const youden = youdenThreshold(labels, scores);
    const cm = confusionAtThreshold(labels, scores, youden.threshold);
    const metrics = classificationMetrics(cm);
    let nPositive = 0;
    for (const l of labels) nPositive += l;
    const result: Record<string, unknown> = {
      auc: delong.auc,
      aucStd: boot.std,
      ci95: delong.ci,
      bootstrapCi95: boot.ci,
      threshold: youden.threshold,
      confusionMatrix: cm,
      metrics,
      n: labels.length,
      nPositive,
      nNegative: labels.length - nPositive,
      bootstrap: { replicates, seed, stratified, ci: ciType },
    };
    const text: string[] = [];
    let other: Float64Array | undefined;
    if (values.compare) {
      other = csvNumberColumn(table, values.compare, source, { allowNaN: false });
      const t = delongTest(labels, scores, other);
      result.delong = { auc2: t.auc2, z: t.z, p: t.p };
      text.push(`DeLong paired test vs ${values.compare}: AUC ${fmt(t.auc2)}, z = ${fmt(t.z, 4)}, p = ${fmtP(t.p, 4)}`);
    }
    if (scoreColumns.length > 1) {
      const multi = delongMulti(labels, scoreColumns);
      result.models = scoreNames.map((name, i) => {
        const b = i === 0 ? boot : bootstrapAuc(labels, scoreColumns[i], bootOptions);
        return { name, auc: multi.models[i].auc, ci95: multi.models[i].ci, aucStd: b.std, bootstrapCi95: b.ci };
      });
      result.pairwise = multi.pairwise.map((t) => ({
        model1: scoreNames[t.i],
        model2: scoreNames[t.j],
        auc1: t.auc1,
        auc2: t.auc2,
        z: t.z,
        p: t.p,
        pHolm: t.pHolm,
        pBH: t.pBH,
      }));
      result.global = { chi2: multi.global.chi2, df: multi.global.df, p: multi.global.p };
      const width = Math.max(...scoreNames.map((s) => s.length));
      text.push(`Models (DeLong 95% CI):`);
      multi.models.forEach((m, i) => text.push(`  ${scoreNames[i].padEnd(width)}  AUC ${fmt(m.auc)} [${fmt(m.ci[0])}, ${fmt(m.ci[1])}]`));
      text.push('Pairwise DeLong tests (p, Holm-adjusted, BH-adjusted):');
      for (const t of multi.pairwise) {
        text.push(`  ${scoreNames[t.i]} vs ${scoreNames[t.j]}: z = ${fmt(t.z, 3)}, p = ${fmtP(t.p, 3)}, pHolm = ${fmtP(t.pHolm, 3)}, pBH = ${fmtP(t.pBH, 3)}`);
      }
      text.push(`All AUCs equal: chi2 = ${fmt(multi.global.chi2, 3)}, df = ${multi.global.df}, p = ${fmtP(multi.global.p, 3)}`);
    }
    if (range) {
      const partial = { range, focus, correct: values['partial-correct'] };
      const pb = bootstrapPartialAuc(labels, scores, partial, { ...bootOptions, ciType: ciType === 'bca' ? 'percentile' : ciType });
      result.partialAuc = {
        value: partialAuc(labels, scores, partial),
        from: Math.min(...range),
        to: Math.max(...range),
        focus,
        correct: partial.correct,
        std: pb.std,
        ci: pb.ciType,
        bootstrapCi95: pb.ci,
      };
      if (scoreColumns.length > 1) {
        (result.models as Record<string, unknown>[]).forEach((m, i) => {
          m.partialAuc = partialAuc(labels, scoreColumns[i], partial);
        });
      }
      text.push(
        `Partial AUC (${focus} ${Math.min(...range)}-${Math.max(...range)}${partial.correct ? ', McClish-corrected' : ''}) ${fmt(pb.estimate)}, ` +
          `95% CI boot [${fmt(pb.ci[0])}, ${fmt(pb.ci[1])}]`,
      );
    }
    const wantsCalibration = values.calibration || values['calibration-plot'] !== undefined;
    if (wantsCalibration || values['decision-curve'] !== undefined) {
      requireProbabilities(table, scoreName, scores, source, wantsCalibration ? '--calibration' : '--decision-curve');
    }
    if (wantsCalibration) {
      const c = calibration(labels, scores);
      result.calibration = calibrationJson(c);
      text.push(
        `Calibration     ECE ${fmt(c.ece)}, Brier ${fmt(c.brier)}, slope ${fmt(c.slope)}, intercept ${fmt(c.intercept)} (logistic recalibration)`,
      );
      const plot = values['calibration-plot'];
      if (plot) await writeFigure(plot, () => calibrationFigureSvg(c, { name: scoreName }), () => calibrationFigurePng(c, { name: scoreName }));
    }
    if (values['decision-curve'] !== undefined) {
      const dc = decisionCurve(labels, scores);
      result.decisionCurve = { thresholds: Array.from(dc.thresholds), netBenefit: Array.from(dc.netBenefit), treatAll: Array.from(dc.treatAll), prevalence: dc.prevalence };
      const file = values['decision-curve'];
      await writeFigure(file, () => decisionFigureSvg(dc, { name: scoreName }), () => decisionFigurePng(dc, { name: scoreName }));
    }
    if (values.plot || values.png) {
      const series = [rocSeries(labels, scores, { name: scoreName, replicates, seed, stratified })];
      const palette = ['#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
      const extra = [...scoreNames.slice(1).map((name, i) => ({ name, s: scoreColumns[i + 1] })), ...(other && values.compare ? [{ name: values.compare, s: other }] : [])];
      extra.forEach((e, i) => series.push(rocSeries(labels, e.s, { name: e.name, color: palette[i % palette.length], replicates, seed, stratified })));
      if (values.plot) await writeFigure(values.plot, () => rocFigureSvg(series), () => rocFigurePng(series));
      if (values.png) await writeFileAtomic(values.png, rocFigurePng(series));
    }
    if (values.confusion) await writeFigure(values.confusion, () => confusionFigureSvg(cm), () => confusionFigurePng(cm));

    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const [[tn, fp], [fn, tp]] = cm;
    const ciName = ciType === 'percentile' ? 'boot' : ciType === 'basic' ? 'basic' : 'BCa';
    process.stdout.write(
      `${source}: ${labels.length} cases (${nPositive} positive, ${labels.length - nPositive} negative), label ${labelName}, score ${scoreName}\n` +
        `AUC             ${fmt(delong.auc)} ± ${fmt(boot.std)} (bootstrap std, ${replicates} replicates, seed ${seed}${stratified ? ', stratified' : ', not stratified'})\n` +
        `95% CI DeLong   [${fmt(delong.ci[0])}, ${fmt(delong.ci[1])}]\n` +
        `95% CI ${ciName.padEnd(8)} [${fmt(boot.ci[0])}, ${fmt(boot.ci[1])}]\n` +
        `Youden threshold ${youden.threshold} (score >= threshold is positive)\n` +
        `Confusion matrix TN ${tn}, FP ${fp}, FN ${fn}, TP ${tp}\n` +
        `Accuracy ${fmt(metrics.accuracy)}, sensitivity ${fmt(metrics.sensitivity)}, specificity ${fmt(metrics.specificity)}, ` +
        `PPV ${fmt(metrics.ppv)}, NPV ${fmt(metrics.npv)}, F1 ${fmt(metrics.f1)}\n` +
        text.map((l) => `${l}\n`).join(''),
    );
    return 0;
  },
};
