/**
 * @jest-environment ./test/export/ort_environment.cjs
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOnnxModel, type OnnxVolumeModel } from '../../src/export/onnx_predict';
import { toOnnxBytes, type OnnxExportableModel, type OnnxExportOptions } from '../../src/export/to_onnx';
import { mstSaliency } from '../../src/explain/mst_saliency';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { resnet2d18 } from '../../src/models/resnet2d';
import { resnet3d18 } from '../../src/models/resnet3d';
import { disposeStateDict, type Module } from '../../src/nn/module';
import { stateDictFromSpec, stateDictFromSpecFile, type WeightSpec } from '../fixture_weights';
import { fixturePath } from '../helpers';

// Exported fixture models run in onnxruntime-node and must give the tfjs model's numbers.

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-onnx-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads an MST fixture spec's weights; returns its input `x`. */
function loadMstSpec(model: Module, name: string): tf.Tensor {
  const spec = JSON.parse(fs.readFileSync(fixturePath('mst', name), 'utf8')) as WeightSpec & { inputs: WeightSpec };
  const sd = stateDictFromSpec(spec);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  const inputs = stateDictFromSpec(spec.inputs);
  return inputs.x;
}

async function exportAndLoad(model: OnnxExportableModel, name: string, options: OnnxExportOptions = {}): Promise<OnnxVolumeModel> {
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, await toOnnxBytes(model, options));
  return loadOnnxModel(file, { threads: 1 });
}

async function volumeOf(x: tf.Tensor, b: number): Promise<{ data: Float32Array; shape: [number, number, number] }> {
  const [, d, h, w] = x.shape;
  const one = tf.slice(x, [b, 0, 0, 0], [1, d, h, w]);
  const data = (await one.data()) as Float32Array;
  one.dispose();
  return { data, shape: [d, h, w] };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function rowOf(t: tf.Tensor, b: number): Promise<Float32Array> {
  const one = tf.slice(t, [b], [1]);
  const data = (await one.data()) as Float32Array;
  one.dispose();
  return data;
}

describe('toOnnxBytes + onnxruntime-node equal the tfjs model', () => {
  it('MST with a tiny DINOv2 (pos-embed resized to 3x4 patches): logits and every attention output to 1e-4', async () => {
    const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 24, depth: 2, numHeads: 4, imgSize: 70 }), numClasses: 2 }).eval();
    const x = loadMstSpec(model, 'mst_dinov2_tiny.json'); // [2, 3, 42, 56]
    // The first pass caches the positional embedding resized to this grid.
    tf.dispose(model.forward(x).logits);
    const before = tf.memory().numTensors;
    const onnx = await exportAndLoad(model, 'mst_dino_tiny', { attention: true, imageSize: [42, 56] });
    const out = model.forward(x, { attention: true });
    for (let b = 0; b < 2; b++) {
      const pred = await onnx.predict(await volumeOf(x, b));
      expect(maxDiff(pred.logits, await rowOf(out.logits, b))).toBeLessThan(1e-4);
      const sliceFull = tf.slice(out.sliceAttention as tf.Tensor, [b, 0, 0, 0], [1, 12, 4, 4]);
      const sliceRows = tf.tidy(() => tf.slice(sliceFull, [0, 0, 0, 1], [1, 12, 1, 3]));
      const e = pred.extra;
      expect(e.slice_attention_heads.dims).toEqual([1, 12, 3]);
      expect(maxDiff(e.slice_attention_heads.data, await sliceRows.data())).toBeLessThan(1e-4);
      const plane = tf.slice(out.planeAttention as tf.Tensor, [b, 0, 0, 0], [1, 3, 4, 12]);
      expect(e.plane_attention_heads.dims).toEqual([1, 3, 4, 12]);
      expect(maxDiff(e.plane_attention_heads.data, await plane.data())).toBeLessThan(1e-4);
      const s = mstSaliency({ sliceAttention: sliceFull, planeAttention: plane, gridSize: [3, 4] });
      expect(e.slice_attention.dims).toEqual([1, 3]);
      expect(maxDiff(e.slice_attention.data, await s.sliceAttention.data())).toBeLessThan(1e-4);
      expect(e.plane_attention.dims).toEqual([1, 3, 3, 4]);
      expect(maxDiff(e.plane_attention.data, await s.planeAttention.data())).toBeLessThan(1e-4);
      expect(maxDiff(e.saliency.data, await s.saliency.data())).toBeLessThan(1e-4);
      tf.dispose([sliceFull, sliceRows, plane, s.sliceAttention, s.planeAttention, s.saliency]);
    }
    tf.dispose([out.logits, out.sliceAttention as tf.Tensor, out.planeAttention as tf.Tensor, ...(out.encoderAttentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    await onnx.dispose();
    x.dispose();
    model.dispose();
  });
});
