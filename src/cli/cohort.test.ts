import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildSync } from 'esbuild';
import { encodeNifti } from '../io/nifti';
import { saveSafetensors } from '../io/safetensors';
import { createModel } from '../models/registry';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { disposeStateDict } from '../nn/module';
import { auc } from '../stats/auc';
import { csvColumn, csvNumberColumn, parseCsv } from '../utils/csv';
import { FULL } from '../../test/helpers';
import { runCohort, type CohortSummary } from './cohort';
import type { CaseRecord } from './cohort_case';
import { caseFileStem, caseFileStems, parseShard, readCohortManifest, shardOfId } from './cohort_plan';
import { mergeCommand } from './merge';
import { predictCommand } from './predict';
import { statsCommand } from './stats';
import { encodeNpy } from '../io/npy';


async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => out.push(String(s)) > 0);
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => err.push(String(s)) > 0);
  try {
    return { code: await run(), out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function readRecords(dir: string): Map<string, CaseRecord> {
  const out = new Map<string, CaseRecord>();
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json') || f.startsWith('_')) continue;
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CaseRecord;
    out.set(r.id, r);
  }
  return out;
}

describe('cohort plan', () => {
  it('keeps safe ids as file names and hashes the rest inside the folder', () => {
    expect(caseFileStem('case-001')).toBe('case-001');
    expect(caseFileStem('Sub_01.T1')).toBe('Sub_01.T1');
    for (const id of ['../../etc/passwd', '..', '.', '/abs/x', 'a/b', 'a\\b', '.hidden', '-rf', '_summary', 'CON', 'x.', 'ü', '', 'a'.repeat(300)]) {
      const stem = caseFileStem(id);
      expect(stem).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*@[0-9a-f]{16}$/);
      expect(path.basename(stem)).toBe(stem);
    }
    expect(caseFileStem('../../etc/passwd')).toMatch(/^etc_passwd@/);
    expect(caseFileStem('a/b')).not.toBe(caseFileStem('a\\b'));
    // Stems equal but for letter case get a hash each (one file on case-insensitive file systems).
    const stems = caseFileStems([{ id: 'Ab' }, { id: 'ab' }, { id: 'c' }]);
    expect(stems.get('c')).toBe('c');
    expect(new Set([stems.get('Ab')?.toLowerCase(), stems.get('ab')?.toLowerCase()]).size).toBe(2);
  });

  it('puts every case in exactly one shard, by id only, about evenly', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `case-${i}`);
    for (const n of [1, 3, 8]) {
      const counts = new Array(n).fill(0);
      for (const id of ids) counts[shardOfId(id, n)]++;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(ids.length);
      for (const c of counts) expect(Math.abs(c - ids.length / n)).toBeLessThan(0.15 * (ids.length / n));
    }
    expect(shardOfId('case-7', 8)).toBe(shardOfId('case-7', 8));
    expect(parseShard('0/4')).toEqual({ k: 0, n: 4 });
    expect(() => parseShard('4/4')).toThrow(/0 <= k < n \(k is 0-based/);
    expect(() => parseShard('1-4')).toThrow(/got '1-4'/);
  });

  it('reads manifests with and without labels, filters a split, and names bad rows', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-cohort-plan-'));
    try {
      fs.writeFileSync(path.join(dir, 'l.csv'), 'id,path,label,split\na,a.npy,1,test\nb,/x/b.npy,0,train\n');
      fs.writeFileSync(path.join(dir, 'u.csv'), 'id,path\na,a.npy\nb,sub/b.nii.gz\n');
      fs.writeFileSync(path.join(dir, 'dup.csv'), 'id,path\na,a.npy\na,b.npy\n');
      const l = await readCohortManifest(path.join(dir, 'l.csv'));
      expect(l.map((c) => [c.id, c.path, c.label, c.index])).toEqual([
        ['a', path.join(dir, 'a.npy'), 1, 0],
        ['b', '/x/b.npy', 0, 1],
      ]);
      expect((await readCohortManifest(path.join(dir, 'l.csv'), { split: 'test' })).map((c) => c.id)).toEqual(['a']);
      const u = await readCohortManifest(path.join(dir, 'u.csv'));
      expect(u.map((c) => [c.id, c.path, c.label])).toEqual([
        ['a', path.join(dir, 'a.npy'), undefined],
        ['b', path.join(dir, 'sub/b.nii.gz'), undefined],
      ]);
      await expect(readCohortManifest(path.join(dir, 'dup.csv'))).rejects.toThrow(/dup.csv:3: duplicate id 'a'/);
      await expect(readCohortManifest(path.join(dir, 'u.csv'), { split: 'test' })).rejects.toThrow(/needs a 'split' column/);
      await expect(readCohortManifest(path.join(dir, 'none.csv'))).rejects.toThrow(/cannot read manifest .*none.csv': no such file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mst-ts predict --manifest: a cohort end to end', () => {
  const shape: [number, number, number] = [3, 32, 32];
  const ids = ['a', 'b', 'c', 'd', 'e', '../f g'];
  const labels = [0, 1, 1, 0, 1, 0];
  let dir: string;
  let weights: string;
  let manifest: string;
  const direct = new Map<string, number[]>();

  function volumeOf(i: number): Float32Array {
    return Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, j) => Math.sin(j / (5 + i)) + 0.3 * i);
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-cohort-'));
    const model = createModel('mst-resnet18', { seed: 5 }) as MedicalSliceTransformer;
    const sd = model.stateDict();
    weights = path.join(dir, 'w.safetensors');
    await saveSafetensors(sd, weights);
    disposeStateDict(sd);
    model.eval();
    const rows = ['id,path,label'];
    for (let i = 0; i < ids.length; i++) {
      const data = volumeOf(i);
      const file = i % 2 === 0 ? `v${i}.npy` : `v${i}.nii.gz`;
      if (file.endsWith('.npy')) fs.writeFileSync(path.join(dir, file), encodeNpy(data, shape));
      // An axial affine in mst-ts's canonical orientation ('SPL'): read back voxel for voxel.
      else fs.writeFileSync(path.join(dir, file), encodeNifti({ data, shape, affine: [[0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]] }));
      rows.push(`"${ids[i]}",${file},${labels[i]}`);
    }
    fs.writeFileSync(path.join(dir, 'corrupt.npy'), Buffer.from('not a volume'));
    rows.push('broken,corrupt.npy,1');
    manifest = path.join(dir, 'cases.csv');
    fs.writeFileSync(manifest, `${rows.join('\n')}\n`);
    // The single-volume prediction of each case, from the files as the cohort reads them.
    for (let i = 0; i < ids.length; i++) {
      const { readVolume } = await import('../io/read_volume');
      const v = await readVolume(path.join(dir, i % 2 === 0 ? `v${i}.npy` : `v${i}.nii.gz`));
      const x = tf.tensor3d(v.data, shape);
      direct.set(ids[i], (await model.predict(x)).probabilities);
      x.dispose();
    }
    model.dispose();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const spec = () => ({ runtime: 'tfjs' as const, arch: 'mst-resnet18', weights, numClasses: 2 });

  it('predicts every case as the single-volume predict, skips a corrupt file, and a rerun skips what is done', async () => {
    const out = path.join(dir, 'all');
    const log: string[] = [];
    const before = tf.memory().numTensors;
    const s = await runCohort({ manifest, outDir: out, spec: spec(), progress: { write: (t: string) => log.push(t) } });
    expect(tf.memory().numTensors).toBe(before);
    expect([s.cases, s.done, s.skipped, s.failed.length, s.cohortSize]).toEqual([7, 6, 0, 1, 7]);
    expect(s.failed[0].id).toBe('broken');
    expect(s.failed[0].error).toMatch(/cases.csv:8: case 'broken': .*corrupt.npy/);
    expect(s.secondsPerCase).toBeGreaterThan(0);
    expect(log.join('')).toMatch(/\[7\/7\] .*\n/);
    expect(log.join('')).toMatch(/broken: FAILED, skipped: /);

    const records = readRecords(out);
    expect([...records.keys()].sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      const r = records.get(id) as CaseRecord;
      expect(r.label).toBe(labels[i]);
      expect(r.index).toBe(i);
      r.probabilities.forEach((p, k) => expect(Math.abs(p - (direct.get(id) as number[])[k])).toBeLessThan(1e-5));
      expect(r.prediction).toBe(r.probabilities.indexOf(Math.max(...r.probabilities)));
      expect(r.sliceAttention).toHaveLength(3);
      expect((r.sliceAttention as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(r.model).toEqual({ runtime: 'tfjs', arch: 'mst-resnet18', weights: 'w.safetensors', numClasses: 2 });
    }
    // The id with a path in it stays inside the folder.
    expect(fs.readdirSync(out).filter((f) => f.includes('@'))).toEqual([`${caseFileStem('../f g')}.json`]);
    expect(fs.existsSync(path.join(dir, 'f g.json'))).toBe(false);
    const summary = JSON.parse(fs.readFileSync(path.join(out, '_summary.json'), 'utf8')) as CohortSummary;
    expect(summary.failed.map((f) => f.id)).toEqual(['broken']);

    const mtimes = ids.map((id) => fs.statSync(path.join(out, `${caseFileStem(id)}.json`)).mtimeMs);
    const again = await runCohort({ manifest, outDir: out, spec: spec() });
    expect([again.done, again.skipped, again.failed.length]).toEqual([0, 6, 1]);
    expect(ids.map((id) => fs.statSync(path.join(out, `${caseFileStem(id)}.json`)).mtimeMs)).toEqual(mtimes);
    // Another model's weights into the same folder is refused.
    fs.copyFileSync(weights, path.join(dir, 'other.safetensors'));
    await expect(runCohort({ manifest, outDir: out, spec: { ...spec(), weights: path.join(dir, 'other.safetensors') } })).rejects.toThrow(/was made by another model/);
  });

  it('shards partition the cohort; merge joins them into a CSV whose AUC mst-ts stats reads as computed directly', async () => {
    const n = 3;
    const runs: CohortSummary[] = [];
    for (let k = 0; k < n; k++) {
      runs.push(await runCohort({ manifest, outDir: path.join(dir, 'shards', `s${k}`), spec: spec(), shard: { k, n }, sliceAttention: false }));
    }
    expect(runs.reduce((a, s) => a + s.cases, 0)).toBe(7);
    const seen = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      for (const [id, r] of readRecords(path.join(dir, 'shards', `s${k}`))) {
        expect(seen.has(id)).toBe(false);
        seen.set(id, k);
        expect(r.shard).toBe(`${k}/${n}`);
        expect(r.sliceAttention).toBeUndefined();
        expect(shardOfId(id, n)).toBe(k);
      }
    }
    expect([...seen.keys()].sort()).toEqual([...ids].sort());

    const merged = path.join(dir, 'merged.csv');
    const shardDirs = fs.readdirSync(path.join(dir, 'shards')).map((d) => path.join(dir, 'shards', d));
    const m = await capture(() => mergeCommand.run([...shardDirs, '--out', merged]));
    expect(m.code).toBe(0);
    expect(m.err).toMatch(/merged 6 cases from 6 files \(shards 0\/3, 1\/3, 2\/3\).*1 of the cohort's 7 cases are missing.*1 failed case/);
    const table = parseCsv(fs.readFileSync(merged, 'utf8'), { source: merged });
    expect(table.header).toEqual(['id', 'GT', 'prediction', 'NN_pred', 'prob_0', 'prob_1', 'shard']);
    expect(csvColumn(table, 'id', merged)).toEqual(ids);
    const gt = csvNumberColumn(table, 'GT', merged);
    const score = csvNumberColumn(table, 'NN_pred', merged);
    ids.forEach((id, i) => expect(Math.abs(score[i] - (direct.get(id) as number[])[1])).toBeLessThan(1e-5));
    const expected = auc(
      labels,
      ids.map((id) => (readRecords(path.join(dir, 'shards', `s${seen.get(id)}`)).get(id) as CaseRecord).probabilities[1]),
    );
    expect(Array.from(gt)).toEqual(labels);
    const st = await capture(() => statsCommand.run(['--csv', merged, '--json', '--replicates', '20']));
    expect(st.code).toBe(0);
    expect((JSON.parse(st.out) as { auc: number; n: number }).auc).toBe(expected);
    expect((JSON.parse(st.out) as { n: number }).n).toBe(6);

    // Case files named one by one merge the same; a case in two inputs is an error.
    const files = shardDirs.flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f)));
    const byFiles = await capture(() => mergeCommand.run(files));
    expect(byFiles.out).toBe(fs.readFileSync(merged, 'utf8'));
    fs.copyFileSync(files.find((f) => !path.basename(f).startsWith('_')) as string, path.join(dir, 'dup.json'));
    await expect(capture(() => mergeCommand.run([...shardDirs, path.join(dir, 'dup.json')]))).rejects.toThrow(/is in both/);
    await expect(capture(() => mergeCommand.run([path.join(dir, 'cases.csv')]))).rejects.toThrow(/no case results/);
  });

  it('runs from the command line: progress, summary, exit code 1 for a failed case', async () => {
    const out = path.join(dir, 'cli');
    const r = await capture(() => predictCommand.run(['--arch', 'mst-resnet18', '--weights', weights, '--manifest', manifest, '--out', out, '--no-explain', '--json']));
    expect(r.code).toBe(1);
    const s = JSON.parse(r.out) as CohortSummary;
    expect([s.done, s.skipped, s.failed.length]).toEqual([6, 0, 1]);
    expect(r.err).toMatch(/FAILED, skipped/);
    const text = await capture(() => predictCommand.run(['--arch', 'mst-resnet18', '--weights', weights, '--manifest', manifest, '--out', out, '--no-explain']));
    expect(text.out).toMatch(/done 0, skipped as already done 6, failed 1;/);
    expect(text.out).toMatch(/failed: broken: /);
  });

  it('names bad cohort flags', async () => {
    const base = ['--arch', 'mst-resnet18', '--weights', 'w.safetensors'];
    await expect(predictCommand.run([...base, '--manifest', 'm.csv'])).rejects.toThrow(/--manifest needs --out/);
    await expect(predictCommand.run([...base, '--input', 'v.npy', '--manifest', 'm.csv'])).rejects.toThrow(/not both/);
    await expect(predictCommand.run([...base, '--input', 'v.npy', '--shard', '0/2'])).rejects.toThrow(/--shard applies to a cohort/);
    await expect(predictCommand.run([...base, '--manifest', 'm.csv', '--out', 'o', '--shard', '2/2'])).rejects.toThrow(/--shard must be k\/n with 0 <= k < n/);
    await expect(predictCommand.run([...base, '--manifest', 'm.csv', '--out', 'o', '--workers', '0'])).rejects.toThrow(/--workers must be a positive integer, got '0'/);
    await expect(predictCommand.run([...base, '--manifest', 'm.csv', '--out', 'o', '--split', 'dev'])).rejects.toThrow(/--split must be train, val or test/);
    await expect(predictCommand.run([...base, '--manifest', 'm.csv', '--out', 'o', '--no-explain', '--saliency'])).rejects.toThrow(/drop --no-explain/);
  });

  it('writes the saliency volume with the input affine behind --saliency', async () => {
    const out = path.join(dir, 'sal');
    const one = path.join(dir, 'one.csv');
    fs.writeFileSync(one, 'id,path\nb,v1.nii.gz\n');
    const s = await runCohort({ manifest: one, outDir: out, spec: spec(), saliency: true });
    expect(s.done).toBe(1);
    const r = readRecords(out).get('b') as CaseRecord;
    expect(r.label).toBeUndefined();
    expect(r.saliency).toBe('b.saliency.nii.gz');
    expect(r.saliencyMethod).toBe('gradcam++');
    const { readVolume } = await import('../io/read_volume');
    const [sal, input] = await Promise.all([readVolume(path.join(out, 'b.saliency.nii.gz')), readVolume(path.join(dir, 'v1.nii.gz'))]);
    expect(sal.shape).toEqual(input.shape);
    expect(sal.affine).toEqual(input.affine);
    expect(Math.max(...sal.data)).toBeGreaterThan(0);
    r.probabilities.forEach((p, k) => expect(Math.abs(p - (direct.get('b') as number[])[k])).toBeLessThan(1e-5));
  });

  (FULL ? it : it.skip)('FULL: --workers 2 gives the results of one thread', async () => {
    // Worker threads run JavaScript: bundle the worker from these sources (tfjs stays external, so
    // the bundle lives under node_modules to resolve it).
    const bundleDir = path.join(__dirname, '..', '..', 'node_modules', '.cache', `mst-ts-cohort-${process.pid}`);
    const workerPath = path.join(bundleDir, 'cohort_worker.cjs');
    buildSync({ entryPoints: [path.join(__dirname, 'cohort_worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: workerPath, external: ['@tensorflow/*', 'onnxruntime-node'], logLevel: 'silent' });
    try {
      const one = await runCohort({ manifest, outDir: path.join(dir, 'w1'), spec: spec() });
      const two = await runCohort({ manifest, outDir: path.join(dir, 'w2'), spec: spec(), workers: 2, workerPath });
      expect(two.workers).toBe(2);
      expect([two.done, two.failed.length]).toEqual([one.done, one.failed.length]);
      expect(two.failed[0].error).toBe(one.failed[0].error);
      const a = readRecords(path.join(dir, 'w1'));
      const b = readRecords(path.join(dir, 'w2'));
      for (const id of ids) {
        expect((b.get(id) as CaseRecord).probabilities).toEqual((a.get(id) as CaseRecord).probabilities);
        expect((b.get(id) as CaseRecord).sliceAttention).toEqual((a.get(id) as CaseRecord).sliceAttention);
      }
    } finally {
      fs.rmSync(bundleDir, { recursive: true, force: true });
    }
  });
});
