/** Colour maps from [0, 1] to RGB bytes, for saliency overlays. */

/** A colour map's name. */
export type ColormapName = 'jet' | 'turbo';

/** Entries of a lookup table, as matplotlib's default `N = 256`. */
const LUT_SIZE = 256;

// matplotlib's jet segment data: per channel, (x, value) knots with linear interpolation between.
const JET_KNOTS: [number, number][][] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

function piecewise(knots: [number, number][], x: number): number {
  for (let k = 1; k < knots.length; k++) {
    const [x1, y1] = knots[k];
    if (x <= x1) {
      const [x0, y0] = knots[k - 1];
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return knots[knots.length - 1][1];
}

// Turbo (Mikhailov 2019) by its published degree-5 polynomial fit: smooth, a few percent off the
// 256-entry table at the dark end.
const TURBO_COEFFS: number[][] = [
  [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
  [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
  [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
];

function polynomial(c: number[], x: number): number {
  let y = 0;
  for (let k = c.length - 1; k >= 0; k--) y = y * x + c[k];
  return Math.min(1, Math.max(0, y));
}

const tables = new Map<ColormapName, Uint8Array>();

/**
 * The 256-entry RGB lookup table `[256 * 3]` of a colour map, built once. Jet is sampled as
 * matplotlib samples it (`i / 255`), so `colormapRgb` matches `get_cmap('jet')` up to rounding.
 *
 * @example
 * colormapTable('jet').subarray(0, 3); // Uint8Array [0, 0, 128]: dark blue at 0
 */
export function colormapTable(name: ColormapName): Uint8Array {
  const cached = tables.get(name);
  if (cached) return cached;
  if (name !== 'jet' && name !== 'turbo') throw new Error(`colormap: expected 'jet' or 'turbo', got '${String(name)}'`);
  const table = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = i / (LUT_SIZE - 1);
    for (let c = 0; c < 3; c++) {
      const v = name === 'jet' ? piecewise(JET_KNOTS[c], x) : polynomial(TURBO_COEFFS[c], x);
      table[i * 3 + c] = Math.round(v * 255);
    }
  }
  tables.set(name, table);
  return table;
}

/**
 * Colours values in [0, 1] (clamped; NaN maps to 0) as interleaved RGB bytes `[n * 3]`. The table
 * index is `floor(v * 256)` capped at 255, matplotlib's lookup rule.
 *
 * @example
 * colormapRgb(new Float32Array([0, 1]), 'jet'); // Uint8Array [0, 0, 128, 128, 0, 0]
 */
export function colormapRgb(values: ArrayLike<number>, name: ColormapName): Uint8Array {
  const table = colormapTable(name);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const idx = Number.isNaN(v) ? 0 : Math.min(LUT_SIZE - 1, Math.max(0, Math.floor(v * LUT_SIZE)));
    out[i * 3] = table[idx * 3];
    out[i * 3 + 1] = table[idx * 3 + 1];
    out[i * 3 + 2] = table[idx * 3 + 2];
  }
  return out;
}
