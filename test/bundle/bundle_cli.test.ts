/**
 * @jest-environment ./test/export/ort_environment.cjs
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadClassifier } from '../../src/classifier/classifier';
import type { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { convertCommand } from '../../src/cli/convert';
import { explainCommand } from '../../src/cli/explain';
import { mergeCommand } from '../../src/cli/merge';
import { predictCommand } from '../../src/cli/predict';
import { statsCommand } from '../../src/cli/stats';
import { trainCommand } from '../../src/cli/train';
import { preprocessingTransform } from '../../src/data/preprocessing';
import { makeSyntheticCase } from '../../src/data/synthetic/task';
import { writeNifti, readNifti } from '../../src/io/nifti';
import { permuteFlip, type Affine, type Volume } from '../../src/io/volume';
import { Rng } from '../../src/utils/rng';
import { describeIfInstalled } from '../helpers';

/** Runs a command in-process, capturing stdout. */
async function run(command: { run(argv: string[]): Promise<number> }, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await command.run(args), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** A synthetic chest case as a scan in the canonical layout (axial: slices S, rows P, columns L). */
function chestScan(index: number, size: [number, number, number]): Volume {
  const c = makeSyntheticCase('chest', { seed: 7, index, size });
  const [sd, sh, sw] = c.spacing;
  const affine: Affine = [
    [0, 0, -sw, 40],
    [0, -sh, 0, 30],
    [sd, 0, 0, -20],
    [0, 0, 0, 1],
  ];
  return { data: c.volume, shape: c.shape, spacing: c.spacing, affine, orientation: 'SPL', dtype: 'float32', source: c.id, meta: {} };
}

describe('a bundle from mst-ts train is used as is by predict, explain, cohort prediction, merge and stats', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-bundle-'));
  const bundle = path.join(dir, 'run', 'model.safetensors');

  beforeAll(async () => {
    const train = ['--task', 'synthetic-chest', '--arch', 'mst-dinov2-tiny-conv', '--epochs', '1', '--size', '8x32x32', '--crop', '8x16x16'];
    const sizes = ['--n-train', '8', '--n-val', '6', '--n-test', '4', '--batch-size', '4', '--replicates', '20'];
    const { code } = await run(trainCommand, [...train, ...sizes, '--out', path.join(dir, 'run'), '--json']);
    expect(code).toBe(0);
  });

  it('predicts a NIfTI of another size, spacing and orientation as the in-memory model on its preprocessed volume', async () => {
    // Another sampling of the field of view (12x40x40 instead of 8x32x32), stored in another voxel
    // order: slices inferior first, rows and columns swapped and flipped (the slice axis stays the
    // file's stacking axis, as in any axial series).
    const canonical = chestScan(3, [12, 40, 40]);
    const stored = permuteFlip(canonical, [0, 2, 1], [true, true, false]);
    const scan = path.join(dir, 'scan.nii.gz');
    await writeNifti(scan, stored);
    const { code, out } = await run(predictCommand, ['--weights', bundle, '--input', scan, '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({ arch: 'mst-dinov2-tiny-conv', classNames: ['benign', 'malignant'] });

    const clf = await loadClassifier(bundle);
    const before = tf.memory().numTensors;
    // The reorientation is undone exactly: the network sees the bundle's preprocessing of the canonical scan.
    const { volume } = await clf.prepare(scan);
    const sample = { id: 'scan', data: canonical.data, shape: canonical.shape, spacing: canonical.spacing, label: 0 };
    const expected = preprocessingTransform(clf.preprocessing!).apply(sample, new Rng(0));
    expect(volume.shape).toEqual([8, 16, 16]);
    expect(expected.shape).toEqual([8, 16, 16]);
    const got = await volume.data();
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - expected.data[i])))).toBeLessThan(1e-5);
    const direct = await (clf.model as MedicalSliceTransformer).predict(volume);
    volume.dispose();
    expect(tf.memory().numTensors).toBe(before);
    json.probabilities.forEach((p: number, i: number) => expect(Math.abs(p - direct.probabilities[i])).toBeLessThan(1e-6));
    // The same scan given in memory (a Volume) gives the same prediction.
    const twin = await clf.predict(stored);
    expect(Math.abs(twin.probabilities[1] - json.probabilities[1])).toBeLessThan(1e-6);
    clf.dispose();
  });

  it('explain writes a saliency NIfTI with the input file’s own shape and affine, without --arch', async () => {
    const stored = permuteFlip(chestScan(5, [10, 36, 36]), [0, 2, 1], [false, true, false]);
    const scan = path.join(dir, 'scan5.nii.gz');
    await writeNifti(scan, stored);
    const out = path.join(dir, 'explain');
    const r = await run(explainCommand, ['--weights', bundle, '--input', scan, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ arch: 'mst-dinov2-tiny-conv', method: 'attention', shapes: { input: stored.shape, prepared: [8, 16, 16], saliency: stored.shape } });
    const sal = await readNifti(path.join(out, 'saliency.nii.gz'), { canonical: false });
    const raw = await readNifti(scan, { canonical: false });
    expect(sal.shape).toEqual(raw.shape);
    sal.affine.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(raw.affine[i][j], 4)));
    // The map lives inside the field of view the network saw: zeros outside the crop, some signal inside.
    const max = sal.data.reduce((m, v) => Math.max(m, v), 0);
    expect(max).toBeGreaterThan(0);
    expect(sal.data.filter((v) => v === 0).length).toBeGreaterThan(0);
  });

  it('cohort prediction on two shards, merge and stats, all through the CLI', async () => {
    const cases = path.join(dir, 'cohort');
    fs.mkdirSync(cases, { recursive: true });
    const rows = ['id,path,label'];
    for (let i = 0; i < 6; i++) {
      await writeNifti(path.join(cases, `case${i}.nii.gz`), chestScan(10 + i, [8, 32, 32]));
      rows.push(`case${i},case${i}.nii.gz,${i % 2}`);
    }
    fs.writeFileSync(path.join(cases, 'cases.csv'), `${rows.join('\n')}\n`);
    for (const k of [0, 1]) {
      const r = await run(predictCommand, ['--weights', bundle, '--manifest', path.join(cases, 'cases.csv'), '--out', path.join(dir, 'results', `shard-${k}`), '--shard', `${k}/2`, '--json']);
      expect(r.code).toBe(0);
    }
    const merged = path.join(dir, 'merged.csv');
    expect((await run(mergeCommand, [path.join(dir, 'results', 'shard-0'), path.join(dir, 'results', 'shard-1'), '--out', merged])).code).toBe(0);
    const lines = fs.readFileSync(merged, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(7);
    const stats = await run(statsCommand, ['--csv', merged, '--json']);
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.out);
    expect(s.n).toBe(6);
    expect(s.auc).toBeGreaterThanOrEqual(0);
    expect(s.auc).toBeLessThanOrEqual(1);
  });

  describeIfInstalled('onnxruntime-node', 'convert to ONNX')('convert', () => {
    it('takes the bundle to ONNX with its preprocessing beside it; predict --runtime onnx gives the tfjs numbers on a raw scan', async () => {
      const onnx = path.join(dir, 'model.onnx');
      const c = await run(convertCommand, [bundle, onnx, '--attention', '--json']);
      expect(c.code).toBe(0);
      expect(JSON.parse(c.out)).toMatchObject({ out: onnx, json: path.join(dir, 'model.json') });
      const scan = path.join(dir, 'scan.nii.gz');
      const tfjs = JSON.parse((await run(predictCommand, ['--weights', bundle, '--input', scan, '--json'])).out);
      const ort = JSON.parse((await run(predictCommand, ['--runtime', 'onnx', '--weights', onnx, '--input', scan, '--json'])).out);
      expect(ort).toMatchObject({ arch: 'mst-dinov2-tiny-conv', runtime: 'onnx', classNames: ['benign', 'malignant'] });
      ort.probabilities.forEach((p: number, i: number) => expect(Math.abs(p - tfjs.probabilities[i])).toBeLessThan(1e-4));
    });
  });
});
