import { formatDuration, TerminalProgress } from './progress';

describe('TerminalProgress', () => {
  it('redraws one line with loss, last AUC and ETA on a TTY', () => {
    let text = '';
    let now = 0;
    const p = new TerminalProgress({ write: (t: string) => (text += t), isTTY: true, columns: 200 }, () => now);
    p.startEpoch(2, 5, 4, 0.8125);
    now = 2000;
    p.update(1, 0.69);
    now = 2050;
    p.update(2, 0.6); // under 100 ms since the last draw: skipped
    now = 8000;
    p.update(4, 0.5);
    p.endEpoch('epoch 2/5 | done');
    const lines = text.split('\r\x1b[K').filter(Boolean);
    expect(lines).toEqual([
      'epoch 2/5 [....................] 0/4 val AUC 0.813',
      'epoch 2/5 [#####...............] 1/4 loss 0.6900 val AUC 0.813 2.00 s/batch ETA 6s',
      'epoch 2/5 [####################] 4/4 loss 0.5000 val AUC 0.813 2.00 s/batch ETA 0s',
      'epoch 2/5 | done\n',
    ]);
  });

  it('prints only the epoch summaries elsewhere', () => {
    let text = '';
    const p = new TerminalProgress({ write: (t: string) => (text += t) });
    p.startEpoch(1, 1, 2, NaN);
    p.update(2, 0.5);
    p.endEpoch('epoch 1/1 | done');
    expect(text).toBe('epoch 1/1 | done\n');
  });

  it('formats durations', () => {
    expect([7.2, 83, 3700, NaN].map(formatDuration)).toEqual(['7s', '1m23s', '1h01m', '?']);
  });
});
