import { escapeXml, fixed } from './figure_style';
import { classificationMetrics, type ConfusionMatrix } from './threshold';
import { encodePng } from '../utils/png';
import { Raster, type Rgba } from '../utils/raster';

/** Options of the confusion-matrix figures. */
export interface ConfusionFigureOptions {
  /** Width and height in pixels. Default 400. */
  size?: number;
  /** Title; default 'Confusion Matrix ACC=x.xx' as the authors' figure. */
  title?: string;
}

// Anchors of a dark-to-light sequential palette close to seaborn's default heat-map colours.
const PALETTE: Rgba[] = [
  [3, 5, 26, 255],
  [76, 29, 75, 255],
  [161, 26, 91, 255],
  [237, 80, 64, 255],
  [250, 235, 221, 255],
];

function paletteColor(t: number): Rgba {
  const x = Math.min(Math.max(t, 0), 1) * (PALETTE.length - 1);
  const i = Math.min(Math.floor(x), PALETTE.length - 2);
  const f = x - i;
  const a = PALETTE[i];
  const b = PALETTE[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)).concat(255) as Rgba;
}

function hex(c: Rgba): string {
  return `#${c
    .slice(0, 3)
    .map((v) => v.toString(16).padStart(2, '0'))
    .join('')}`;
}

interface Cell {
  row: number;
  col: number;
  count: number;
  fill: Rgba;
  ink: Rgba;
}

function cells(cm: ConfusionMatrix): Cell[] {
  const flat = [cm[0][0], cm[0][1], cm[1][0], cm[1][1]];
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  return flat.map((count, k) => {
    const fill = paletteColor(hi === lo ? 0.5 : (count - lo) / (hi - lo));
    const lum = (0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2]) / 255;
    return { row: k >> 1, col: k & 1, count, fill, ink: lum > 0.5 ? [0, 0, 0, 255] : [255, 255, 255, 255] };
  });
}

function geometry(size: number): { left: number; top: number; cell: number } {
  const left = Math.round(size * 0.22);
  const top = Math.round(size * 0.12);
  return { left, top, cell: Math.round((size - left - size * 0.05) / 2) };
}

function titleOf(cm: ConfusionMatrix, options: ConfusionFigureOptions): string {
  return options.title ?? `Confusion Matrix ACC=${fixed(classificationMetrics(cm).accuracy)}`;
}

/**
 * The confusion matrix `[[TN, FP], [FN, TP]]` as an annotated heat map in SVG (rows "True",
 * columns "Prediction", ticks False/True), like the paper's Figure 2.
 *
 * @example
 * fs.writeFileSync('cm.svg', confusionFigureSvg([[50, 10], [5, 35]]));
 */
export function confusionFigureSvg(cm: ConfusionMatrix, options: ConfusionFigureOptions = {}): string {
  classificationMetrics(cm); // validates the counts
  const size = options.size ?? 400;
  const { left, top, cell } = geometry(size);
  const fs = Math.round(size / 24);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<rect width="${size}" height="${size}" fill="#ffffff"/>`);
  out.push(`<text x="${left + cell}" y="${top * 0.6}" font-size="${fs * 1.1}" text-anchor="middle">${escapeXml(titleOf(cm, options))}</text>`);
  for (const c of cells(cm)) {
    const x = left + c.col * cell;
    const y = top + c.row * cell;
    out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${hex(c.fill)}"/>`);
    out.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + fs * 0.45}" font-size="${fs * 1.3}" text-anchor="middle" fill="${hex(c.ink)}">${c.count}</text>`);
  }
  ['False', 'True'].forEach((name, k) => {
    out.push(`<text x="${left + (k + 0.5) * cell}" y="${top + 2 * cell + fs * 1.3}" font-size="${fs}" text-anchor="middle">${name}</text>`);
    out.push(`<text transform="translate(${left - fs * 0.6},${top + (k + 0.5) * cell}) rotate(-90)" font-size="${fs}" text-anchor="middle">${name}</text>`);
  });
  out.push(`<text x="${left + cell}" y="${top + 2 * cell + fs * 2.8}" font-size="${fs * 1.1}" text-anchor="middle">Prediction</text>`);
  out.push(`<text transform="translate(${left - fs * 2.2},${top + cell}) rotate(-90)" font-size="${fs * 1.1}" text-anchor="middle">True</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The confusion-matrix heat map of {@link confusionFigureSvg} as PNG bytes.
 *
 * @example
 * fs.writeFileSync('cm.png', confusionFigurePng([[50, 10], [5, 35]]));
 */
export function confusionFigurePng(cm: ConfusionMatrix, options: ConfusionFigureOptions = {}): Uint8Array {
  classificationMetrics(cm);
  const size = options.size ?? 400;
  const { left, top, cell } = geometry(size);
  const scale = Math.max(1, Math.round(size / 200));
  const black: Rgba = [0, 0, 0, 255];
  const r = new Raster(size, size);
  r.text(titleOf(cm, options), left + cell, top * 0.5, black, scale, 'center');
  for (const c of cells(cm)) {
    const x = left + c.col * cell;
    const y = top + c.row * cell;
    r.fillRect(x, y, x + cell, y + cell, c.fill);
    r.text(String(c.count), x + cell / 2, y + cell / 2, c.ink, scale + 1, 'center');
  }
  ['False', 'True'].forEach((name, k) => {
    r.text(name, left + (k + 0.5) * cell, top + 2 * cell + 7 * scale, black, scale, 'center');
    r.text(name, left - 7 * scale, top + (k + 0.5) * cell, black, scale, 'center', true);
  });
  r.text('Prediction', left + cell, top + 2 * cell + 19 * scale, black, scale, 'center');
  r.text('True', left - 19 * scale, top + cell, black, scale, 'center', true);
  return encodePng(r.data, r.width, r.height);
}
