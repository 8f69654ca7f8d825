/**
 * @jest-environment ./test/export/ort_environment.cjs
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOnnxModel, type OnnxVolumeModel } from '../../src/export/onnx_predict';
import { toOnnxBytes, type OnnxExportableModel, type OnnxExportOptions } from '../../src/onnx/onnx_export';
import { mstSaliency, type MstAttention } from '../../src/explain/mst_saliency';
import { BatchNorm } from '../../src/layers/batch_norm';
import { DinoVisionTransformer, dinov2_vits14, type DinoVisionTransformerOptions } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { resnet2d18 } from '../../src/models/resnet2d';
import { ResNet3D, resnet3d18 } from '../../src/models/resnet3d';
import { disposeStateDict, type Module } from '../../src/nn/module';
import { stateDictFromSpec, stateDictFromSpecFile, type WeightSpec } from '../fixture_weights';
import { FULL, describeIfInstalled, fixturePath } from '../helpers';

// onnxruntime-node is an optional dependency: without it the runtime comparisons are skipped.
const describeOrt = describeIfInstalled('onnxruntime-node', 'ONNX runtime comparisons');
const full = FULL ? it : it.skip;

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

/** A DINOv2 with the weights of a test/fixtures/dinov2 spec (imgSize 20, patch 4: a 5x5 positional grid). */
function loadDinov2Spec(name: string, arch: Partial<DinoVisionTransformerOptions>): DinoVisionTransformer {
  const model = new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, ...arch });
  const sd = stateDictFromSpecFile('dinov2', `${name}.json`);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model;
}

/** Non-trivial BatchNorm statistics and affine parameters, seeded. */
function randomiseBatchNorm(model: Module): void {
  tf.tidy(() => {
    model.namedModules().forEach(([, m], i) => {
      if (!(m instanceof BatchNorm)) return;
      const c = m.numFeatures;
      m.weight.assign(tf.randomUniform([c], 0.5, 1.5, 'float32', 4 * i));
      m.bias.assign(tf.randomUniform([c], -0.2, 0.2, 'float32', 4 * i + 1));
      m.runningMean.assign(tf.randomUniform([c], -0.2, 0.2, 'float32', 4 * i + 2));
      m.runningVar.assign(tf.randomUniform([c], 0.5, 2, 'float32', 4 * i + 3));
    });
  });
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

describeOrt('toOnnxBytes + onnxruntime-node equal the tfjs model', () => {
  it('MST with a tiny DINOv2 (pos-embed resized to 3x4 patches): logits and every attention output to 1e-5', async () => {
    const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 24, depth: 2, numHeads: 4, imgSize: 70 }), numClasses: 2 }).eval();
    const x = loadMstSpec(model, 'mst_dinov2_tiny.json'); // [2, 3, 42, 56]
    // The first pass caches the positional embedding resized to this grid.
    tf.dispose(model.forward(x).logits);
    const before = tf.memory().numTensors;
    const onnx = await exportAndLoad(model, 'mst_dino_tiny', { attention: true, imageSize: [42, 56] });
    const out = model.forward(x, { attention: true });
    for (let b = 0; b < 2; b++) {
      const pred = await onnx.predict(await volumeOf(x, b));
      expect(maxDiff(pred.logits, await rowOf(out.logits, b))).toBeLessThan(1e-5);
      const sliceFull = tf.slice(out.sliceAttention as tf.Tensor, [b, 0, 0, 0], [1, 12, 4, 4]);
      const sliceRows = tf.tidy(() => tf.slice(sliceFull, [0, 0, 0, 1], [1, 12, 1, 3]));
      const e = pred.extra;
      expect(e.slice_attention_heads.dims).toEqual([1, 12, 3]);
      expect(maxDiff(e.slice_attention_heads.data, await sliceRows.data())).toBeLessThan(1e-5);
      const plane = tf.slice(out.planeAttention as tf.Tensor, [b, 0, 0, 0], [1, 3, 4, 12]);
      expect(e.plane_attention_heads.dims).toEqual([1, 3, 4, 12]);
      expect(maxDiff(e.plane_attention_heads.data, await plane.data())).toBeLessThan(1e-5);
      const s = mstSaliency({ sliceAttention: sliceFull, planeAttention: plane, gridSize: [3, 4] });
      expect(e.slice_attention.dims).toEqual([1, 3]);
      expect(maxDiff(e.slice_attention.data, await s.sliceAttention.data())).toBeLessThan(1e-5);
      expect(e.plane_attention.dims).toEqual([1, 3, 3, 4]);
      expect(maxDiff(e.plane_attention.data, await s.planeAttention.data())).toBeLessThan(1e-5);
      expect(maxDiff(e.saliency.data, await s.saliency.data())).toBeLessThan(1e-5);
      tf.dispose([sliceFull, sliceRows, plane, s.sliceAttention, s.planeAttention, s.saliency]);
    }
    tf.dispose([out.logits, out.sliceAttention as tf.Tensor, out.planeAttention as tf.Tensor, ...(out.encoderAttentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    await onnx.dispose();
    x.dispose();
    model.dispose();
  });

  it('MST with a slim ResNet2D encoder (model.* keys, BatchNorm statistics): logits and slice attention to 1e-5, height and width dynamic', async () => {
    const encoder = resnet2d18({ feedForward: false, blockInplanes: [4, 8, 8, 16], seed: 2 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 16, seed: 4 }).eval();
    randomiseBatchNorm(model);
    const before = tf.memory().numTensors;
    const onnx = await exportAndLoad(model, 'mst_resnet_slim', { attention: true });
    for (const [d, h, w] of [[3, 32, 32], [5, 40, 28]] as const) {
      const x = tf.randomUniform([1, d, h, w], -2, 2, 'float32', d);
      const out = model.forward(x, { attention: true });
      const pred = await onnx.predict(await volumeOf(x, 0));
      expect(maxDiff(pred.logits, await out.logits.data())).toBeLessThan(1e-5);
      const rows = tf.tidy(() => tf.slice(out.sliceAttention as tf.Tensor, [0, 0, 0, 1], [1, 16, 1, d]));
      expect(pred.extra.slice_attention_heads.dims).toEqual([1, 16, d]);
      expect(maxDiff(pred.extra.slice_attention_heads.data, await rows.data())).toBeLessThan(1e-5);
      expect(Object.keys(pred.extra).sort()).toEqual(['slice_attention', 'slice_attention_heads']);
      tf.dispose([x, rows, out.logits, out.sliceAttention as tf.Tensor]);
    }
    await onnx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('MSTs on two-channel slices (a DINOv2 and a ResNet2D with inChannels 2): input [batch, slices, height, width, 2], logits to 1e-4', async () => {
    const encoders = [
      new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, imgSize: 16, patchSize: 4, inChannels: 2, seed: 3 }),
      resnet2d18({ feedForward: false, blockInplanes: [4, 4, 8, 8], inChannels: 2, seed: 5 }),
    ];
    for (const [k, encoder] of encoders.entries()) {
      const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 4, seed: 6 }).eval();
      const before = tf.memory().numTensors;
      await expect(toOnnxBytes(model, { channels: 3, imageSize: [16, 16] })).rejects.toThrow(/channels must be 1 \(gray, repeated\) or the encoder's 2, got 3/);
      const onnx = await exportAndLoad(model, `mst_two_channels_${k}`, { channels: 2, imageSize: [16, 16] });
      const x = tf.randomUniform([1, 3, 16, 16, 2], -2, 2, 'float32', 7 + k);
      const logits = model.forward(x).logits;
      const pred = await onnx.predict({ data: (await x.data()) as Float32Array, shape: [3, 16, 16, 2] });
      expect(maxDiff(pred.logits, await logits.data())).toBeLessThan(1e-4);
      tf.dispose([x, logits]);
      await onnx.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
  });

  it('MST-DINOv2 with registers, SwiGLU, antialiased pos-embed resize, bottleneck and sinusoidal slice embedding: any slice count', async () => {
    const encoder = loadDinov2Spec('tiny_swiglu_reg', { embedDim: 24, depth: 2, numHeads: 3, ffnLayer: 'swiglu', numRegisters: 4, interpolateOffset: 0, interpolateAntialias: true });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 3, bottleneck: true, heads: 3, positionalEmbedding: 'sinusoidal', seed: 5 }).eval();
    const onnx = await exportAndLoad(model, 'mst_dino_reg', { attention: true, imageSize: [12, 16], zeroFirstPatch: true });
    for (const d of [2, 5]) {
      const x = tf.randomUniform([1, d, 12, 16], -2, 2, 'float32', d);
      const out = model.forward(x, { attention: true });
      const pred = await onnx.predict(await volumeOf(x, 0));
      expect(maxDiff(pred.logits, await out.logits.data())).toBeLessThan(1e-5);
      const s = mstSaliency(out as MstAttention, { zeroFirstPatch: true });
      expect(pred.extra.saliency.dims).toEqual([1, d, 3, 4]);
      expect(maxDiff(pred.extra.slice_attention.data, await s.sliceAttention.data())).toBeLessThan(1e-5);
      expect(maxDiff(pred.extra.plane_attention.data, await s.planeAttention.data())).toBeLessThan(1e-5);
      expect(maxDiff(pred.extra.saliency.data, await s.saliency.data())).toBeLessThan(1e-5);
      tf.dispose([x, out.logits, out.sliceAttention as tf.Tensor, out.planeAttention as tf.Tensor, ...(out.encoderAttentions ?? []), s.sliceAttention, s.planeAttention, s.saliency]);
    }
    await onnx.dispose();
    model.dispose();
  });

  it.each([
    ['learned slice embedding, dynamic slices', { positionalEmbedding: 'learned' }, {}],
    ['learned slice embedding, fixed 3 slices', { positionalEmbedding: 'learned' }, { numSlices: 3 }],
    ['linear fusion', { sliceFusion: 'linear', numSlices: 3 }, {}],
    ['average fusion', { sliceFusion: 'average' }, {}],
  ] as const)('MST-DINOv2 (tiny, MLP) with %s: logits to 1e-5', async (_name, mstOptions, exportOptions) => {
    const encoder = loadDinov2Spec('tiny_mlp', { embedDim: 16, depth: 2, numHeads: 2 });
    const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 4, seed: 3, ...mstOptions }).eval();
    const onnx = await exportAndLoad(model, 'mst_dino_mlp', { imageSize: [12, 16], ...exportOptions });
    const x = tf.randomUniform([1, 3, 12, 16], -2, 2, 'float32', 11);
    const logits = model.forward(x).logits;
    const pred = await onnx.predict(await volumeOf(x, 0));
    expect(maxDiff(pred.logits, await logits.data())).toBeLessThan(1e-5);
    expect(pred.extra).toEqual({});
    tf.dispose([x, logits]);
    await onnx.dispose();
    model.dispose();
  });

  it('ResNet3D (basic blocks, BatchNorm statistics): logits to 1e-5; the model method writes the file atomically', async () => {
    const model = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 8, 8, 8], numClasses: 3, seed: 9 }).eval();
    randomiseBatchNorm(model);
    const x = tf.randomNormal([1, 10, 24, 20], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const file = path.join(dir, 'resnet3d_slim.onnx');
    await model.exportOnnx(file);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const onnx = await loadOnnxModel(file, { threads: 1 });
    const logits = model.forward(x);
    const pred = await onnx.predict(await volumeOf(x, 0));
    expect(maxDiff(pred.logits, await logits.data())).toBeLessThan(1e-5);
    expect(pred.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    logits.dispose();
    await onnx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it("ResNet3D with bottlenecks and MONAI's shortcut 'A' (strided identity, zero channels): logits to 1e-5", async () => {
    const model = new ResNet3D({ block: 'bottleneck', layers: [1, 1, 1, 1], blockInplanes: [4, 4, 8, 8], shortcutType: 'A', numClasses: 2, seed: 7 }).eval();
    randomiseBatchNorm(model);
    const onnx = await exportAndLoad(model, 'resnet3d_a', { numSlices: 9 });
    const x = tf.randomNormal([1, 9, 20, 24], 0, 1, 'float32', 2);
    const logits = model.forward(x);
    const pred = await onnx.predict(await volumeOf(x, 0));
    expect(maxDiff(pred.logits, await logits.data())).toBeLessThan(1e-5);
    tf.dispose([x, logits]);
    await onnx.dispose();
    model.dispose();
  });
});

describe('toOnnxBytes refuses what it cannot export', () => {
  it('names the problem', async () => {
    const resnet = resnet3d18({ numClasses: 2, skipInit: true, blockInplanes: [2, 2, 2, 2] });
    await expect(toOnnxBytes(resnet, { attention: true })).rejects.toThrow(/ResNet3D has no attention/);
    await expect(toOnnxBytes(resnet, { numSlices: 0 })).rejects.toThrow(/numSlices must be a positive integer/);
    resnet.dispose();
    const dino = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, imgSize: 20, patchSize: 4 }), numClasses: 2, heads: 4 });
    await expect(toOnnxBytes(dino, { imageSize: [13, 16] })).rejects.toThrow(/multiple of the patch size 4/);
    await expect(toOnnxBytes(dino, { imageSize: [12, 16], numSlices: 3 })).resolves.toBeInstanceOf(Uint8Array);
    dino.dispose();
    const average = new MedicalSliceTransformer({ encoder: resnet2d18({ feedForward: false, blockInplanes: [4, 4, 4, 4] }), numClasses: 2, sliceFusion: 'average' });
    await expect(toOnnxBytes(average, { attention: true })).rejects.toThrow(/no attention maps to export/);
    average.dispose();
  });
});

describeOrt('loadOnnxModel', () => {
  it('checks the volume and the file', async () => {
    await expect(loadOnnxModel(path.join(dir, 'missing.onnx'))).rejects.toThrow(/missing\.onnx/);
    const model = resnet3d18({ numClasses: 2, blockInplanes: [2, 2, 2, 2], skipInit: true });
    const onnx = await exportAndLoad(model, 'small3d');
    await expect(onnx.predict({ data: new Float32Array(10), shape: [2, 2, 2] })).rejects.toThrow(/needs 8 values, got 10/);
    await onnx.dispose();
    await expect(onnx.predict({ data: new Float32Array(8), shape: [2, 2, 2] })).rejects.toThrow(/disposed/);
    model.dispose();
  });

  it('takes a tf.Tensor volume as well as { data, shape }: the same logits, the tensor left to its owner', async () => {
    const model = resnet3d18({ numClasses: 3, blockInplanes: [2, 2, 2, 2], seed: 2 }).eval();
    const onnx = await exportAndLoad(model, 'small3d_tensor');
    const x = tf.randomUniform([6, 8, 8], -1, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const fromTensor = await onnx.predict(x);
    const fromArrays = await onnx.predict({ data: (await x.data()) as Float32Array, shape: [6, 8, 8] });
    expect(fromTensor.logits).toEqual(fromArrays.logits);
    const tfLogits = tf.tidy(() => model.forward(x.expandDims(0)));
    expect(maxDiff(fromTensor.logits, await tfLogits.data())).toBeLessThan(1e-4);
    tfLogits.dispose();
    expect(x.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    const batched = x.expandDims(0);
    expect(onnx.inputShape).toHaveLength(4);
    await expect(onnx.predict(batched)).rejects.toThrow(/small3d_tensor\.onnx' takes a volume \[D, H, W\], got \[1, 6, 8, 8\] \(drop the batch axis: predict adds it\)/);
    const batched5 = batched.expandDims(4);
    await expect(onnx.predict(batched5)).rejects.toThrow(/got float32 \[1, 6, 8, 8, 1\] \(drop the batch axis: volume\.squeeze\(\[0\]\)\)/);
    const ints = x.toInt();
    await expect(onnx.predict(ints)).rejects.toThrow(/got int32 \[6, 8, 8\] \(tf\.cast\(volume, "float32"\)\)/);
    tf.dispose([x, batched, batched5, ints]);
    await onnx.dispose();
    model.dispose();
  });
});

describeOrt('full-size models (MST_FULL)', () => {
  full('MST with a ResNet-18 encoder (fixture weights, model.* keys): logits and slice attention to 1e-5, height and width dynamic', async () => {
    const model = new MedicalSliceTransformer({ encoder: resnet2d18({ feedForward: false }), numClasses: 2 }).eval();
    const x = loadMstSpec(model, 'mst_resnet18.json'); // [1, 3, 32, 32]
    const before = tf.memory().numTensors;
    const onnx = await exportAndLoad(model, 'mst_resnet18', { attention: true });
    const bigger = tf.tidy(() => tf.tile(x, [1, 2, 1, 2]).slice([0, 0, 0, 0], [1, 5, 32, 40]));
    for (const input of [x, bigger]) {
      const out = model.forward(input, { attention: true });
      const pred = await onnx.predict(await volumeOf(input, 0));
      expect(maxDiff(pred.logits, await out.logits.data())).toBeLessThan(1e-5);
      const d = input.shape[1] as number;
      const rows = tf.tidy(() => tf.slice(out.sliceAttention as tf.Tensor, [0, 0, 0, 1], [1, 16, 1, d]));
      expect(pred.extra.slice_attention_heads.dims).toEqual([1, 16, d]);
      expect(maxDiff(pred.extra.slice_attention_heads.data, await rows.data())).toBeLessThan(1e-5);
      expect(Object.keys(pred.extra).sort()).toEqual(['slice_attention', 'slice_attention_heads']);
      tf.dispose([rows, out.logits, out.sliceAttention as tf.Tensor]);
    }
    bigger.dispose();
    await onnx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  full('ResNet3D-18 (MONAI fixture weights, 16x64x64): logits (about 2.6) to 2e-4', async () => {
    const model = resnet3d18({ numClasses: 3 }).eval();
    const sd = stateDictFromSpecFile('resnet', 'resnet3d18_spec.json');
    model.loadStateDict(sd);
    disposeStateDict(sd);
    const input = stateDictFromSpecFile('resnet', 'resnet3d18_input_spec.json').input; // [1, 16, 64, 64, 1]
    const x = tf.reshape(input, [1, 16, 64, 64]);
    const before = tf.memory().numTensors;
    const onnx = await exportAndLoad(model, 'resnet3d18');
    const logits = model.forward(x);
    const pred = await onnx.predict(await volumeOf(x, 0));
    // 18 convolutions of 3x3x3 (and 7x7x7) taps in float32, summed in orders onnxruntime picks by CPU.
    expect(maxDiff(pred.logits, await logits.data())).toBeLessThan(2e-4);
    expect(pred.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    logits.dispose();
    await onnx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([input, x]);
    model.dispose();
  });

  full('MST-DINOv2-S/14 at 224x224 (fixture weights, 3 slices): logits to 1e-4 and attention to 1e-5', async () => {
    const model = new MedicalSliceTransformer({ encoder: dinov2_vits14(), numClasses: 2 }).eval();
    const x = loadMstSpec(model, 'mst_dinov2_s.json'); // [1, 3, 224, 224]
    const onnx = await exportAndLoad(model, 'mst_dinov2_s', { attention: true });
    const out = model.forward(x, { attention: true });
    const pred = await onnx.predict(await volumeOf(x, 0));
    expect(maxDiff(pred.logits, await out.logits.data())).toBeLessThan(1e-4);
    const s = mstSaliency(out as MstAttention);
    expect(pred.extra.plane_attention.dims).toEqual([1, 3, 16, 16]);
    expect(maxDiff(pred.extra.slice_attention.data, await s.sliceAttention.data())).toBeLessThan(1e-5);
    expect(maxDiff(pred.extra.plane_attention.data, await s.planeAttention.data())).toBeLessThan(1e-5);
    expect(maxDiff(pred.extra.plane_attention_heads.data, await (out.planeAttention as tf.Tensor).data())).toBeLessThan(1e-5);
    tf.dispose([x, out.logits, out.sliceAttention as tf.Tensor, out.planeAttention as tf.Tensor, ...(out.encoderAttentions ?? []), s.sliceAttention, s.planeAttention, s.saliency]);
    await onnx.dispose();
    model.dispose();
  });
});
