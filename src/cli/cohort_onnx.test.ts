/**
 * @jest-environment ./test/export/ort_environment.cjs
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { arrayVolume } from '../io/volume';
import { disposeExplanation, explainVolume } from '../explain/explain_volume';
import { sliceAttentionMap } from '../explain/mst_saliency';
import { toOnnxBytes } from '../onnx/onnx_export';
import { readVolume } from '../io/read_volume';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { resnet2d18 } from '../models/resnet2d';
import { runCohort } from './cohort';
import type { CaseRecord } from './cohort_case';
import { loadVolumePredictor } from './cohort_predictor';
import { predictCommand } from './predict';
import { encodeNpy } from '../io/npy';
import { describeIfInstalled } from '../../test/helpers';

// `--runtime onnx`: an exported graph through onnxruntime-node (optional: skipped without it) gives
// the tfjs model's predictions and explanations.
const describeOrt = describeIfInstalled('onnxruntime-node', 'predict --runtime onnx tests');


async function stdoutOf(run: () => Promise<number>): Promise<string> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => chunks.push(String(s)) > 0);
  try {
    expect(await run()).toBe(0);
    return chunks.join('');
  } finally {
    spy.mockRestore();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describeOrt('mst-ts predict --runtime onnx', () => {
  let dir: string;
  const shape: [number, number, number] = [3, 20, 20];
  const data = (i: number) => Float32Array.from({ length: 3 * 20 * 20 }, (_, j) => Math.cos(j / (6 + i)) + 0.2 * i);
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-predict-onnx-'));
    for (const i of [0, 1]) fs.writeFileSync(path.join(dir, `v${i}.npy`), encodeNpy(data(i), shape));
    fs.writeFileSync(path.join(dir, 'cases.csv'), 'id,path,label\nzero,v0.npy,0\none,v1.npy,1\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an MST-DINOv2 export: prediction, --explain and the cohort saliency volume equal the tfjs model (no --arch needed)', async () => {
    const encoder = new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, seed: 3 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 4 });
    model.eval();
    const file = path.join(dir, 'dino.onnx');
    fs.writeFileSync(file, await toOnnxBytes(model, { attention: true, imageSize: [20, 20] }));
    const x = tf.tensor3d(data(0), shape);
    const expected = await explainVolume(model, x, { upsample: true });

    const single = JSON.parse(await stdoutOf(() => predictCommand.run(['--runtime', 'onnx', '--weights', file, '--input', path.join(dir, 'v0.npy'), '--json', '--explain']))) as {
      arch: null;
      runtime: string;
      logits: number[];
      sliceAttention: number[];
      planeAttention: number[][][];
      saliencyShape: number[];
    };
    expect(single.arch).toBeNull();
    expect(single.runtime).toBe('onnx');
    expect(maxDiff(single.logits, expected.logits as number[])).toBeLessThan(1e-4);
    expect(maxDiff(single.sliceAttention, await (expected.sliceAttention as tf.Tensor).data())).toBeLessThan(1e-5);
    expect(maxDiff(single.planeAttention.flat(2), await (expected.planeAttention as tf.Tensor).data())).toBeLessThan(1e-5);
    expect(single.saliencyShape).toEqual(shape);

    const out = path.join(dir, 'dino');
    const s = await runCohort({ manifest: path.join(dir, 'cases.csv'), outDir: out, spec: { runtime: 'onnx', weights: file, threads: 1 }, saliency: true });
    expect([s.done, s.failed.length]).toEqual([2, 0]);
    const r = JSON.parse(fs.readFileSync(path.join(out, 'zero.json'), 'utf8')) as CaseRecord;
    expect(r.model).toEqual({ runtime: 'onnx', weights: 'dino.onnx' });
    expect(maxDiff(r.probabilities, expected.probabilities)).toBeLessThan(1e-5);
    expect(maxDiff(r.sliceAttention as number[], single.sliceAttention)).toBe(0);
    // The .npy input's assumed identity affine is not canonical: read the voxels as written.
    const sal = await readVolume(path.join(out, 'zero.saliency.nii.gz'), { canonical: false });
    expect(maxDiff(sal.data, await (expected.saliencyUpsampled as tf.Tensor).data())).toBeLessThan(1e-5);
    disposeExplanation(expected);
    x.dispose();
    model.dispose();
  });

  it('an MST-ResNet export: the model\'s numbers; no plane attention, so --saliency is a clear error', async () => {
    const encoder = resnet2d18({ blockInplanes: [4, 4, 8, 8], feedForward: false, seed: 6 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 7 });
    model.eval();
    const file = path.join(dir, 'resnet.onnx');
    fs.writeFileSync(file, await toOnnxBytes(model, { attention: true }));
    const out = model.forward(tf.tensor4d(data(1), [1, ...shape]), { attention: 'last' });
    const [logits, slice] = [await out.logits.data(), await tf.tidy(() => sliceAttentionMap(out.sliceAttention as tf.Tensor)).data()];
    tf.dispose([out.logits, out.sliceAttention as tf.Tensor]);
    model.dispose();

    const onnx = await loadVolumePredictor({ runtime: 'onnx', weights: file, threads: 1 });
    try {
      const volume = arrayVolume(data(1), shape);
      const got = await onnx.predict(volume, { sliceAttention: true });
      expect(maxDiff(got.logits, logits)).toBeLessThan(1e-4);
      expect(maxDiff(got.sliceAttention as number[], slice)).toBeLessThan(1e-5);
      expect(onnx.hasSliceAttention).toBe(true);
      await expect(onnx.predict(volume, { saliency: true })).rejects.toThrow(/--saliency with --runtime onnx needs the model's saliency output, but '.*resnet.onnx' has only: logits, slice_attention/);
    } finally {
      await onnx.dispose();
    }
    const s = await runCohort({ manifest: path.join(dir, 'cases.csv'), outDir: path.join(dir, 'resnet'), spec: { runtime: 'onnx', weights: file, threads: 1 }, saliency: true });
    expect(s.done).toBe(0);
    expect(s.failed.map((f) => f.error)).toEqual([expect.stringMatching(/cases.csv:2: case 'zero': --saliency with --runtime onnx needs/), expect.stringMatching(/case 'one'/)]);
  });
});
