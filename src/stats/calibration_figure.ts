import { type CalibrationResult } from './calibration';
import { fixed, UNIT_TICKS } from './figure_style';
import { lineChartPng, lineChartSvg, type LineChart } from './line_figure';

/** Options of the reliability diagrams. */
export interface CalibrationFigureOptions {
  /** Width and height in pixels. Default 600. */
  size?: number;
  /** Legend name of the model. Default 'Model'. */
  name?: string;
  /** '#rrggbb' of the model's curve. Default '#1f77b4'. */
  color?: string;
}

function chart(c: CalibrationResult, options: CalibrationFigureOptions): LineChart {
  if (c.bins.length === 0) throw new Error('calibrationFigure: the calibration has no bins');
  const name = options.name ?? 'Model';
  const largest = Math.max(...c.bins.map((b) => b.count));
  return {
    series: [
      { label: 'Perfectly calibrated', color: '#000000', x: [0, 1], y: [0, 1], dashed: true },
      {
        label: `${name} (ECE = ${fixed(c.ece, 3)}, Brier = ${fixed(c.brier, 3)})`,
        color: options.color ?? '#1f77b4',
        x: c.bins.map((b) => b.meanPredicted),
        y: c.bins.map((b) => b.fractionPositive),
        markers: true,
      },
    ],
    xRange: [0, 1],
    yRange: [0, 1],
    xTicks: UNIT_TICKS,
    yTicks: UNIT_TICKS,
    xLabel: 'Mean predicted probability',
    yLabel: 'Fraction of positives',
    digits: 1,
    legend: 'top-right',
    // A histogram of the predictions along the bottom, a fifth of the plot high at most.
    bars: c.bins.map((b) => ({ x: (b.lower + b.upper) / 2, width: (b.upper - b.lower) * 0.9, height: (0.2 * b.count) / largest })),
    size: options.size ?? 600,
  };
}

/**
 * The reliability diagram as SVG: fraction of positives against mean prediction per bin, the
 * diagonal of perfect calibration, ECE and Brier in the legend, and a histogram of the
 * predictions along the bottom.
 *
 * @example
 * fs.writeFileSync('reliability.svg', calibrationFigureSvg(calibration(labels, probabilities)));
 */
export function calibrationFigureSvg(c: CalibrationResult, options: CalibrationFigureOptions = {}): string {
  return lineChartSvg(chart(c, options));
}

/**
 * The reliability diagram as PNG bytes.
 *
 * @example
 * fs.writeFileSync('reliability.png', calibrationFigurePng(calibration(labels, probabilities)));
 */
export function calibrationFigurePng(c: CalibrationResult, options: CalibrationFigureOptions = {}): Uint8Array {
  return lineChartPng(chart(c, options));
}
