/**
 * @jest-environment ./test/export/ort_environment.cjs
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// The encoder of the README's custom-encoder section, and a fusion of our own, each in one file.
import { TinyCnn } from '../../examples/custom_encoder';
import { AttentionMil } from './attention_mil_fusion';
import { loadClassifier } from '../../src/classifier/classifier';
import { syntheticTrainingData } from '../../src/data/training_data';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { toOnnxBytes } from '../../src/onnx/onnx_export';
import { runTraining } from '../../src/train/training_run';
import { describeIfInstalled } from '../helpers';

describe('a slice encoder and a fusion of our own, each one file and one registration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-custom-'));
  const data = syntheticTrainingData({ task: 'chest', seed: 1, size: [6, 32, 32], crop: [6, 16, 16], difficulty: 0.2, nTrain: 8, nVal: 6, nTest: 4, zNormalize: true, augment: 'flip' });

  it('trains one epoch, saves a bundle, reloads it without naming the architecture, predicts and explains', async () => {
    const model = new MedicalSliceTransformer({ encoder: 'tiny-cnn', encoderOptions: { channels: 8, featureSize: 32 }, fusion: 'attention-mil', fusionOptions: { hidden: 8 }, numClasses: 2, seed: 3 });
    expect(model.encoder).toBeInstanceOf(TinyCnn);
    expect(model.fusion).toBeInstanceOf(AttentionMil);
    expect(model.capabilities).toMatchObject({ sliceAttention: true, planeAttention: false, onnx: true, camLayers: [] });
    const before = tf.memory().numTensors;
    const run = await runTraining({ model, data, arch: 'tiny-cnn-mil', outDir: dir, epochs: 1, lr: 1e-3, batchSize: 4, patience: 5, seed: 0 });
    expect(run.fit.history).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
    const bundle = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(bundle.config).toMatchObject({ model: 'mst', encoder: { name: 'tiny-cnn', options: { channels: 8, featureSize: 32 } }, fusion: { name: 'attention-mil', options: { hidden: 8 } } });
    expect(bundle.arch).toBe('tiny-cnn-mil');

    const clf = await loadClassifier(path.join(dir, 'model.safetensors'));
    const volume = tf.tensor3d((await data.test.get(0)).data, data.inputSize);
    const mem = await model.predict(volume);
    const got = await clf.predict(volume);
    got.probabilities.forEach((p, i) => expect(p).toBeCloseTo(mem.probabilities[i], 6));
    expect(got.sliceAttention).toHaveLength(6);
    expect(got.sliceAttention!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const e = await clf.explain(volume);
    expect(e.method).toBe('attention');
    expect(e.saliency.shape).toEqual(data.inputSize);
    // Each slice's map is its slice weight: the fusion's attention explains the volume.
    const D = 6;
    const perSlice = e.saliency.data.length / D;
    for (let d = 0; d < D; d++) expect(e.saliency.data[d * perSlice]).toBeCloseTo(e.sliceAttention![d], 5);
    await expect(clf.explain(volume, { method: 'gradcam' })).rejects.toThrow(/method 'gradcam' does not apply to this model, an MST whose fusion weighs slices .*; expected one of 'attention', 'occlusion'/);
    volume.dispose();
    clf.dispose();
    model.dispose();
  });

  describeIfInstalled('onnxruntime-node', 'custom parts ONNX export')('ONNX', () => {
    it('exports through the encoder’s and the fusion’s own toOnnx, equal to tfjs in onnxruntime', async () => {
      const { loadOnnxModel } = await import('../../src/export/onnx_predict');
      const model = new MedicalSliceTransformer({ encoder: 'tiny-cnn', encoderOptions: { channels: 4, featureSize: 16 }, fusion: 'attention-mil', numClasses: 2, heads: 4, seed: 5 }).eval();
      const file = path.join(dir, 'custom.onnx');
      fs.writeFileSync(file, await toOnnxBytes(model, { attention: true }));
      const x = tf.randomNormal([5, 16, 16], 0, 1, 'float32', 2);
      const mem = await model.predict(x);
      const ort = await loadOnnxModel(file, { threads: 1 });
      const r = await ort.predict({ data: (await x.data()) as Float32Array, shape: [5, 16, 16] });
      r.logits.forEach((l, i) => expect(Math.abs(l - mem.logits[i])).toBeLessThan(1e-4));
      expect(Object.keys(r.extra)).toContain('slice_attention');
      await ort.dispose();
      x.dispose();
      model.dispose();
    });
  });

  it('the README shows the custom encoder exactly as this test runs it', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const snippet = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'custom_encoder.ts'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${snippet}\`\`\``);
    expect(snippet.trim().split('\n').length).toBeLessThan(40);
  });

  it('an encoder without ONNX, attention or CAM layers says what it lacks', async () => {
    const { registerEncoder } = await import('../../src/models/encoder_registry');
    const { Module } = await import('../../src/nn/module');
    class Bare extends Module {
      readonly inChannels = 1;
      readonly featureSize = 12;
      encode(images: tf.Tensor4D) {
        return { features: tf.tidy(() => tf.tile(tf.mean(images, [1, 2]), [1, 12])) as tf.Tensor2D };
      }
    }
    registerEncoder('bare', { create: () => new Bare() });
    const model = new MedicalSliceTransformer({ encoder: 'bare', fusion: 'average', numClasses: 2 });
    await expect(toOnnxBytes(model)).rejects.toThrow(/this MST cannot be exported: the encoder Bare has no toOnnx\(\)/);
    const { explainVolume } = await import('../../src/explain/explain_volume');
    const x = tf.zeros([2, 8, 8]);
    await expect(explainVolume(model, x)).rejects.toThrow(/its fusion AverageFusion does not weigh slices, its encoder Bare returns no attention maps and has no CAM layers/);
    x.dispose();
    model.dispose();
  });
});
