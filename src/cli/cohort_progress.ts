import { formatDuration, type ProgressStream } from '../train/progress';

/**
 * Progress of a cohort run: on a TTY one redrawn line, `predict [#####.....] 12/40 failed 1
 * 3.21 s/case ETA 1m30s`; elsewhere (a Slurm log, CI) one line per finished case. Failures are
 * always printed on their own line, with the error.
 *
 * @example
 * const bar = new CohortProgress(process.stderr, todo.length);
 * bar.caseDone('case-01', 'class 1 (p 0.83)');
 */
export class CohortProgress {
  private done = 0;
  private failed = 0;
  private readonly startedAt: number;
  private lastDraw = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.startedAt = now();
    this.draw(true);
  }

  /** A case finished; `what` is a short description of its prediction. */
  caseDone(id: string, what: string): void {
    this.done++;
    if (this.stream.isTTY) this.draw();
    else this.stream.write(`[${this.done + this.failed}/${this.total}] ${id}: ${what}\n`);
  }

  /** A case failed and was skipped. */
  caseFailed(id: string, message: string): void {
    this.failed++;
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.stream.write(`[${this.done + this.failed}/${this.total}] ${id}: FAILED, skipped: ${message}\n`);
    this.draw(true);
  }

  /** Clears the bar (before the summary). */
  finish(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }

  private draw(force = false): void {
    if (!this.stream.isTTY) return;
    const t = this.now();
    const finished = this.done + this.failed;
    if (!force && finished < this.total && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const perCase = finished > 0 ? (t - this.startedAt) / 1000 / finished : NaN;
    const width = 20;
    const filled = this.total > 0 ? Math.round((width * finished) / this.total) : width;
    const parts = [
      'predict',
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`,
      `${finished}/${this.total}`,
      this.failed > 0 ? `failed ${this.failed}` : '',
      Number.isFinite(perCase) ? `${perCase.toFixed(2)} s/case` : '',
      Number.isFinite(perCase) ? `ETA ${formatDuration(perCase * (this.total - finished))}` : '',
    ].filter(Boolean);
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[K${parts.join(' ').slice(0, Math.max(cols - 1, 20))}`);
  }
}
