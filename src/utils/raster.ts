/**
 * A tiny RGBA raster for figures without a browser: filled rectangles and polygons, thick
 * anti-aliased lines, dashed lines, circles and text in an embedded 5x7 bitmap font scaled by an
 * integer factor. Pair it with `encodePng` from ./png to write files.
 */

// Module-level aliases: per-pixel lookups of the global `Math` are ~100x slower inside vm sandboxes
// such as jest's.
const { abs, ceil, floor, hypot, max, min, round } = Math;

/** An RGBA colour, channels 0-255 (alpha 255 = opaque). */
export type Rgba = [number, number, number, number];

/**
 * Parses '#rrggbb' or '#rrggbbaa' (what the SVG figures use too).
 *
 * @example
 * parseColor('#1f77b4'); // returns [31, 119, 180, 255]
 */
export function parseColor(hex: string): Rgba {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(hex);
  if (!m) throw new Error(`parseColor: expected '#rrggbb' or '#rrggbbaa', got '${hex}'`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255, m[2] ? parseInt(m[2], 16) : 255];
}

// Glyphs of the 5x7 font: 7 rows per glyph, each row a base-32 digit whose 5 bits are the pixels
// left to right.
const FONT_CHARS = ' !"#%\'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz±';
const FONT_ROWS = '00000004444404AA00000AVAAVA0OP248J344000002488842842224804LEL40044V4400000C48000V00000000CC01248G0EHJLPHE4C4444EEH1248VV2421HE26AIV22VGU11HE68GUHHEV124888EHHEHHEEHHF12C0CC0CC00CC0C48248G84200V0V008421248EH12404EHHVHHHUHHUHHUEHGGGHESIHHHISVGGUGGVVGGUGGGEHGNHHFHHHVHHHE44444E72222ICHIKOKIHGGGGGGVHRLLHHHHHPLJHHEHHHHHEUHHUGGGEHHHLIDUHHUKIHFGGE11UV444444HHHHHHEHHHHHA4HHHLLLAHHA4AHHHHA4444V1248GVE88888EE22222E000000V00E1FHFGGMPHHU00EGGHE11DJHHF00EHVGE698S8880FHHF1EGGMPHHH40C444E20622ICGGIKOKIC44444E00QLLHH00MPHHH00EHHHE00UHUGG00DJF1100MPGGG00EGE1U88S889600HHHJD00HHHA400HHLLA00HA4AH00HHF1E00V248V44V440V';
const GLYPH_W = 5;
const GLYPH_H = 7;
const B32 = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

function glyph(ch: string): number[] | null {
  const k = FONT_CHARS.indexOf(ch);
  if (k < 0) return null;
  const rows: number[] = [];
  for (let r = 0; r < GLYPH_H; r++) rows.push(B32.indexOf(FONT_ROWS[k * GLYPH_H + r]));
  return rows;
}

/** Horizontal anchor of text. */
export type TextAlign = 'left' | 'center' | 'right';

/**
 * An RGBA image [height, width, 4] with source-over blending of every primitive.
 *
 * @example
 * const r = new Raster(200, 100, parseColor('#ffffff'));
 * r.line(10, 90, 190, 10, parseColor('#1f77b4'), 2);
 * r.text('AUC = 0.87', 100, 50, parseColor('#000000'), 2, 'center');
 * fs.writeFileSync('plot.png', encodePng(r.data, r.width, r.height));
 */
export class Raster {
  /** [height * width * 4] RGBA bytes, row-major. */
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgba = [255, 255, 255, 255],
  ) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
      throw new Error(`Raster: width and height must be positive integers, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.data.set(background, 0);
    // Doubling copies fill the image with the first pixel in log2(pixels) steps.
    for (let filled = 4; filled < this.data.length; filled *= 2) this.data.copyWithin(filled, 0, min(filled, this.data.length - filled));
  }

  /** Blends colour c with coverage a (0-1) into pixel (x, y); outside pixels are ignored. */
  blend(x: number, y: number, c: Rgba, a = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const alpha = (c[3] / 255) * min(max(a, 0), 1);
    if (alpha <= 0) return;
    const i = (y * this.width + x) * 4;
    const d = this.data;
    for (let k = 0; k < 3; k++) d[i + k] = round(d[i + k] * (1 - alpha) + c[k] * alpha);
    d[i + 3] = round(d[i + 3] * (1 - alpha) + 255 * alpha);
  }

  /** Fills the axis-aligned rectangle [x0, x1) x [y0, y1) (rounded to pixels). */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: Rgba): void {
    const xa = max(0, round(min(x0, x1)));
    const xb = min(this.width, round(max(x0, x1)));
    const ya = max(0, round(min(y0, y1)));
    const yb = min(this.height, round(max(y0, y1)));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.blend(x, y, c);
  }

  /** Fills a simple polygon (even-odd rule) sampling pixel centres; points are [x, y] pairs. */
  fillPolygon(points: readonly [number, number][], c: Rgba): void {
    if (points.length < 3) return;
    const ys = points.map((p) => p[1]);
    const ya = max(0, floor(min(...ys)));
    const yb = min(this.height - 1, ceil(max(...ys)));
    for (let y = ya; y <= yb; y++) {
      const yc = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < points.length; i++) {
        const [x1, y1] = points[i];
        const [x2, y2] = points[(i + 1) % points.length];
        if (y1 <= yc === y2 <= yc) continue;
        xs.push(x1 + ((yc - y1) * (x2 - x1)) / (y2 - y1));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        for (let x = max(0, ceil(xs[k] - 0.5)); x <= min(this.width - 1, floor(xs[k + 1] - 0.5)); x++) this.blend(x, y, c);
      }
    }
  }

  /** A line of the given width with anti-aliased edges (distance-to-segment coverage). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgba, width = 1): void {
    const r = width / 2;
    const xa = max(0, floor(min(x0, x1) - r - 1));
    const xb = min(this.width - 1, ceil(max(x0, x1) + r + 1));
    const ya = max(0, floor(min(y0, y1) - r - 1));
    const yb = min(this.height - 1, ceil(max(y0, y1) + r + 1));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = len2 === 0 ? 0 : min(1, max(0, ((px - x0) * dx + (py - y0) * dy) / len2));
        const dist = hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        const cover = min(1, r + 0.5 - dist);
        if (cover > 0) this.blend(x, y, c, cover);
      }
    }
  }

  /** A polyline through the points. */
  polyline(points: readonly [number, number][], c: Rgba, width = 1): void {
    for (let i = 1; i < points.length; i++) this.line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1], c, width);
  }

  /** A dashed straight line: dash and gap lengths in pixels. */
  dashedLine(x0: number, y0: number, x1: number, y1: number, c: Rgba, width = 1, dash = 6, gap = 4): void {
    const len = hypot(x1 - x0, y1 - y0);
    if (len === 0) return;
    for (let s = 0; s < len; s += dash + gap) {
      const e = min(s + dash, len);
      this.line(x0 + ((x1 - x0) * s) / len, y0 + ((y1 - y0) * s) / len, x0 + ((x1 - x0) * e) / len, y0 + ((y1 - y0) * e) / len, c, width);
    }
  }

  /** A filled, anti-aliased disc. */
  circle(cx: number, cy: number, radius: number, c: Rgba): void {
    for (let y = floor(cy - radius - 1); y <= ceil(cy + radius + 1); y++) {
      for (let x = floor(cx - radius - 1); x <= ceil(cx + radius + 1); x++) {
        const cover = min(1, radius + 0.5 - hypot(x + 0.5 - cx, y + 0.5 - cy));
        if (cover > 0) this.blend(x, y, c, cover);
      }
    }
  }

  /**
   * Draws text with the 5x7 font scaled by `scale` (glyph cell (5 + 1) x 7 pixels before scaling);
   * (x, y) is the anchor on the vertical middle of the text. Characters outside the font draw as a box.
   * With `vertical`, the text runs bottom to top (for a y-axis label).
   */
  text(s: string, x: number, y: number, c: Rgba, scale = 2, align: TextAlign = 'left', vertical = false): void {
    const w = Raster.textWidth(s, scale);
    const start = align === 'left' ? 0 : align === 'center' ? -w / 2 : -w;
    const top = -(GLYPH_H * scale) / 2;
    let cursor = 0;
    for (const ch of s) {
      const rows = glyph(ch) ?? [31, 17, 17, 17, 17, 17, 31];
      for (let r = 0; r < GLYPH_H; r++) {
        for (let col = 0; col < GLYPH_W; col++) {
          if (!((rows[r] >> (GLYPH_W - 1 - col)) & 1)) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const u = start + cursor + col * scale + sx; // along the text
              const v = top + r * scale + sy; // across the text
              if (vertical) this.blend(round(x + v), round(y - u), c);
              else this.blend(round(x + u), round(y + v), c);
            }
          }
        }
      }
      cursor += (GLYPH_W + 1) * scale;
    }
  }

  /** Width in pixels of text drawn at `scale`. */
  static textWidth(s: string, scale = 2): number {
    const n = [...s].length;
    return n === 0 ? 0 : (n * (GLYPH_W + 1) - 1) * scale;
  }
}
