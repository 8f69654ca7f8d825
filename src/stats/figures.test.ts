import { unzlibSync } from 'fflate';
import { confusionFigurePng, confusionFigureSvg } from './confusion_figure';
import { rocFigurePng, rocFigureSvg, rocSeries } from './roc_figure';
import { Rng } from '../utils/rng';

function pngSize(png: Uint8Array): [number, number] {
  const v = new DataView(png.buffer, png.byteOffset);
  return [v.getUint32(16), v.getUint32(20)];
}

describe('figures', () => {
  const rng = new Rng(1);
  const y: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < 120; i++) {
    const l = rng.bernoulli(0.5) ? 1 : 0;
    y.push(l);
    s.push(rng.normal() + 1.5 * l);
  }
  const series = rocSeries(y, s, { name: 'MST', replicates: 200, seed: 0 });

  test('the ROC series carries the AUC, its bootstrap std and the Youden point', () => {
    expect(series.aucStd).toBeGreaterThan(0.01);
    expect(series.aucStd).toBeLessThan(0.1);
    expect(series.youden.youden).toBeGreaterThan(0.3);
    expect(series.curve.fpr.length).toBeGreaterThan(10);
  });

  test('the ROC SVG has the legend "AUC = x ± s", the band and the operating point', () => {
    const svg = rocFigureSvg([series]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain(`MST (AUC = ${series.auc.toFixed(2)} ± ${series.aucStd.toFixed(2)})`);
    expect(svg).toContain('± 1 std. dev.');
    expect(svg).toContain('fill-opacity="0.2"');
    expect(svg).toContain('<circle');
    expect(svg).toContain('1 - Specificity');
    expect(rocFigureSvg([series], { showOperatingPoint: false })).not.toContain('<circle');
  });

  test('the ROC PNG has the requested size and the curve colour', () => {
    const png = rocFigurePng([series], { size: 300 });
    expect(pngSize(png)).toEqual([300, 300]);
    // The IDAT holds Sub-filtered rows; undo the filter and look for the curve's blue.
    const raw = unzlibSync(png.subarray(41, png.length - 12 - 4));
    let found = false;
    for (let y0 = 0; y0 < 300 && !found; y0++) {
      const row = raw.subarray(y0 * 1201 + 1, (y0 + 1) * 1201);
      const px = new Uint8Array(1200);
      for (let x = 0; x < 1200; x++) px[x] = (row[x] + (x >= 4 ? px[x - 4] : 0)) & 0xff;
      for (let x = 0; x < 300; x++) if (px[4 * x] === 0x1f && px[4 * x + 1] === 0x77 && px[4 * x + 2] === 0xb4) found = true;
    }
    expect(found).toBe(true);
  });

  test('the confusion heat map shows counts, ticks and the accuracy title', () => {
    const svg = confusionFigureSvg([
      [50, 10],
      [5, 35],
    ]);
    expect(svg).toContain('Confusion Matrix ACC=0.85');
    for (const t of ['>50<', '>10<', '>5<', '>35<', 'Prediction', '>True<', '>False<']) expect(svg).toContain(t);
    expect(pngSize(confusionFigurePng([[1, 2], [3, 4]], { size: 200 }))).toEqual([200, 200]);
    expect(() => confusionFigureSvg([[1, -2], [3, 4]])).toThrow('counts must be integers >= 0');
  });

  test('an empty series list throws', () => {
    expect(() => rocFigureSvg([])).toThrow('expected at least one series');
  });
});
