/**
 * The slice-attention bar chart as SVG: one bar per slice of the network's input, the current
 * slice highlighted, a click on a bar reported with its index. Bars are `<rect data-index>`, the
 * current one has the class `current`, so scripts and tests read the chart from the DOM.
 */

const SVG = 'http://www.w3.org/2000/svg';
const PAD = 18;

/** A bar chart bound to an `<svg>` element. */
export class AttentionChart {
  private values: number[] | null = null;
  private current = -1;
  private bars: SVGRectElement[] = [];

  constructor(
    private readonly svg: SVGSVGElement,
    /** Called with a bar's index when it is clicked. */
    onPick: (index: number) => void,
  ) {
    svg.addEventListener('click', (e) => {
      const index = Number((e.target as Element).getAttribute?.('data-index') ?? NaN);
      if (Number.isInteger(index)) onPick(index);
    });
  }

  /** Draws the values (null hides the chart: a model without slice attention). */
  show(values: number[] | null): void {
    this.values = values;
    this.svg.replaceChildren();
    this.bars = [];
    this.svg.style.display = values ? '' : 'none';
    if (!values) return;
    const width = Number(this.svg.getAttribute('width'));
    const height = Number(this.svg.getAttribute('height'));
    const max = Math.max(...values, 1e-12);
    const step = (width - 2 * PAD) / values.length;
    const text = (x: number, y: number, s: string): void => {
      const t = document.createElementNS(SVG, 'text');
      t.setAttribute('x', String(x));
      t.setAttribute('y', String(y));
      t.textContent = s;
      this.svg.append(t);
    };
    values.forEach((v, i) => {
      // A full-height hit area under each bar, so short bars are easy to click.
      const hit = document.createElementNS(SVG, 'rect');
      hit.setAttribute('x', String(PAD + i * step));
      hit.setAttribute('y', String(PAD));
      hit.setAttribute('width', String(step));
      hit.setAttribute('height', String(height - 2 * PAD));
      hit.setAttribute('class', 'hit');
      hit.setAttribute('data-index', String(i));
      const h = (v / max) * (height - 2 * PAD);
      const bar = document.createElementNS(SVG, 'rect');
      bar.setAttribute('x', String(PAD + i * step + 1));
      bar.setAttribute('y', String(height - PAD - h));
      bar.setAttribute('width', String(Math.max(1, step - 2)));
      bar.setAttribute('height', String(h));
      bar.setAttribute('class', 'bar');
      bar.setAttribute('data-index', String(i));
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `slice ${i + 1}: ${v.toFixed(4)}`;
      bar.append(title);
      this.svg.append(hit, bar);
      this.bars.push(bar);
    });
    text(PAD, 12, 'slice attention (click a bar to show its slice)');
    text(PAD, height - 4, '1');
    text(width - PAD - 12, height - 4, String(values.length));
    this.highlight(this.current);
  }

  /** Highlights bar `index` (-1: none). */
  highlight(index: number): void {
    this.current = index;
    this.bars.forEach((b, i) => b.classList.toggle('current', i === index));
    this.svg.dataset.current = String(index);
  }

  /** The values shown, or null. */
  get shown(): number[] | null {
    return this.values;
  }
}
