import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCsv } from '../utils/csv';
import type { CaseRecord } from './cohort_case';
import { CohortProgress } from './cohort_progress';
import { mergeCommand, mergeRecords } from './merge';

function record(id: string, probabilities: number[], extra: Partial<CaseRecord> = {}): CaseRecord {
  return {
    id,
    prediction: probabilities.indexOf(Math.max(...probabilities)),
    probabilities,
    logits: probabilities.map(Math.log),
    shape: [3, 8, 8],
    input: `${id}.npy`,
    index: 0,
    cohortSize: 3,
    model: { runtime: 'tfjs', arch: 'mst-resnet18', weights: 'w.safetensors', numClasses: probabilities.length },
    seconds: 0.1,
    ...extra,
  };
}

async function stderrOf(run: () => Promise<number>): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => out.push(String(s)) > 0);
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => err.push(String(s)) > 0);
  try {
    expect(await run()).toBe(0);
    return { out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('mergeRecords', () => {
  it('writes GT, prediction, NN_pred and every class probability in manifest order', () => {
    const csv = mergeRecords([record('b', [0.25, 0.75], { label: 1, index: 1, shard: '1/2' }), record('a,"x"', [0.9, 0.1], { label: 0, index: 0, shard: '0/2' })]);
    expect(csv).toBe('id,GT,prediction,NN_pred,prob_0,prob_1,shard\n"a,""x""",0,0,0.1,0.9,0.1,0/2\nb,1,1,0.75,0.25,0.75,1/2\n');
    const table = parseCsv(csv);
    expect(table.rows.map((r) => r[0])).toEqual(['a,"x"', 'b']);
  });

  it('leaves out GT without labels and NN_pred for more than two classes', () => {
    expect(mergeRecords([record('a', [0.2, 0.3, 0.5])])).toBe('id,prediction,prob_0,prob_1,prob_2,shard\na,2,0.2,0.3,0.5,\n');
    expect(() => mergeRecords([record('a', [0.2, 0.8]), record('b', [0.2, 0.3, 0.5])])).toThrow(/case 'b' has 3 class probabilities, case 'a' 2: results of different models/);
  });
});

describe('mst-ts merge', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-merge-'));
    fs.mkdirSync(path.join(dir, 's0'));
    fs.mkdirSync(path.join(dir, 's2'));
    fs.writeFileSync(path.join(dir, 's0', 'a.json'), JSON.stringify(record('a', [0.6, 0.4], { label: 0, shard: '0/3' })));
    fs.writeFileSync(path.join(dir, 's0', 'a.saliency.nii.gz'), 'not read');
    fs.writeFileSync(path.join(dir, 's0', '_summary.shard-0-of-3.json'), JSON.stringify({ shard: '0/3', failed: [{ id: 'c', error: 'corrupt' }] }));
    fs.writeFileSync(path.join(dir, 's2', 'b.json'), JSON.stringify(record('b', [0.3, 0.7], { label: 1, index: 1, shard: '2/3' })));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"hello": 1}');
    fs.writeFileSync(path.join(dir, 'torn.json'), '{"id": "x", "probab');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('merges folders and says what is missing', async () => {
    const { out, err } = await stderrOf(() => mergeCommand.run([path.join(dir, 's0'), path.join(dir, 's2')]));
    expect(out).toBe('id,GT,prediction,NN_pred,prob_0,prob_1,shard\na,0,0,0.4,0.6,0.4,0/3\nb,1,1,0.7,0.3,0.7,2/3\n');
    expect(err).toBe("merged 2 cases from 2 files (shards 0/3, 2/3; nothing from shard 1/3); 1 of the cohort's 3 cases are missing (failed, or in shards not run yet); the runs' summaries list 1 failed case(s)\n");
    const again = await stderrOf(() => mergeCommand.run([path.join(dir, 's0', 'a.json'), path.join(dir, 's0', 'a.json'), path.join(dir, 's0', 'a.saliency.nii.gz'), '--out', path.join(dir, 'm.csv')]));
    expect(again.err).toMatch(/merged 1 cases from 1 files \(shards 0\/3; nothing from shard 1\/3, 2\/3\) into .*m.csv; .*skipped 1 file\(s\) that are not .json/);
    expect(fs.readFileSync(path.join(dir, 'm.csv'), 'utf8')).toBe('id,GT,prediction,NN_pred,prob_0,prob_1,shard\na,0,0,0.4,0.6,0.4,0/3\n');
  });

  it('names files that are not case results', async () => {
    await expect(mergeCommand.run([path.join(dir, 'bad.json')])).rejects.toThrow(/bad.json' is not a case result of mst-ts predict/);
    await expect(mergeCommand.run([path.join(dir, 'torn.json')])).rejects.toThrow(/torn.json' is not JSON/);
    await expect(mergeCommand.run([path.join(dir, 'nope')])).rejects.toThrow(/no such file or folder '.*nope'/);
    await expect(mergeCommand.run([])).rejects.toThrow(/name at least one results folder/);
    for (const word of ['GT', 'NN_pred', 'prob_0', 'shard', '--out', 'mst-ts stats']) expect(mergeCommand.usage).toContain(word);
  });
});

describe('CohortProgress', () => {
  it('redraws one line with the ETA on a TTY and prints a line per case elsewhere', () => {
    let t = 0;
    const tty: string[] = [];
    const bar = new CohortProgress({ write: (s: string) => tty.push(s), isTTY: true, columns: 200 }, 4, () => t);
    t = 2000;
    bar.caseDone('a', 'class 1');
    t = 4000;
    bar.caseFailed('b', 'corrupt');
    bar.finish();
    expect(tty[0]).toBe('\r\x1b[Kpredict [....................] 0/4');
    expect(tty[1]).toBe('\r\x1b[Kpredict [#####...............] 1/4 2.00 s/case ETA 6s');
    expect(tty.slice(2)).toEqual(['\r\x1b[K', '[2/4] b: FAILED, skipped: corrupt\n', '\r\x1b[Kpredict [##########..........] 2/4 failed 1 2.00 s/case ETA 4s', '\r\x1b[K']);
    const log: string[] = [];
    const plain = new CohortProgress({ write: (s: string) => log.push(s) }, 2);
    plain.caseDone('a', 'class 1 (p 0.900)');
    plain.caseFailed('b', 'corrupt');
    expect(log).toEqual(['[1/2] a: class 1 (p 0.900)\n', '[2/2] b: FAILED, skipped: corrupt\n']);
  });
});
