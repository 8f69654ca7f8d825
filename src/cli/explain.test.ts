import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readNifti } from '../io/nifti';
import { saveSafetensors } from '../io/safetensors';
import { createModel } from '../models/registry';
import { disposeStateDict } from '../nn/module';
import { FULL, fixturePath } from '../../test/helpers';
import { cli, trainTinyBundle, writeChestScan } from '../../test/cli_fixtures';
import { peakVoxel, pointingGame } from '../explain/localisation';
import { derivedUid, dicomHeaderFields } from '../io/dicom_write';
import { readVolume } from '../io/read_volume';
import { saveModel } from '../models/save_model';
import { UsageError } from './command';
import { explainCommand } from './explain';

describe('mst-ts explain: flags', () => {
  it('refuses a method that does not fit the architecture before building it', async () => {
    const run = explainCommand.run(['--arch', 'mst-resnet18', '--weights', 'w', '--input', 'v.npy', '--out', 'o', '--method', 'rollout']);
    await expect(run).rejects.toThrow(UsageError);
    await expect(explainCommand.run(['--arch', 'mst-resnet18', '--weights', 'w', '--input', 'v.npy', '--out', 'o', '--method', 'rollout'])).rejects.toThrow(
      /--method rollout does not apply to mst-resnet18; expected one of gradcam\+\+, gradcam, hirescam, layercam, xgradcam, scorecam, eigencam, occlusion/,
    );
    await expect(explainCommand.run(['--arch', 'mst-dinov2-s', '--weights', 'w', '--input', 'v.npy', '--out', 'o', '--method', 'scorecam'])).rejects.toThrow(
      /--method scorecam does not apply to mst-dinov2-s; expected one of attention, rollout, transformer-attribution, gradient-attention, occlusion/,
    );
    await expect(explainCommand.run(['--arch', 'mst-dinov2-s', '--weights', 'w', '--input', 'v.npy', '--out', 'o', '--method', 'saliency'])).rejects.toThrow(
      /--method must be one of attention, rollout, transformer-attribution, gradient-attention, gradcam, gradcam\+\+, hirescam, layercam, xgradcam, scorecam, eigencam, occlusion, got 'saliency'/,
    );
  });

  it('names the missing flag and bad values', async () => {
    await expect(explainCommand.run(['--arch', 'mst-resnet18'])).rejects.toThrow(/--weights is required/);
    await expect(explainCommand.run(['--arch', 'x', '--weights', 'w', '--input', 'i', '--out', 'o'])).rejects.toThrow(/unknown --arch 'x'; expected one of mst-dinov2-s/);
    await expect(explainCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'i', '--out', 'o', '--alpha', '2'])).rejects.toThrow(/--alpha must be a number in \[0, 1\], got '2'/);
    await expect(explainCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'i', '--out', 'o', '--method', 'occlusion', '--window', '4,4'])).rejects.toThrow(
      /--window must be a positive integer or three of them as d,h,w, got '4,4'/,
    );
    await expect(explainCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'i', '--out', 'o', '--smooth', '0'])).rejects.toThrow(/--smooth must be an integer >= 1, got '0'/);
    await expect(explainCommand.run(['--arch', 'resnet3d-18', '--weights', 'w', '--input', 'i', '--out', 'o', '--phase', 'last'])).rejects.toThrow(/--phase must be a phase index \(0, 1, \.\.\.\), got 'last'/);
  });

  it('reads a DICOM folder of two phases only with --phase', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-explain-phase-'));
    try {
      const model = createModel('mst-dinov2-tiny', { seed: 1, imageSize: 16 });
      const weights = path.join(dir, 'model.safetensors');
      await saveModel(model, weights, { preprocessing: { orientation: 'canonical', steps: [{ op: 'crop-or-pad', size: [4, 16, 16] }, { op: 'z-normalize' }], channels: 1 } });
      model.dispose();
      const out = path.join(dir, 'out');
      const args = ['--weights', weights, '--input', fixturePath('dicom', 'dce'), '--out', out];
      await expect(explainCommand.run(args)).rejects.toThrow(/holds 2 phases that differ in TemporalPositionIdentifier/);
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        expect(await explainCommand.run([...args, '--phase', '1'])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      expect(fs.existsSync(path.join(out, 'saliency.nii.gz'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mst-ts explain --dicom-out', () => {
  it('writes the saliency as a DICOM series over a DICOM input (its grid, study and Frame of Reference), and refuses another input', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-explain-dicom-'));
    try {
      const model = createModel('mst-dinov2-tiny', { seed: 1, imageSize: 16 });
      const weights = path.join(dir, 'model.safetensors');
      await saveModel(model, weights, { preprocessing: { orientation: 'canonical', steps: [{ op: 'crop-or-pad', size: [4, 16, 16] }, { op: 'z-normalize' }], channels: 1 } });
      model.dispose();
      const before = tf.memory().numTensors;
      const input = fixturePath('volumes', 'dicom_ct2');
      const out = path.join(dir, 'out');
      let text = '';
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((text += String(c)), true));
      try {
        await explainCommand.run(['--weights', weights, '--input', input, '--irregular-spacing', 'keep', '--out', out, '--dicom-out', path.join(out, 'dicom'), '--dicom-uid-seed', 'case-1', '--json']);
      } finally {
        spy.mockRestore();
      }
      const summary = JSON.parse(text);
      expect(summary.files.filter((f: string) => f.endsWith('.dcm')).map((f: string) => path.basename(f))).toEqual(['IM00001.dcm', 'IM00002.dcm', 'IM00003.dcm', 'IM00004.dcm']);
      const nifti = await readNifti(path.join(out, 'saliency.nii.gz'), { canonical: false });
      const series = await readVolume(path.join(out, 'dicom'), { canonical: false, irregularSpacing: 'keep' });
      const scan = await readVolume(input, { canonical: false, irregularSpacing: 'keep' });
      expect(series.shape).toEqual(scan.shape);
      series.affine.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(scan.affine[r][c], 5)));
      const range = Math.max(...nifti.data) - Math.min(...nifti.data);
      expect(range).toBeGreaterThan(0);
      series.data.forEach((v, i) => expect(Math.abs(v - nifti.data[i])).toBeLessThanOrEqual(range / 65535 / 2 + 1e-7));
      const fields = dicomHeaderFields(fs.readFileSync(path.join(out, 'dicom', 'IM00001.dcm')));
      expect(fields.seriesInstanceUid).toBe(derivedUid('case-1', scan.meta.seriesInstanceUid as string, 'series'));
      expect(fields.patientName).toBe('');
      expect(tf.memory().numTensors).toBe(before);
      await expect(explainCommand.run(['--weights', weights, '--input', fixturePath('volumes', 'standard.nii.gz'), '--out', out, '--dicom-out', path.join(out, 'd2')])).rejects.toThrow(
        /--dicom-out writes a series into the study and Frame of Reference of a DICOM input; '.*standard\.nii\.gz' is nifti/,
      );
      await expect(explainCommand.run(['--weights', weights, '--input', input, '--out', out, '--dicom-uid-seed', 's'])).rejects.toThrow(/--dicom-uid-seed applies to --dicom-out/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mst-ts explain: a train bundle (its preprocessing crops)', () => {
  let dir: string;
  let weights: string;
  let scan: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-explain-bundle-'));
    weights = await trainTinyBundle(path.join(dir, 'run'));
    scan = path.join(dir, 'scan.nii');
    writeChestScan(scan);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checks --method against the loaded model: a usage error naming the flag, no library function', async () => {
    const r = await cli(['explain', '--weights', weights, '--input', scan, '--out', path.join(dir, 'o'), '--method', 'gradcam']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "mst-ts explain: --method gradcam does not apply to this model (mst-dinov2-tiny, an MST with an attention encoder (no convolutional feature maps)); expected one of attention, rollout, transformer-attribution, gradient-attention, occlusion\n",
    );
  });

  it('puts the pointing game in the metrics, on the scan\'s own grid, within --pointing-tolerance', async () => {
    const plain = await cli(['explain', '--weights', weights, '--input', scan, '--out', path.join(dir, 'plain'), '--json']);
    expect(plain.code).toBe(0);
    const saliency = await readNifti(path.join(dir, 'plain', 'saliency.nii.gz'), { canonical: false });
    expect(saliency.shape).toEqual([4, 32, 32]);
    const [d, h, w] = peakVoxel(saliency);
    // One lesion voxel 3 voxels from the map's peak (along the row), on the scan's grid.
    const lesion = [d, h, w < 16 ? w + 3 : w - 3];
    const mask = path.join(dir, 'mask.nii');
    writeChestScan(mask, (z, y, x) => (z === lesion[0] && y === lesion[1] && x === lesion[2] ? 1 : 0));
    const maskVolume = await readNifti(mask, { canonical: false });
    const pointing: boolean[] = [];
    for (const tolerance of ['2', '3']) {
      const out = path.join(dir, `metrics-${tolerance}`);
      const r = await cli(['explain', '--weights', weights, '--input', scan, '--out', out, '--mask', mask, '--metrics', '--metrics-steps', '4', '--pointing-tolerance', tolerance, '--json']);
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      // The network saw a 16x16 crop: the mask never reaches its grid, the pointing game is scored on the scan's.
      expect(summary.shapes).toEqual({ input: [4, 32, 32], prepared: [4, 16, 16], saliency: [4, 32, 32] });
      expect(summary.metrics.deletion.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(summary.metrics.pointingGame).toBe(pointingGame(saliency, maskVolume, Number(tolerance)));
      pointing.push(summary.metrics.pointingGame);
      expect(JSON.parse(fs.readFileSync(path.join(out, 'explanation.json'), 'utf8')).metrics.pointingGame).toBe(summary.metrics.pointingGame);
    }
    expect(pointing).toEqual([false, true]);
  });
});

// Building a registry model at random init takes about a minute on the shared machine: full runs only.
(FULL ? describe : describe.skip)('mst-ts explain: end to end', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-explain-'));
    const model = createModel('mst-resnet18', { seed: 3 });
    const sd = model.stateDict();
    await saveSafetensors(sd, path.join(dir, 'w.safetensors'));
    disposeStateDict(sd);
    model.dispose();
    // A [3, 32, 32] float32 .npy volume.
    const data = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i / 7));
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 32, 32), }";
    header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const bytes = Buffer.alloc(10 + header.length + data.byteLength);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(bytes);
    bytes.writeUInt16LE(header.length, 8);
    bytes.write(header, 10, 'latin1');
    Buffer.from(data.buffer).copy(bytes, 10 + header.length);
    fs.writeFileSync(path.join(dir, 'v.npy'), bytes);
    // A lesion mask: slice 1, rows 8..15, columns 8..15.
    const mask = new Float32Array(3 * 32 * 32);
    for (let y = 8; y < 16; y++) for (let x = 8; x < 16; x++) mask[1024 + y * 32 + x] = 1;
    const maskBytes = Buffer.from(bytes);
    Buffer.from(mask.buffer).copy(maskBytes, 10 + header.length);
    fs.writeFileSync(path.join(dir, 'm.npy'), maskBytes);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the montage, the bar chart, the saliency volume and a JSON summary', async () => {
    const out = path.join(dir, 'out');
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    const before = tf.memory().numTensors;
    try {
      const code = await explainCommand.run(['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.npy'), '--out', out, '--mask', path.join(dir, 'm.npy'), '--json', '--backend', 'wasm']);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(tf.memory().numTensors).toBe(before);
    const summary = JSON.parse(chunks.join(''));
    expect(summary.method).toBe('gradcam++');
    expect(summary.shapes).toEqual({ sliceAttention: [3], planeAttention: [3, 1, 1], saliency: [3, 1, 1], saliencyUpsampled: [3, 32, 32] });
    expect(summary.sliceAttention.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Object.keys(summary.localisation).sort()).toEqual(['dice', 'diceMean', 'iou', 'iouMean', 'lesionCorrect', 'peak', 'sliceCorrect', 'threshold', 'topSlices']);
    for (const f of ['montage.png', 'slice_attention.png', 'saliency.nii.gz', 'explanation.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    chunks.length = 0;
    const spy2 = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    try {
      const args = ['--arch', 'mst-resnet18', '--weights', path.join(dir, 'w.safetensors'), '--input', path.join(dir, 'v.npy'), '--out', path.join(dir, 'out2')];
      expect(await explainCommand.run([...args, '--mask', path.join(dir, 'm.npy'), '--method', 'layercam', '--metrics', '--metrics-steps', '4', '--json'])).toBe(0);
    } finally {
      spy2.mockRestore();
    }
    const m = JSON.parse(chunks.join('')).metrics;
    expect(m.deletion.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(m.roadMorf.fractions).toEqual([0, 0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(typeof m.pointingGame).toBe('boolean');
    const nii = await readNifti(path.join(out, 'saliency.nii.gz'), { canonical: false });
    expect(nii.shape).toEqual([3, 32, 32]);
    expect(nii.affine).toEqual([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
  });
});
