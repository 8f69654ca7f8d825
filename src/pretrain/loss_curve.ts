import { escapeXml, fixed } from '../stats/figure_style';

/** What {@link lossCurveSvg} plots from each epoch. */
export interface LossCurvePoint {
  epoch: number;
  loss: number;
  knn: Record<string, { accuracy: number }>;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/**
 * A two-panel SVG of a pretraining run: the mean training loss per epoch (left) and the k-NN
 * accuracy of each probe per epoch, epoch 0 being the random encoder (right).
 *
 * @example
 * await writeFileAtomic('enc/loss_curve.svg', lossCurveSvg(history));
 */
export function lossCurveSvg(history: readonly LossCurvePoint[]): string {
  const w = 360;
  const h = 240;
  const pad = { l: 52, r: 12, t: 28, b: 40 };
  const epochs = history.map((p) => p.epoch);
  const maxEpoch = Math.max(1, ...epochs);
  const panel = (x0: number, title: string, yLabel: string, series: { name: string; points: [number, number][] }[], yRange: [number, number]): string => {
    const [lo, hi] = yRange[0] === yRange[1] ? [yRange[0] - 1, yRange[1] + 1] : yRange;
    const px = (e: number): number => x0 + pad.l + ((w - pad.l - pad.r) * e) / maxEpoch;
    const py = (v: number): number => pad.t + (h - pad.t - pad.b) * (1 - (v - lo) / (hi - lo));
    const parts = [
      `<text x="${x0 + w / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
      `<rect x="${x0 + pad.l}" y="${pad.t}" width="${w - pad.l - pad.r}" height="${h - pad.t - pad.b}" fill="none" stroke="#888"/>`,
      `<text x="${x0 + pad.l + (w - pad.l - pad.r) / 2}" y="${h - 6}" text-anchor="middle" font-size="11">epoch</text>`,
      `<text x="${x0 + 12}" y="${pad.t + (h - pad.t - pad.b) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 + 12} ${pad.t + (h - pad.t - pad.b) / 2})">${escapeXml(yLabel)}</text>`,
    ];
    for (const v of [lo, (lo + hi) / 2, hi]) parts.push(`<text x="${x0 + pad.l - 4}" y="${fixed(py(v) + 4)}" text-anchor="end" font-size="10">${fixed(v, 3)}</text>`);
    for (const e of [0, maxEpoch]) parts.push(`<text x="${fixed(px(e))}" y="${h - pad.b + 14}" text-anchor="middle" font-size="10">${e}</text>`);
    series.forEach((s, i) => {
      const pts = s.points.filter(([, v]) => Number.isFinite(v));
      if (!pts.length) return;
      const colour = COLOURS[i % COLOURS.length];
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.map(([e, v]) => `${fixed(px(e))},${fixed(py(v))}`).join(' ')}"/>`);
      if (series.length > 1) parts.push(`<text x="${x0 + w - pad.r - 4}" y="${pad.t + 14 + 13 * i}" text-anchor="end" font-size="10" fill="${colour}">${escapeXml(s.name)}</text>`);
    });
    return parts.join('\n');
  };
  const losses = history.filter((p) => Number.isFinite(p.loss)).map((p): [number, number] => [p.epoch, p.loss]);
  const names = [...new Set(history.flatMap((p) => Object.keys(p.knn)))];
  const knn = names.map((name) => ({ name, points: history.map((p): [number, number] => [p.epoch, p.knn[name]?.accuracy ?? NaN]) }));
  const lossRange: [number, number] = losses.length ? [Math.min(...losses.map(([, v]) => v)), Math.max(...losses.map(([, v]) => v))] : [0, 1];
  const accs = knn.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite);
  const accRange: [number, number] = accs.length ? [Math.min(0.5, ...accs), Math.max(...accs, 0.5)] : [0, 1];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * w}" height="${h}" viewBox="0 0 ${2 * w} ${h}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    panel(0, 'DINO loss', 'mean loss', [{ name: 'loss', points: losses }], lossRange),
    panel(w, 'k-NN probe (epoch 0: random encoder)', 'accuracy', knn, accRange),
    '</svg>',
    '',
  ].join('\n');
}
