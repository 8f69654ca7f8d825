import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { encodeNifti } from '../io/nifti';
import { saveSafetensors } from '../io/safetensors';
import { createModel } from '../models/registry';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { DinoVisionTransformer } from '../models/dinov2';
import { saveModel } from '../models/save_model';
import { disposeStateDict } from '../nn/module';
import { FULL, fixturePath } from '../../test/helpers';
import { UsageError } from './command';
import { predictCommand } from './predict';
import { encodeNpy } from '../io/npy';


async function captureStdout(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(String(s));
    return true;
  });
  try {
    const code = await run();
    return { code, text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('mst-ts predict: flags', () => {
  it('names the missing flag and bad values', async () => {
    await expect(predictCommand.run(['--arch', 'mst-dinov2-s'])).rejects.toThrow(/--weights is required/);
    await expect(predictCommand.run(['--arch', 'nope', '--weights', 'w', '--input', 'v.npy'])).rejects.toThrow(/unknown --arch 'nope'; expected one of mst-dinov2-s, /);
    await expect(predictCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'v.npy', '--num-classes', '0'])).rejects.toThrow(
      /--num-classes must be a positive integer, got '0'/,
    );
    await expect(predictCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'v.npy', '--explain'])).rejects.toThrow(/--explain needs --json/);
    await expect(predictCommand.run(['--bogus'])).rejects.toThrow(UsageError);
    await expect(predictCommand.run(['--arch', 'resnet3d-18', '--weights', 'w.safetensors'])).rejects.toThrow(/--input is required \(or --manifest for a cohort\)/);
    await expect(predictCommand.run(['--runtime', 'torch', '--weights', 'w', '--input', 'v.npy'])).rejects.toThrow(/--runtime must be tfjs or onnx, got 'torch'/);
    await expect(predictCommand.run(['--runtime', 'onnx', '--weights', 'w.safetensors', '--input', 'v.npy'])).rejects.toThrow(/--runtime onnx needs --weights <model.onnx>/);
    await expect(predictCommand.run(['--arch', 'resnet3d-18', '--weights', 'm.onnx', '--input', 'v.npy'])).rejects.toThrow(/is an ONNX model; add --runtime onnx/);
  });

  it('documents every flag and the JSON it prints', () => {
    for (const flag of ['--arch', '--weights', '--runtime', '--input', '--series', '--phase', '--irregular-spacing', '--gantry-tilt', '--num-classes', '--backend', '--json', '--explain', '--manifest', '--out', '--shard', '--workers', '--split', '--no-explain', '--saliency', 'mst-resnet18', 'resnet3d-101']) {
      expect(predictCommand.usage).toContain(flag);
    }
  });
});

describe('mst-ts predict: end to end', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-predict-'));
    fs.writeFileSync(path.join(dir, 'v.npy'), encodeNpy(Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7)), [3, 32, 32]));
    // An axial affine already in mst-ts's canonical orientation ('SPL'): read back voxel for voxel.
    const axial = [[0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]];
    fs.writeFileSync(path.join(dir, 'v.nii.gz'), encodeNifti({ data: Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7)), shape: [3, 32, 32], affine: axial }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints {"arch", "logits", "probabilities"} equal to the model run directly', async () => {
    const model = createModel('mst-resnet18', { seed: 5 }) as MedicalSliceTransformer;
    const sd = model.stateDict();
    await saveSafetensors(sd, path.join(dir, 'w.safetensors'));
    disposeStateDict(sd);
    const volume = tf.tensor3d(Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7)), [3, 32, 32]);
    const direct = await model.predict(volume);
    volume.dispose();
    model.dispose();

    const { code, text } = await captureStdout(() =>
      predictCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.npy'), '--json']),
    );
    expect(code).toBe(0);
    expect(text.endsWith('\n')).toBe(true);
    const json = JSON.parse(text) as { arch: string; logits: number[]; probabilities: number[] };
    expect(Object.keys(json).slice(0, 3)).toEqual(['arch', 'logits', 'probabilities']);
    expect(json.arch).toBe('mst-resnet18');
    json.logits.forEach((l, i) => expect(l).toBeCloseTo(direct.logits[i], 5));
    expect(json.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);

    // Any volume readVolume reads: the same voxels as NIfTI give the same prediction.
    const { code: niiCode, text: niiText } = await captureStdout(() =>
      predictCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.nii.gz'), '--json']),
    );
    expect(niiCode).toBe(0);
    expect((JSON.parse(niiText) as { logits: number[] }).logits).toEqual(json.logits);
    await expect(
      predictCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'missing.nii.gz'), '--json']),
    ).rejects.toThrow(/cannot read '.*missing.nii.gz': no such file/);
    await expect(
      predictCommand.run(['--arch', 'mst-resnet18', '--num-classes', '3', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.npy')]),
    ).rejects.toThrow(/w\.safetensors does not fit --arch mst-resnet18: 2 mis-shaped \(linear\.weight: expected \[3,512\], got \[2,512\], \.\.\.\); `mst-ts inspect --check .*w\.safetensors` tells what it holds$/);
  });

  it('gives a compressed DICOM series the prediction of its uncompressed twin, and refuses to merge phases', async () => {
    const model = createModel('mst-resnet18', { seed: 7 }) as MedicalSliceTransformer;
    const sd = model.stateDict();
    await saveSafetensors(sd, path.join(dir, 'ct.safetensors'));
    disposeStateDict(sd);
    model.dispose();
    const predict = async (folder: string, ...extra: string[]): Promise<number[]> => {
      const { text } = await captureStdout(() => predictCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'ct.safetensors'), '--input', fixturePath('dicom', folder), '--json', ...extra]));
      return (JSON.parse(text) as { logits: number[] }).logits;
    };
    const plain = await predict('ct');
    expect(plain).toHaveLength(2);
    expect(await predict('ct_jpegls')).toEqual(plain);
    expect(await predict('ct_j2k')).toEqual(plain);
    await expect(predict('dce')).rejects.toThrow(/holds 2 phases that differ in TemporalPositionIdentifier/);
    expect(await predict('dce', '--phase', '1')).toHaveLength(2);
  });

  it('without --arch, builds the model from the config saveModel wrote beside the weights', async () => {
    const encoder = new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, patchSize: 8, imgSize: 32, inChannels: 1, seed: 3 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 4 });
    await saveModel(model, path.join(dir, 'small.safetensors'));
    const volume = tf.tensor3d(Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7)), [3, 32, 32]);
    const direct = await model.predict(volume);
    volume.dispose();
    model.dispose();
    const before = tf.memory().numTensors;
    const { code, text } = await captureStdout(() => predictCommand.run(['--weights', path.join(dir, 'small.safetensors'), '--input', path.join(dir, 'v.npy'), '--json']));
    expect(code).toBe(0);
    const json = JSON.parse(text) as { logits: number[] };
    json.logits.forEach((l, i) => expect(l).toBeCloseTo(direct.logits[i], 5));
    expect(tf.memory().numTensors).toBe(before);
    // A file that holds no volume classifier: the error says to name the architecture.
    const vit = new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, patchSize: 8, imgSize: 32, inChannels: 1 });
    await saveModel(vit, path.join(dir, 'vit.safetensors'));
    vit.dispose();
    await expect(predictCommand.run(['--weights', path.join(dir, 'vit.safetensors'), '--input', path.join(dir, 'v.npy')])).rejects.toThrow(
      /holds a DinoVisionTransformer, not a volume classifier .*--arch/,
    );
  });

  (fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js')) ? it : it.skip)('the built CLI: --workers 2 shares the slices with worker threads and prints what --workers 1 does', async () => {
    const encoder = new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, patchSize: 8, imgSize: 32, inChannels: 1, seed: 3 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 4 });
    await saveModel(model, path.join(dir, 'pooled.safetensors'));
    model.dispose();
    const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
    const runCli = async (workers: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, [cli, 'predict', '--weights', path.join(dir, 'pooled.safetensors'), '--input', path.join(dir, 'v.npy'), '--json', '--workers', workers], { timeout: 120_000 });
      return JSON.parse(stdout) as { logits: number[] };
    };
    const [one, two] = await Promise.all([runCli('1'), runCli('2')]);
    two.logits.forEach((l, i) => expect(l).toBeCloseTo(one.logits[i], 4));
    await expect(predictCommand.run(['--weights', path.join(dir, 'pooled.safetensors'), '--input', path.join(dir, 'v.npy'), '--workers', '0'])).rejects.toThrow(/--workers must be a positive integer, got '0'/);
    // From the TypeScript sources no worker script exists: an explicit count says so.
    await expect(predictCommand.run(['--weights', path.join(dir, 'pooled.safetensors'), '--input', path.join(dir, 'v.npy'), '--workers', '2'])).rejects.toThrow(/slice-encoder pool of 2 workers did not start/);
  }, 300_000);

  (FULL ? it : it.skip)('FULL: --explain adds the slice attention and per-slice maps', async () => {
    const { text } = await captureStdout(() =>
      predictCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.npy'), '--json', '--explain']),
    );
    const json = JSON.parse(text) as { sliceAttention: number[]; saliencyShape: number[]; explainMethod: string };
    expect(json.sliceAttention).toHaveLength(3);
    expect(json.saliencyShape).toEqual([3, 32, 32]);
    expect(json.explainMethod).toBe('gradcam++');
  });

  it('--arch with a torch .pth reads the file by its content, and prints the architecture without --arch', async () => {
    const file = path.join(__dirname, '..', '..', 'test', 'fixtures', 'checkpoints', 'mst_dinov2_tiny_registry.pth');
    // The same weights as the PyTorch file, from the registry with the seed they were drawn from.
    const model = createModel('mst-dinov2-tiny', { seed: 3 }) as MedicalSliceTransformer;
    const volume = tf.tensor3d(Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7)), [3, 32, 32]);
    const direct = await model.predict(volume);
    volume.dispose();
    model.dispose();
    const { code, text } = await captureStdout(() => predictCommand.run(['--arch', 'mst-dinov2-tiny', '--weights', file, '--input', path.join(dir, 'v.npy'), '--json']));
    expect(code).toBe(0);
    const json = JSON.parse(text);
    expect(json.arch).toBe('mst-dinov2-tiny');
    json.logits.forEach((l: number, i: number) => expect(l).toBeCloseTo(direct.logits[i], 5));
    // saveModel into a folder that does not exist yet: created, and no error names a temporary file.
    const nested = path.join(dir, 'new', 'folder', 'm.safetensors');
    const m = createModel('mst-dinov2-tiny', { seed: 3 });
    await saveModel(m, nested);
    m.dispose();
    const again = await captureStdout(() => predictCommand.run(['--weights', nested, '--input', path.join(dir, 'v.npy'), '--json']));
    expect(JSON.parse(again.text)).toMatchObject({ arch: 'mst-dinov2-tiny' });
    expect(fs.readdirSync(path.dirname(nested)).sort()).toEqual(['m.json', 'm.safetensors']);
  });
});
