import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoCommand } from '../../src/cli/demo';
import { FULL } from '../helpers';

// `npm run demo` end to end (about 3 minutes of CPU): it must really learn the synthetic chest task.
(FULL ? describe : describe.skip)('mst-ts demo (FULL)', () => {
  it('reaches a held-out test AUC >= 0.85 and writes saliency PNGs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-demo-'));
    let out = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await demoCommand.run(['--out', dir, '--json']);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.test.n).toBe(200);
    expect(summary.test.auc).toBeGreaterThanOrEqual(0.85);
    expect(summary.test.delong.ci[0]).toBeGreaterThan(0.75);
    expect(summary.saliency.length).toBeGreaterThanOrEqual(4);
    for (const f of summary.saliency as string[]) {
      const bytes = fs.readFileSync(f);
      expect(Array.from(bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    }
  }, 30 * 60 * 1000);
});
