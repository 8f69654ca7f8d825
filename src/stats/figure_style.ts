/** Shared helpers of the SVG / PNG figures: number formatting and XML escaping. */

/** Formats a number with `digits` decimals, like Python's `f'{x:.2f}'` (NaN prints as 'nan'). */
export function fixed(x: number, digits = 2): string {
  return Number.isNaN(x) ? 'nan' : x.toFixed(digits);
}

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Ticks 0, 0.2, ..., 1 of the unit axes. */
export const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];
