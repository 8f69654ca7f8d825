import { unzlibSync } from 'fflate';
import { calibration } from './calibration';
import { calibrationFigurePng, calibrationFigureSvg } from './calibration_figure';
import { decisionCurve } from './decision_curve';
import { decisionFigurePng, decisionFigureSvg } from './decision_figure';
import { fitLogistic } from './logistic';
import { Rng } from '../utils/rng';

function pngSize(png: Uint8Array): [number, number] {
  const v = new DataView(png.buffer, png.byteOffset);
  return [v.getUint32(16), v.getUint32(20)];
}

describe('calibration', () => {
  // Outcomes drawn with the predicted probability: calibrated by construction.
  const rng = new Rng(8);
  const p: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const q = 1 / (1 + Math.exp(-2 * rng.normal()));
    p.push(q);
    y.push(rng.uniform() < q ? 1 : 0);
  }

  test('well-calibrated predictions: small ECE, slope near 1, intercept near 0', () => {
    const c = calibration(y, p);
    expect(c.ece).toBeLessThan(0.02);
    expect(Math.abs(c.slope - 1)).toBeLessThan(0.06);
    expect(Math.abs(c.intercept)).toBeLessThan(0.05);
    expect(c.bins.reduce((a, b) => a + b.count, 0)).toBe(20000);
    const d = c.brierDecomposition;
    expect(d.reliability - d.resolution + d.uncertainty + d.withinBinVariance - d.withinBinCovariance).toBeCloseTo(c.brier, 14);
  });

  test('overconfident predictions have a slope below 1', () => {
    const sharp = p.map((q) => 1 / (1 + Math.exp(-2 * Math.log(q / (1 - q)))));
    expect(calibration(y, sharp).slope).toBeCloseTo(0.5, 1);
  });

  test('a probability of exactly 0 or 1 stays finite (clipped before the logit)', () => {
    const c = calibration([0, 1, 0, 1, 1, 0], [0, 1, 0.2, 0.7, 0.6, 0.5]);
    expect(Number.isFinite(c.intercept)).toBe(true);
  });

  test('bad input says what is wrong', () => {
    expect(() => calibration([0, 1], [0.5, 1.5])).toThrow('probabilities must be in [0, 1], got 1.5 at index 1');
    expect(() => calibration([0, 1], [0.5, 0.5], { bins: 0 })).toThrow('bins must be an integer >= 1, got 0');
    expect(() => calibration([0, 1], [0.5, 0.5], { strategy: 'kmeans' as never })).toThrow("strategy must be 'uniform' or 'quantile'");
  });

  test('the reliability diagram: legend with ECE and Brier, a histogram, SVG and PNG', () => {
    const c = calibration(y, p);
    const svg = calibrationFigureSvg(c, { name: 'MST' });
    expect(svg).toContain(`MST (ECE = ${c.ece.toFixed(3)}, Brier = ${c.brier.toFixed(3)})`);
    expect(svg).toContain('Perfectly calibrated');
    expect(svg).toContain('Fraction of positives');
    expect((svg.match(/<circle/g) ?? []).length).toBe(c.bins.length);
    const png = calibrationFigurePng(c, { size: 300 });
    expect(pngSize(png)).toEqual([300, 300]);
    expect(unzlibSync(png.subarray(41, png.length - 16)).length).toBe(300 * (300 * 4 + 1));
  });
});

describe('decision curves', () => {
  test('net benefit by hand: TP/N - FP/N · pt / (1 - pt), treat all and none', () => {
    const y = [1, 1, 0, 0, 1, 0, 0, 0];
    const p = [0.9, 0.6, 0.6, 0.3, 0.2, 0.1, 0.05, 0.5];
    const dc = decisionCurve(y, p, { thresholds: [0.25, 0.5] });
    // pt 0.25: treated p >= 0.25: 0.9 (1), 0.6 (1), 0.6 (0), 0.3 (0), 0.5 (0): TP 2, FP 3.
    expect(dc.netBenefit[0]).toBeCloseTo(2 / 8 - (3 / 8) * (0.25 / 0.75), 15);
    // pt 0.5: 0.9, 0.6, 0.6, 0.5: TP 2, FP 2.
    expect(dc.netBenefit[1]).toBeCloseTo(2 / 8 - 2 / 8, 15);
    expect(dc.treatAll[1]).toBeCloseTo(3 / 8 - 5 / 8, 15);
    expect(Array.from(dc.treatNone)).toEqual([0, 0]);
    expect(decisionCurve(y, p).thresholds.length).toBe(99);
    expect(() => decisionCurve(y, p, { thresholds: [0, 0.5] })).toThrow('thresholds must be in (0, 1), got 0');
  });

  test('the figure has the three lines and a PNG of the asked size', () => {
    const dc = decisionCurve([1, 0, 1, 0, 1, 0], [0.8, 0.3, 0.6, 0.4, 0.7, 0.1]);
    const svg = decisionFigureSvg(dc, { name: 'MST' });
    for (const t of ['>MST<', '>Treat all<', '>Treat none<', 'Net benefit', 'Threshold probability']) expect(svg).toContain(t);
    expect(pngSize(decisionFigurePng(dc, { size: 240 }))).toEqual([240, 240]);
  });
});

describe('fitLogistic', () => {
  test('a binary predictor has the closed-form MLE: logits of the two group means', () => {
    const y = new Uint8Array([1, 0, 0, 0, 1, 1, 1, 0, 1, 1]);
    const x = new Float64Array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const f = fitLogistic(y, x);
    const logit = (q: number): number => Math.log(q / (1 - q));
    expect(f.intercept).toBeCloseTo(logit(1 / 4), 12);
    expect(f.slope).toBeCloseTo(logit(5 / 6) - logit(1 / 4), 12);
    expect(fitLogistic(y, x, 1).slope).toBe(1);
  });

  test('perfect separation does not converge: NaN, not a huge number', () => {
    const f = fitLogistic(new Uint8Array([0, 0, 1, 1]), new Float64Array([-1, -0.5, 0.5, 1]));
    expect(f.slope).toBeNaN();
  });
});
