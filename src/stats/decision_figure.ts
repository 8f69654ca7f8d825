import { type DecisionCurve } from './decision_curve';
import { lineChartPng, lineChartSvg, type LineChart } from './line_figure';

/** Options of the decision-curve figures. */
export interface DecisionFigureOptions {
  /** Width and height in pixels. Default 600. */
  size?: number;
  /** Legend name of the model. Default 'Model'. */
  name?: string;
  /** '#rrggbb' of the model's curve. Default '#1f77b4'. */
  color?: string;
}

function chart(d: DecisionCurve, options: DecisionFigureOptions): LineChart {
  if (d.thresholds.length < 2) throw new Error('decisionFigure: a decision curve needs at least 2 thresholds');
  const t0 = Math.min(...d.thresholds);
  const t1 = Math.max(...d.thresholds);
  // y from slightly below 0 to just above the best net benefit (at most the prevalence).
  const top = Math.max(d.prevalence, ...d.netBenefit.filter(Number.isFinite)) * 1.1 || 0.1;
  const bottom = -0.15 * top;
  const step = top / 4;
  const digits = step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
  const yTicks = [0, 1, 2, 3, 4].map((i) => Number((i * step).toFixed(digits)));
  const xTicks = [0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => t0 + v * (t1 - t0));
  return {
    series: [
      { label: options.name ?? 'Model', color: options.color ?? '#1f77b4', x: d.thresholds, y: d.netBenefit },
      { label: 'Treat all', color: '#808080', x: d.thresholds, y: d.treatAll },
      { label: 'Treat none', color: '#000000', x: d.thresholds, y: d.treatNone, dashed: true },
    ],
    xRange: [t0, t1],
    yRange: [bottom, top],
    xTicks,
    yTicks,
    xLabel: 'Threshold probability',
    yLabel: 'Net benefit',
    digits: Math.max(2, digits),
    legend: 'top-right',
    size: options.size ?? 600,
  };
}

/**
 * The decision curve as SVG: net benefit of the model against the threshold probability, with
 * the treat-all and treat-none lines (Vickers & Elkin 2006).
 *
 * @example
 * fs.writeFileSync('dca.svg', decisionFigureSvg(decisionCurve(labels, probabilities)));
 */
export function decisionFigureSvg(d: DecisionCurve, options: DecisionFigureOptions = {}): string {
  return lineChartSvg(chart(d, options));
}

/**
 * The decision curve as PNG bytes.
 *
 * @example
 * fs.writeFileSync('dca.png', decisionFigurePng(decisionCurve(labels, probabilities)));
 */
export function decisionFigurePng(d: DecisionCurve, options: DecisionFigureOptions = {}): Uint8Array {
  return lineChartPng(chart(d, options));
}
