import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { createModel, MODEL_REGISTRY } from '../models/registry';
import { withoutInit } from '../nn/init';
import { auc } from '../stats/auc';
import { disposeStateDict } from '../nn/module';
import { buildModel } from '../models/model_config';
import { UsageError } from './command';
import { parseTrainArgs, trainCommand } from './train';
import { makeSyntheticCase } from '../data/synthetic/task';
import { writeNifti } from '../io/nifti';
import { cli, runCommand } from '../../test/cli_fixtures';

// --workers runs worker threads from the built package (npm run build), so it is tested there.
const built = fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js')) && fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'parallel', 'encoder_worker.js'));

const run = (args: string[]): ReturnType<typeof runCommand> => runCommand(trainCommand, args);

describe('mst-ts train', () => {
  it('trains, tests and writes its outputs on a tiny synthetic run', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-train-cli-'));
    const before = tf.memory().numTensors;
    const args = ['--task', 'synthetic-chest', '--epochs', '2', '--size', '4x32x32', '--crop', '4x16x16', '--n-train', '8', '--n-val', '6', '--n-test', '6', '--lr', '1e-3', '--lr-schedule', 'cosine', '--warmup', '1'];
    const { code, out, err } = await run([...args, '--batch-size', '4', '--replicates', '50', '--out', dir, '--json']);
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ task: 'chest', arch: 'mst-dinov2-tiny', epochsRun: 2, size: [4, 32, 32], crop: [4, 16, 16], test: { n: 6, positives: 3 } });
    // The reported AUC is the AUC of the written test predictions, inside its DeLong interval.
    const rows = fs.readFileSync(path.join(dir, 'test_predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(summary.test.auc).toBe(auc(rows.map((r) => Number(r[1])), rows.map((r) => Number(r[2]))));
    expect(summary.test.delong.ci[0]).toBeLessThanOrEqual(summary.test.auc);
    expect(summary.test.delong.ci[1]).toBeGreaterThanOrEqual(summary.test.auc);
    expect(err).toContain('epoch 2/2');
    expect(fs.readdirSync(dir).sort()).toEqual(['best.safetensors', 'last.safetensors', 'log.jsonl', 'model.json', 'model.safetensors', 'summary.json', 'test_predictions.csv']);
    expect(summary.model).toBe(path.join(dir, 'model.safetensors'));
    const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(bundle).toMatchObject({ format: 'mst-ts-model', formatVersion: 2, arch: 'mst-dinov2-tiny', classNames: ['benign', 'malignant'] });
    expect(bundle.preprocessing.steps.map((st: { op: string }) => st.op)).toEqual(['resample', 'crop-or-pad', 'clip-rescale', 'crop-or-pad', 'z-normalize']);
    expect(fs.readFileSync(path.join(dir, 'test_predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    // One warm-up epoch below the peak (half of it), then the cosine's floor (1%) at the last epoch.
    const lrs = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).lr);
    expect(lrs[0]).toBeCloseTo(5e-4, 12);
    expect(lrs[1]).toBeCloseTo(1e-5, 12);
    // A resumed run that is already finished only re-tests, with the same numbers.
    const again = await run([...args, '--batch-size', '4', '--replicates', '50', '--out', dir, '--json', '--resume']);
    expect(JSON.parse(again.out).test.auc).toBe(summary.test.auc);
  });

  (built ? it : it.skip)('--workers 2 trains step for step like one thread (the built CLI)', () => {
    const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
    const args = ['train', '--task', 'synthetic-chest', '--epochs', '2', '--size', '4x32x32', '--crop', '4x16x16', '--n-train', '8', '--n-val', '6', '--n-test', '6', '--batch-size', '4', '--replicates', '50', '--json'];
    const results: { auc: number; losses: number[] }[] = [];
    for (const extra of [[], ['--workers', '2', '--checkpoint-chunk', '2']]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-train-workers-'));
      const r = spawnSync(process.execPath, [cli, ...args, '--out', dir, ...extra], { encoding: 'utf8' });
      expect(r.stderr).toContain(extra.length ? 'data-parallel gradients on 2 worker threads' : 'epoch 2/2');
      expect(r.status).toBe(0);
      const losses = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).trainLoss as number);
      results.push({ auc: JSON.parse(r.stdout).test.auc, losses });
    }
    results[1].losses.forEach((l, i) => expect(Math.abs(l - results[0].losses[i])).toBeLessThan(1e-4));
    expect(Math.abs(results[1].auc - results[0].auc)).toBeLessThan(0.05);
  });

  it('rebuilds every MST architecture from its config as the workers do', () => {
    const keys = (m: { stateDict(): Record<string, tf.Tensor> }): string[] => {
      const dict = m.stateDict();
      const out = Object.entries(dict).map(([k, t]) => `${k} [${t.shape.join(',')}]`).sort();
      disposeStateDict(dict);
      return out;
    };
    const archs = [...MODEL_REGISTRY.keys()].filter((a) => a.startsWith('mst-'));
    for (const arch of archs) {
      const [ours, theirs] = withoutInit(() => {
        const m = createModel(arch, { imageSize: 32 }) as MedicalSliceTransformer;
        return [m, buildModel(m.modelConfig())];
      });
      expect(keys(theirs)).toEqual(keys(ours));
      ours.dispose();
      theirs.dispose();
    }
  });

  it('trains on real scans listed in a manifest (the format predict reads), with the preprocessing in the bundle', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-train-manifest-'));
    const rows = ['id,path,label,split'];
    for (let i = 0; i < 12; i++) {
      const c = makeSyntheticCase('chest', { seed: 3, index: i, size: [6, 24, 24] });
      const [sd, sh, sw] = c.spacing;
      const affine = [[0, 0, -sw, 0], [0, -sh, 0, 0], [sd, 0, 0, 0], [0, 0, 0, 1]];
      await writeNifti(path.join(dir, `c${i}.nii.gz`), { data: c.volume, shape: c.shape, affine });
      rows.push(`c${i},c${i}.nii.gz,${c.label},${i < 6 ? 'train' : i < 10 ? 'val' : 'test'}`);
    }
    fs.writeFileSync(path.join(dir, 'cases.csv'), `${rows.join('\n')}\n`);
    const out = path.join(dir, 'run');
    const args = ['--manifest', path.join(dir, 'cases.csv'), '--crop', '6x16x16', '--window=-1000,1000', '--spacing', '4x3x3', '--arch', 'mst-dinov2-tiny-p4', '--epochs', '1'];
    const { code, out: text } = await run([...args, '--batch-size', '3', '--replicates', '20', '--class-names', 'benign,malignant', '--out', out, '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(text);
    expect(summary).toMatchObject({ task: path.join(dir, 'cases.csv'), size: [6, 16, 16], test: { n: 2 } });
    const bundle = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(bundle.classNames).toEqual(['benign', 'malignant']);
    expect(bundle.preprocessing.steps).toEqual([
      { op: 'resample', spacing: [4, 3, 3] },
      { op: 'clip-rescale', low: -1000, high: 1000, outLow: -1, outHigh: 1 },
      { op: 'crop-or-pad', size: [6, 16, 16] },
      { op: 'z-normalize', percentiles: [0.5, 99.5], eps: 1e-6 },
    ]);
    expect(() => parseTrainArgs(['--manifest', 'x.csv'])).not.toThrow();
    await expect(trainCommand.run(['--manifest', path.join(dir, 'cases.csv')])).rejects.toThrow(/--manifest needs --crop DxHxW/);
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--manifest', 'x.csv'])).toThrow('give --task or --manifest, not both');
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--window=-1,1'])).toThrow('--window applies to --manifest');
  });

  it('parses flags with per-architecture defaults', () => {
    const c = parseTrainArgs(['--task', 'synthetic-chest']);
    expect(c).toMatchObject({ arch: 'mst-dinov2-tiny', size: [16, 64, 64], crop: [16, 32, 32], zNormalize: true, batchSize: 8, patience: 50, outDir: 'runs/synthetic-chest-mst-dinov2-tiny-0' });
    expect(c.lr).toBeUndefined();
    const r = parseTrainArgs(['--task', 'synthetic-chest', '--arch', 'resnet3d-18', '--lr', '1e-4', '--z-normalize', 'on']);
    expect(r).toMatchObject({ size: [32, 224, 224], crop: undefined, zNormalize: true, lr: 1e-4 });
    expect(c.lrSchedule).toBeUndefined();
    expect(parseTrainArgs(['--task', 'synthetic-chest', '--lr-schedule', 'cosine', '--warmup', '2']).lrSchedule).toEqual({ decay: 'cosine', warmupEpochs: 2 });
  });

  it('names bad flags', () => {
    expect(() => parseTrainArgs([])).toThrow(UsageError);
    expect(() => parseTrainArgs(['--task', 'mnist'])).toThrow("unknown --task 'mnist'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--arch', 'vgg'])).toThrow("unknown --arch 'vgg'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--size', '16x32'])).toThrow("--size must look like 16x32x32 (D x H x W), got '16x32'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--lr=-1'])).toThrow("--lr must be a positive number, got '-1'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--epochs', '0'])).toThrow("--epochs must be an integer >= 1, got '0'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--lr-schedule', 'step'])).toThrow("--lr-schedule must be constant or cosine, got 'step'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--workers', '0'])).toThrow("--workers must be an integer >= 1, got '0'");
    expect(() => parseTrainArgs(['--task', 'synthetic-chest', '--backend', 'wsam'])).toThrow(
      new UsageError("train: unknown --backend 'wsam'; did you mean 'wasm'?; expected one of wasm, cpu, webgpu, tensorflow"),
    );
  });

  it('a crop the ViT cannot cut into patches is a usage error naming the minimum; --out naming a file says so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-train-crop-'));
    const small = ['train', '--task', 'synthetic-chest', '--size', '4x32x32', '--epochs', '1', '--n-train', '2', '--n-val', '2', '--n-test', '2'];
    for (const crop of ['4x4x4', '4x12x16']) {
      const r = await cli([...small, '--crop', crop, '--out', path.join(dir, crop)]);
      expect(r.stderr).toBe(`mst-ts train: --crop ${crop} does not fit mst-dinov2-tiny: its slices must be at least 8x8 voxels, height and width multiples of 8\n`);
      expect(r.code).toBe(2);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    const file = path.join(dir, 'run.txt');
    fs.writeFileSync(file, 'x');
    const r = await cli([...small, '--crop', '4x16x16', '--out', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mst-ts train: --out ${file} is a file; expected a folder\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
