import { auc } from './auc';
import { bootstrapRocBand, type RocBand } from './bootstrap';
import { escapeXml, fixed, UNIT_TICKS } from './figure_style';
import { rocCurve, type RocCurve } from './roc';
import { youdenThreshold, type YoudenPoint } from './threshold';
import type { BinaryLabels } from './binary_data';
import { encodePng } from '../utils/png';
import { parseColor, Raster } from '../utils/raster';

/** One model's curve in an ROC figure. */
export interface RocSeries {
  /** Legend name. */
  name: string;
  /** '#rrggbb' colour of the curve and its operating point. */
  color: string;
  /** The full curve (no points dropped), as the authors plot it. */
  curve: RocCurve;
  /** AUC of the curve. */
  auc: number;
  /** Standard deviation (ddof 1) of the bootstrap AUCs: the "± s" of the legend. */
  aucStd: number;
  /** Mean ± 1 std band of the bootstrap curves. */
  band: RocBand;
  /** Youden-optimal operating point. */
  youden: YoudenPoint;
}

/** Options of {@link rocSeries}. */
export interface RocSeriesOptions {
  /** Legend name. Default 'ROC'. */
  name?: string;
  /** Curve colour '#rrggbb'. Default '#1f77b4'. */
  color?: string;
  /** Bootstrap replicates for the band and the std. Default 1000. */
  replicates?: number;
  /** Bootstrap seed. Default 0. */
  seed?: number;
  /**
   * Stratified resampling. Default true, as everywhere in mst-ts; false resamples all cases
   * together, as the MST authors' figure did.
   */
  stratified?: boolean;
}

/**
 * Computes what the paper's ROC figure shows for one model: the full curve, its AUC, the bootstrap
 * std of the AUC and the ± 1 std band, and the Youden point.
 *
 * @example
 * const s = rocSeries(labels, scores, { name: 'MST', seed: 0 });
 * fs.writeFileSync('roc.svg', rocFigureSvg([s]));
 */
export function rocSeries(labels: BinaryLabels, scores: ArrayLike<number>, options: RocSeriesOptions = {}): RocSeries {
  const band = bootstrapRocBand(labels, scores, {
    replicates: options.replicates ?? 1000,
    seed: options.seed ?? 0,
    stratified: options.stratified ?? true,
  });
  let sum = 0;
  for (const a of band.aucs) sum += a;
  const mu = sum / band.aucs.length;
  let ss = 0;
  for (const a of band.aucs) ss += (a - mu) ** 2;
  return {
    name: options.name ?? 'ROC',
    color: options.color ?? '#1f77b4',
    curve: rocCurve(labels, scores, { dropIntermediate: false }),
    auc: auc(labels, scores),
    aucStd: Math.sqrt(ss / (band.aucs.length - 1)),
    band,
    youden: youdenThreshold(labels, scores),
  };
}

/** Options of the ROC renderers. */
export interface RocFigureOptions {
  /** Width and height of the square figure in pixels. Default 600. */
  size?: number;
  /** Draw the Youden point with its dashed guides. Default true. */
  showOperatingPoint?: boolean;
}

interface Layout {
  size: number;
  left: number;
  top: number;
  plot: number;
  px: (x: number) => number;
  py: (y: number) => number;
}

function layout(size: number): Layout {
  const left = Math.round(size * 0.12);
  const top = Math.round(size * 0.03);
  const plot = size - left - Math.round(size * 0.04);
  return { size, left, top, plot, px: (x) => left + x * plot, py: (y) => top + (1 - y) * plot };
}

function legendLabel(s: RocSeries): string {
  return `${s.name} (AUC = ${fixed(s.auc)} ± ${fixed(s.aucStd)})`;
}

/**
 * The ROC figure as an SVG document (as the paper's Figure 2): curve(s) with "name (AUC = x ± s)"
 * in the legend, the grey ± 1 std band of the first series, the Youden point with dashed guides,
 * the chance diagonal and light grid lines.
 *
 * @example
 * fs.writeFileSync('roc.svg', rocFigureSvg([rocSeries(labels, scores)]));
 */
export function rocFigureSvg(series: readonly RocSeries[], options: RocFigureOptions = {}): string {
  if (series.length === 0) throw new Error('rocFigureSvg: expected at least one series, got none');
  const L = layout(options.size ?? 600);
  const { px, py } = L;
  const f = (v: number): string => v.toFixed(2);
  const fs = Math.round(L.size / 40);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.size}" height="${L.size}" viewBox="0 0 ${L.size} ${L.size}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<rect width="${L.size}" height="${L.size}" fill="#ffffff"/>`);
  for (const t of UNIT_TICKS) {
    out.push(`<line x1="${f(px(t))}" y1="${f(py(0))}" x2="${f(px(t))}" y2="${f(py(1))}" stroke="#dddddd" stroke-width="1"/>`);
    out.push(`<line x1="${f(px(0))}" y1="${f(py(t))}" x2="${f(px(1))}" y2="${f(py(t))}" stroke="#dddddd" stroke-width="1"/>`);
    out.push(`<text x="${f(px(t))}" y="${f(py(0) + fs * 1.4)}" font-size="${fs}" text-anchor="middle">${t.toFixed(1)}</text>`);
    out.push(`<text x="${f(px(0) - fs * 0.5)}" y="${f(py(t) + fs * 0.35)}" font-size="${fs}" text-anchor="end">${t.toFixed(1)}</text>`);
  }
  const band = series[0].band;
  const pts = [...band.fpr].map((x, i) => `${f(px(x))},${f(py(band.upper[i]))}`);
  const back = [...band.fpr].map((x, i) => `${f(px(x))},${f(py(band.lower[i]))}`).reverse();
  out.push(`<polygon points="${[...pts, ...back].join(' ')}" fill="#808080" fill-opacity="0.2"/>`);
  out.push(`<line x1="${f(px(0))}" y1="${f(py(0))}" x2="${f(px(1))}" y2="${f(py(1))}" stroke="#000000" stroke-dasharray="6,4" stroke-width="1.5"/>`);
  for (const s of series) {
    const path = [...s.curve.fpr].map((x, i) => `${f(px(x))},${f(py(s.curve.tpr[i]))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-opacity="0.8" stroke-width="2"/>`);
    if (options.showOperatingPoint ?? true) {
      const ox = 1 - s.youden.specificity;
      const oy = s.youden.sensitivity;
      out.push(`<line x1="${f(px(0))}" y1="${f(py(oy))}" x2="${f(px(ox))}" y2="${f(py(oy))}" stroke="#008000" stroke-dasharray="6,4" stroke-width="1.5"/>`);
      out.push(`<line x1="${f(px(ox))}" y1="${f(py(0))}" x2="${f(px(ox))}" y2="${f(py(oy))}" stroke="#008000" stroke-dasharray="6,4" stroke-width="1.5"/>`);
      out.push(`<circle cx="${f(px(ox))}" cy="${f(py(oy))}" r="5" fill="${s.color}"/>`);
    }
  }
  out.push(`<rect x="${f(px(0))}" y="${f(py(1))}" width="${f(L.plot)}" height="${f(L.plot)}" fill="none" stroke="#dddddd"/>`);
  out.push(`<text x="${f(px(0.5))}" y="${f(L.size - fs * 0.6)}" font-size="${fs * 1.15}" text-anchor="middle">1 - Specificity</text>`);
  out.push(`<text transform="translate(${f(fs * 1.2)},${f(py(0.5))}) rotate(-90)" font-size="${fs * 1.15}" text-anchor="middle">Sensitivity</text>`);
  const entries = [...series.map((s) => ({ label: legendLabel(s), color: s.color, band: false })), { label: '± 1 std. dev.', color: '#808080', band: true }];
  const lh = fs * 1.6;
  const lw = Math.max(...entries.map((e) => e.label.length)) * fs * 0.6 + fs * 3.5;
  const lx = px(1) - lw - fs * 0.6;
  const ly = py(0) - entries.length * lh - fs * 0.6;
  out.push(`<rect x="${f(lx)}" y="${f(ly)}" width="${f(lw)}" height="${f(entries.length * lh + fs * 0.4)}" fill="#ffffff" fill-opacity="0.8" stroke="#cccccc" rx="3"/>`);
  entries.forEach((e, i) => {
    const cy = ly + fs * 0.2 + lh * (i + 0.5);
    if (e.band) out.push(`<rect x="${f(lx + fs * 0.5)}" y="${f(cy - fs * 0.35)}" width="${f(fs * 2)}" height="${f(fs * 0.7)}" fill="#808080" fill-opacity="0.2"/>`);
    else out.push(`<line x1="${f(lx + fs * 0.5)}" y1="${f(cy)}" x2="${f(lx + fs * 2.5)}" y2="${f(cy)}" stroke="${e.color}" stroke-width="2"/>`);
    out.push(`<text x="${f(lx + fs * 3)}" y="${f(cy + fs * 0.35)}" font-size="${fs}">${escapeXml(e.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The same ROC figure as {@link rocFigureSvg}, rasterised to PNG bytes (embedded bitmap font, so
 * no browser or canvas is needed).
 *
 * @example
 * fs.writeFileSync('roc.png', rocFigurePng([rocSeries(labels, scores)]));
 */
export function rocFigurePng(series: readonly RocSeries[], options: RocFigureOptions = {}): Uint8Array {
  if (series.length === 0) throw new Error('rocFigurePng: expected at least one series, got none');
  const L = layout(options.size ?? 600);
  const { px, py } = L;
  const r = new Raster(L.size, L.size);
  const scale = Math.max(1, Math.round(L.size / 300));
  const black = parseColor('#000000');
  const grid = parseColor('#dddddd');
  for (const t of UNIT_TICKS) {
    r.line(px(t), py(0), px(t), py(1), grid, 1);
    r.line(px(0), py(t), px(1), py(t), grid, 1);
    r.text(t.toFixed(1), px(t), py(0) + 7 * scale, black, scale, 'center');
    r.text(t.toFixed(1), px(0) - 3 * scale, py(t), black, scale, 'right');
  }
  const band = series[0].band;
  const poly: [number, number][] = [];
  band.fpr.forEach((x, i) => poly.push([px(x), py(band.upper[i])]));
  for (let i = band.fpr.length - 1; i >= 0; i--) poly.push([px(band.fpr[i]), py(band.lower[i])]);
  r.fillPolygon(poly, [128, 128, 128, 51]);
  r.dashedLine(px(0), py(0), px(1), py(1), black, 1.5);
  for (const s of series) {
    const c = parseColor(s.color);
    // Opaque: segments of a translucent polyline would blend twice where they meet.
    r.polyline(
      [...s.curve.fpr].map((x, i) => [px(x), py(s.curve.tpr[i])] as [number, number]),
      c,
      2 * Math.max(1, L.size / 600),
    );
    if (options.showOperatingPoint ?? true) {
      const ox = 1 - s.youden.specificity;
      const oy = s.youden.sensitivity;
      const green = parseColor('#008000');
      r.dashedLine(px(0), py(oy), px(ox), py(oy), green, 1.5);
      r.dashedLine(px(ox), py(0), px(ox), py(oy), green, 1.5);
      r.circle(px(ox), py(oy), 5, c);
    }
  }
  r.text('1 - Specificity', px(0.5), L.size - 7 * scale, black, scale, 'center');
  r.text('Sensitivity', 6 * scale, py(0.5), black, scale, 'center', true);
  const entries = [...series.map((s) => ({ label: legendLabel(s), color: s.color, band: false })), { label: '± 1 std. dev.', color: '#808080', band: true }];
  const lh = 12 * scale;
  const lw = Math.max(...entries.map((e) => Raster.textWidth(e.label, scale))) + 22 * scale;
  const lx = px(1) - lw - 4 * scale;
  const ly = py(0) - entries.length * lh - 4 * scale;
  r.fillRect(lx, ly, lx + lw, ly + entries.length * lh + 2 * scale, [255, 255, 255, 220]);
  entries.forEach((e, i) => {
    const cy = ly + scale + lh * (i + 0.5);
    if (e.band) r.fillRect(lx + 3 * scale, cy - 2 * scale, lx + 16 * scale, cy + 2 * scale, [128, 128, 128, 51]);
    else r.line(lx + 3 * scale, cy, lx + 16 * scale, cy, parseColor(e.color), 2);
    r.text(e.label, lx + 19 * scale, cy, black, scale, 'left');
  });
  return encodePng(r.data, r.width, r.height);
}
