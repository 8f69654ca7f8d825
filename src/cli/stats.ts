import * as fs from 'node:fs';
import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { bootstrapAuc } from '../stats/bootstrap';
import { confusionFigurePng, confusionFigureSvg } from '../stats/confusion_figure';
import { delongAuc, delongTest } from '../stats/delong';
import { rocFigurePng, rocFigureSvg, rocSeries } from '../stats/roc_figure';
import { classificationMetrics, confusionAtThreshold, youdenThreshold } from '../stats/threshold';
import { csvNumberColumn, parseCsv, requireColumns } from '../utils/csv';

const USAGE = `Usage: mst-ts stats --csv results.csv [--label GT] [--score NN_pred] [--compare OTHER_SCORE] [options]

ROC analysis of one score column against a 0/1 label column: AUC ± bootstrap std, DeLong 95% CI,
bootstrap percentile 95% CI, the Youden threshold (cases with score >= threshold are positive) and
the confusion matrix there; with --compare, DeLong's paired test against a second score column.

Options:
  --csv FILE          results table with a header line (required)
  --label NAME        label column, values 0/1 (or True/False). Default GT
  --score NAME        score column (higher = positive). Default NN_pred
  --compare NAME      second score column: DeLong's paired test of the two AUCs
  --json              print JSON instead of text
  --plot FILE         write the ROC figure (.svg, or .png by extension)
  --png FILE          write the ROC figure as PNG as well
  --confusion FILE    write the confusion-matrix heat map (.svg or .png by extension)
  --replicates N      bootstrap replicates. Default 1000
  --seed N            bootstrap seed. Default 0
  --stratified        resample positives and negatives separately (pROC's default); the default
                      resamples all cases together, as the paper's "AUC ± std"
  --delimiter C       CSV field delimiter. Default ,

JSON fields:
  auc               AUC (ties count one half)
  aucStd            standard deviation of the bootstrap AUCs (ddof 1)
  ci95              [lower, upper] DeLong 95% interval (pROC ci.auc, method "delong")
  bootstrapCi95     [lower, upper] bootstrap percentile 95% interval
  threshold         Youden-optimal threshold (score >= threshold is positive)
  confusionMatrix   [[TN, FP], [FN, TP]] at the threshold
  metrics           accuracy, sensitivity, specificity, ppv, npv, f1 at the threshold
  n, nPositive, nNegative, bootstrap { replicates, seed, stratified }
  delong            with --compare: { auc2, z, p } (paired DeLong test, two-sided p)
NaN values (e.g. a variance with fewer than 2 cases of a class) print as null.
`;

function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isInteger(v)) throw new UsageError(`mst-ts stats: --${name} expects an integer, got '${value}'`);
  return v;
}

function writeFigure(file: string, svg: () => string, png: () => Uint8Array): void {
  if (file.toLowerCase().endsWith('.png')) fs.writeFileSync(file, png());
  else fs.writeFileSync(file, svg());
}

function fmt(x: number, digits = 3): string {
  return Number.isNaN(x) ? 'NaN' : x.toFixed(digits);
}

/** `mst-ts stats`: ROC / AUC / DeLong / bootstrap report of a results CSV. */
export const statsCommand: CliCommand = {
  name: 'stats',
  summary: 'AUC ± std, DeLong and bootstrap CIs, Youden threshold, confusion matrix, DeLong test, ROC figure',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs('stats', USAGE, {
      args: argv,
      options: {
        csv: { type: 'string' },
        label: { type: 'string', default: 'GT' },
        score: { type: 'string', default: 'NN_pred' },
        compare: { type: 'string' },
        json: { type: 'boolean', default: false },
        plot: { type: 'string' },
        png: { type: 'string' },
        confusion: { type: 'string' },
        replicates: { type: 'string' },
        seed: { type: 'string' },
        stratified: { type: 'boolean', default: false },
        delimiter: { type: 'string', default: ',' },
      },
    });
    if (!values.csv) throw new UsageError(`mst-ts stats: --csv is required\n\n${USAGE}`);
    const replicates = intFlag(values.replicates, 'replicates', 1000);
    const seed = intFlag(values.seed, 'seed', 0);
    if (replicates < 2) throw new UsageError(`mst-ts stats: --replicates must be >= 2, got ${replicates}`);
    const source = values.csv;
    if (!fs.existsSync(source)) throw new Error(`mst-ts stats: no such file '${source}'`);
    const table = parseCsv(fs.readFileSync(source, 'utf8'), { delimiter: values.delimiter, source });
    const columns = [values.label, values.score, ...(values.compare ? [values.compare] : [])];
    requireColumns(table, columns, source);
    const labels = csvNumberColumn(table, values.label, source);
    const scores = csvNumberColumn(table, values.score, source);
    const stratified = values.stratified;

    const delong = delongAuc(labels, scores);
    const boot = bootstrapAuc(labels, scores, { replicates, seed, stratified });
    const youden = youdenThreshold(labels, scores);
    const cm = confusionAtThreshold(labels, scores, youden.threshold);
    const metrics = classificationMetrics(cm);
    let nPositive = 0;
    for (const l of labels) nPositive += l === 1 ? 1 : 0;
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
      bootstrap: { replicates, seed, stratified },
    };
    let compareText = '';
    if (values.compare) {
      const other = csvNumberColumn(table, values.compare, source);
      const t = delongTest(labels, scores, other);
      result.delong = { auc2: t.auc2, z: t.z, p: t.p };
      compareText = `DeLong paired test vs ${values.compare}: AUC ${fmt(t.auc2)}, z = ${fmt(t.z, 4)}, p = ${t.p.toPrecision(4)}\n`;
    }
    if (values.plot || values.png) {
      const series = [rocSeries(labels, scores, { name: values.score, replicates, seed, stratified })];
      if (values.compare) {
        const other = csvNumberColumn(table, values.compare, source);
        series.push(rocSeries(labels, other, { name: values.compare, color: '#ff7f0e', replicates, seed, stratified }));
      }
      if (values.plot) writeFigure(values.plot, () => rocFigureSvg(series), () => rocFigurePng(series));
      if (values.png) fs.writeFileSync(values.png, rocFigurePng(series));
    }
    if (values.confusion) writeFigure(values.confusion, () => confusionFigureSvg(cm), () => confusionFigurePng(cm));

    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const [[tn, fp], [fn, tp]] = cm;
    process.stdout.write(
      `${source}: ${labels.length} cases (${nPositive} positive, ${labels.length - nPositive} negative), label ${values.label}, score ${values.score}\n` +
        `AUC             ${fmt(delong.auc)} ± ${fmt(boot.std)} (bootstrap std, ${replicates} replicates, seed ${seed}${stratified ? ', stratified' : ''})\n` +
        `95% CI DeLong   [${fmt(delong.ci[0])}, ${fmt(delong.ci[1])}]\n` +
        `95% CI boot     [${fmt(boot.ci[0])}, ${fmt(boot.ci[1])}]\n` +
        `Youden threshold ${youden.threshold} (score >= threshold is positive)\n` +
        `Confusion matrix TN ${tn}, FP ${fp}, FN ${fn}, TP ${tp}\n` +
        `Accuracy ${fmt(metrics.accuracy)}, sensitivity ${fmt(metrics.sensitivity)}, specificity ${fmt(metrics.specificity)}, ` +
        `PPV ${fmt(metrics.ppv)}, NPV ${fmt(metrics.npv)}, F1 ${fmt(metrics.f1)}\n` +
        compareText,
    );
    return 0;
  },
};
