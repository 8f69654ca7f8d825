/**
 * A one-line progress bar for a terminal: `epoch 3/20 [######....] 45/90 loss 0.532 val AUC 0.812
 * 12.3 s/it ETA 1m20s`. It is a few lines of our own rather than a dependency (such as
 * cli-progress) because it needs only carriage-return redraws on one stream.
 */

/** Receives training progress; the {@link Trainer} calls it, a UI implements it. */
export interface ProgressReporter {
  /** An epoch of `totalBatches` batches begins; `lastAuc` is the previous validation AUC (NaN if none). */
  startEpoch(epoch: number, totalEpochs: number, totalBatches: number, lastAuc: number): void;
  /** `done` batches of the epoch are finished; `loss` is the running mean training loss. */
  update(done: number, loss: number): void;
  /** The epoch ended with this summary line (validation included). */
  endEpoch(summary: string): void;
}

/** A stream with what the bar needs (process.stderr fits). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A {@link ProgressReporter} that redraws one line on a TTY and, on anything else (a log file, CI),
 * prints only the end-of-epoch summaries.
 *
 * @example
 * const trainer = new Trainer({ ..., progress: new TerminalProgress(process.stderr) });
 */
export class TerminalProgress implements ProgressReporter {
  private epoch = 0;
  private totalEpochs = 0;
  private totalBatches = 0;
  private startedAt = 0;
  private lastDraw = 0;
  private lastAuc = NaN;

  constructor(private readonly stream: ProgressStream, private readonly now: () => number = () => Date.now()) {}

  startEpoch(epoch: number, totalEpochs: number, totalBatches: number, lastAuc: number): void {
    this.epoch = epoch;
    this.lastAuc = lastAuc;
    this.totalEpochs = totalEpochs;
    this.totalBatches = totalBatches;
    this.startedAt = this.now();
    this.lastDraw = 0;
    this.draw(0, NaN);
  }

  update(done: number, loss: number): void {
    // Redraw at most 10 times a second; the last batch always draws.
    const t = this.now();
    if (done < this.totalBatches && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.draw(done, loss);
  }

  endEpoch(summary: string): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.stream.write(`${summary}\n`);
  }

  private draw(done: number, loss: number): void {
    if (!this.stream.isTTY) return;
    const elapsed = (this.now() - this.startedAt) / 1000;
    const perBatch = done > 0 ? elapsed / done : NaN;
    const eta = done > 0 ? perBatch * (this.totalBatches - done) : NaN;
    const width = 20;
    const filled = this.totalBatches > 0 ? Math.round((width * done) / this.totalBatches) : 0;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const parts = [
      `epoch ${this.epoch}/${this.totalEpochs}`,
      `[${bar}]`,
      `${done}/${this.totalBatches}`,
      Number.isFinite(loss) ? `loss ${loss.toFixed(4)}` : '',
      Number.isFinite(this.lastAuc) ? `val AUC ${this.lastAuc.toFixed(3)}` : '',
      Number.isFinite(perBatch) ? `${perBatch.toFixed(2)} s/batch` : '',
      Number.isFinite(eta) ? `ETA ${formatDuration(eta)}` : '',
    ].filter(Boolean);
    const line = parts.join(' ');
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[K${line.slice(0, Math.max(cols - 1, 20))}`);
  }
}

/** `83` -> `1m23s`, `7.2` -> `7s`, `3700` -> `1h01m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
