import { escapeXml } from './figure_style';
import { encodePng } from '../utils/png';
import { parseColor, Raster } from '../utils/raster';

/** One line of a {@link LineChart}. */
export interface LineSeries {
  /** Legend label. */
  label: string;
  /** '#rrggbb'. */
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Dashed line. Default false. */
  dashed?: boolean;
  /** Draw a dot at each point. Default false. */
  markers?: boolean;
}

/** A square chart of lines on fixed axis ranges, rendered as SVG or PNG. */
export interface LineChart {
  series: LineSeries[];
  xRange: [number, number];
  yRange: [number, number];
  xTicks: number[];
  yTicks: number[];
  xLabel: string;
  yLabel: string;
  /** Tick label decimals. */
  digits: number;
  /** Legend corner. */
  legend: 'bottom-right' | 'top-right';
  /** Optional bars along the bottom (e.g. a histogram of the predictions): x centre, width, height as a fraction of the plot. */
  bars?: { x: number; width: number; height: number }[];
  size: number;
}

interface Layout {
  left: number;
  top: number;
  plot: number;
  px: (x: number) => number;
  py: (y: number) => number;
}

function layout(c: LineChart): Layout {
  const left = Math.round(c.size * 0.13);
  const top = Math.round(c.size * 0.03);
  const plot = c.size - left - Math.round(c.size * 0.04);
  const [x0, x1] = c.xRange;
  const [y0, y1] = c.yRange;
  // Values outside the y range are drawn at its edge (a net benefit far below zero, say).
  const clampY = (y: number): number => Math.min(Math.max(y, y0), y1);
  return { left, top, plot, px: (x) => left + ((x - x0) / (x1 - x0)) * plot, py: (y) => top + (1 - (clampY(y) - y0) / (y1 - y0)) * plot };
}

function finitePoints(s: LineSeries): [number, number][] {
  const pts: [number, number][] = [];
  for (let i = 0; i < s.x.length; i++) if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) pts.push([s.x[i], s.y[i]]);
  return pts;
}

/**
 * The chart as an SVG document.
 *
 * @example
 * lineChartSvg({ series: [{ label: 'y = x', color: '#000000', x: [0, 1], y: [0, 1] }], xRange: [0, 1], yRange: [0, 1],
 *   xTicks: [0, 1], yTicks: [0, 1], xLabel: 'x', yLabel: 'y', digits: 1, legend: 'top-right', size: 300 });
 */
export function lineChartSvg(c: LineChart): string {
  const L = layout(c);
  const { px, py } = L;
  const f = (v: number): string => v.toFixed(2);
  const fs = Math.round(c.size / 40);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${c.size}" height="${c.size}" viewBox="0 0 ${c.size} ${c.size}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<rect width="${c.size}" height="${c.size}" fill="#ffffff"/>`);
  const [x0, x1] = c.xRange;
  const [y0, y1] = c.yRange;
  for (const t of c.xTicks) {
    out.push(`<line x1="${f(px(t))}" y1="${f(py(y0))}" x2="${f(px(t))}" y2="${f(py(y1))}" stroke="#dddddd" stroke-width="1"/>`);
    out.push(`<text x="${f(px(t))}" y="${f(py(y0) + fs * 1.4)}" font-size="${fs}" text-anchor="middle">${t.toFixed(c.digits)}</text>`);
  }
  for (const t of c.yTicks) {
    out.push(`<line x1="${f(px(x0))}" y1="${f(py(t))}" x2="${f(px(x1))}" y2="${f(py(t))}" stroke="#dddddd" stroke-width="1"/>`);
    out.push(`<text x="${f(px(x0) - fs * 0.5)}" y="${f(py(t) + fs * 0.35)}" font-size="${fs}" text-anchor="end">${t.toFixed(c.digits)}</text>`);
  }
  for (const b of c.bars ?? []) {
    const h = b.height * L.plot;
    out.push(`<rect x="${f(px(b.x - b.width / 2))}" y="${f(py(y0) - h)}" width="${f(px(b.x + b.width / 2) - px(b.x - b.width / 2))}" height="${f(h)}" fill="#808080" fill-opacity="0.3"/>`);
  }
  for (const s of c.series) {
    const pts = finitePoints(s);
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    out.push(`<polyline points="${pts.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.markers) for (const [x, y] of pts) out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3.5" fill="${s.color}"/>`);
  }
  out.push(`<rect x="${f(px(x0))}" y="${f(py(y1))}" width="${f(L.plot)}" height="${f(L.plot)}" fill="none" stroke="#dddddd"/>`);
  out.push(`<text x="${f(px((x0 + x1) / 2))}" y="${f(c.size - fs * 0.6)}" font-size="${fs * 1.15}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`);
  out.push(`<text transform="translate(${f(fs * 1.2)},${f(py((y0 + y1) / 2))}) rotate(-90)" font-size="${fs * 1.15}" text-anchor="middle">${escapeXml(c.yLabel)}</text>`);
  const lh = fs * 1.6;
  const lw = Math.max(...c.series.map((s) => s.label.length)) * fs * 0.6 + fs * 3.5;
  const lx = px(x1) - lw - fs * 0.6;
  const ly = c.legend === 'bottom-right' ? py(y0) - c.series.length * lh - fs * 0.6 : py(y1) + fs * 0.6;
  out.push(`<rect x="${f(lx)}" y="${f(ly)}" width="${f(lw)}" height="${f(c.series.length * lh + fs * 0.4)}" fill="#ffffff" fill-opacity="0.8" stroke="#cccccc" rx="3"/>`);
  c.series.forEach((s, i) => {
    const cy = ly + fs * 0.2 + lh * (i + 0.5);
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    out.push(`<line x1="${f(lx + fs * 0.5)}" y1="${f(cy)}" x2="${f(lx + fs * 2.5)}" y2="${f(cy)}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${f(lx + fs * 3)}" y="${f(cy + fs * 0.35)}" font-size="${fs}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The same chart rasterised to PNG bytes (embedded bitmap font; no browser or canvas).
 *
 * @example
 * fs.writeFileSync('chart.png', lineChartPng(chart));
 */
export function lineChartPng(c: LineChart): Uint8Array {
  const L = layout(c);
  const { px, py } = L;
  const r = new Raster(c.size, c.size);
  const scale = Math.max(1, Math.round(c.size / 300));
  const black = parseColor('#000000');
  const grid = parseColor('#dddddd');
  const [x0, x1] = c.xRange;
  const [y0, y1] = c.yRange;
  for (const t of c.xTicks) {
    r.line(px(t), py(y0), px(t), py(y1), grid, 1);
    r.text(t.toFixed(c.digits), px(t), py(y0) + 7 * scale, black, scale, 'center');
  }
  for (const t of c.yTicks) {
    r.line(px(x0), py(t), px(x1), py(t), grid, 1);
    r.text(t.toFixed(c.digits), px(x0) - 3 * scale, py(t), black, scale, 'right');
  }
  for (const b of c.bars ?? []) r.fillRect(px(b.x - b.width / 2), py(y0) - b.height * L.plot, px(b.x + b.width / 2), py(y0), [128, 128, 128, 77]);
  const width = 2 * Math.max(1, c.size / 600);
  for (const s of c.series) {
    const col = parseColor(s.color);
    const pts = finitePoints(s).map(([x, y]) => [px(x), py(y)] as [number, number]);
    if (s.dashed) for (let i = 1; i < pts.length; i++) r.dashedLine(pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1], col, width);
    else r.polyline(pts, col, width);
    if (s.markers) for (const [x, y] of pts) r.circle(x, y, 3.5, col);
  }
  r.text(c.xLabel, px((x0 + x1) / 2), c.size - 7 * scale, black, scale, 'center');
  r.text(c.yLabel, 6 * scale, py((y0 + y1) / 2), black, scale, 'center', true);
  const lh = 12 * scale;
  const lw = Math.max(...c.series.map((s) => Raster.textWidth(s.label, scale))) + 22 * scale;
  const lx = px(x1) - lw - 4 * scale;
  const ly = c.legend === 'bottom-right' ? py(y0) - c.series.length * lh - 4 * scale : py(y1) + 4 * scale;
  r.fillRect(lx, ly, lx + lw, ly + c.series.length * lh + 2 * scale, [255, 255, 255, 220]);
  c.series.forEach((s, i) => {
    const cy = ly + scale + lh * (i + 0.5);
    const col = parseColor(s.color);
    if (s.dashed) r.dashedLine(lx + 3 * scale, cy, lx + 16 * scale, cy, col, 2);
    else r.line(lx + 3 * scale, cy, lx + 16 * scale, cy, col, 2);
    r.text(s.label, lx + 19 * scale, cy, black, scale, 'left');
  });
  return encodePng(r.data, r.width, r.height);
}
