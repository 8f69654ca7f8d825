import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../../src/io/checkpoint';
import { loadSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import { fromPretrained, type FromPretrainedOptions } from '../../src/models/from_pretrained';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { buildModel, configOf, type ConfigurableModel } from '../../src/models/model_config';
import { ResNet } from '../../src/models/resnet';
import { configPathFor, saveModel } from '../../src/models/save_model';
import { fixturePath, maxAbsDiff } from '../helpers';

interface Case {
  file: string;
  options: FromPretrainedOptions;
  inputs: string[];
  outputs: string[];
}

const dir = fixturePath('pretrained');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, Case>;
let expected: StateDict;

beforeAll(async () => {
  expected = await loadSafetensors(path.join(dir, 'expected.safetensors'));
});
afterAll(() => disposeStateDict(expected));

/** Every output the case's PyTorch reference recorded, from our model on the same inputs. */
function run(model: ConfigurableModel, name: string, c: Case): Record<string, tf.Tensor> {
  const x = (k: string): tf.Tensor => expected[`${name}.${k}`];
  if (model instanceof DinoVisionTransformer) {
    const out: Record<string, tf.Tensor> = {};
    for (const [input, suffix] of [['x', ''], ['x_resized', '_resized']]) {
      if (!c.inputs.includes(input)) continue;
      const f = model.forwardFeatures(x(input) as tf.Tensor4D);
      out[`cls${suffix}`] = f.clsToken;
      out[`patch${suffix}`] = f.patchTokens;
      tf.dispose([f.regTokens]);
    }
    return out;
  }
  if (model instanceof MedicalSliceTransformer) return { logits: model.forward(x('x')).logits };
  return { logits: (model as ResNet).forward(x('x')) };
}

describe('fromPretrained: every key convention gives PyTorch’s numbers (tools/reference/pretrained_ref.py)', () => {
  it.each(Object.entries(manifest))('%s', async (name, c) => {
    const before = tf.memory().numTensors;
    const model = await fromPretrained(path.join(dir, c.file), c.options);
    model.eval();
    const outs = run(model, name, c);
    expect(Object.keys(outs).sort()).toEqual(c.outputs);
    for (const k of c.outputs) {
      expect([k, outs[k].shape]).toEqual([k, expected[`${name}.${k}`].shape]);
      const diff = maxAbsDiff(outs[k], expected[`${name}.${k}`]);
      // About three times the largest float32 error measured over the cases (tiny models).
      expect([k, diff < 2e-6 ? 'ok' : diff]).toEqual([k, 'ok']);
    }
    tf.dispose(Object.values(outs));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('infers what the tensors tell: depth, registers, grid, SwiGLU, fusion, bottleneck, slices, ResNet stages', async () => {
    const cases: [string, FromPretrainedOptions, unknown][] = [
      ['dinov2_hub_reg4.pth', { numHeads: 4 }, { model: 'dinov2', options: expect.objectContaining({ embedDim: 16, depth: 1, numRegisters: 4, imgSize: 6, patchSize: 2, interpolateOffset: 0, interpolateAntialias: true }) }],
      ['dinov2_timm_swiglu.pth', { numHeads: 4 }, { model: 'dinov2', options: expect.objectContaining({ ffnLayer: 'swiglu', mlpRatio: 4 }) }],
      [
        'mst_dinov2_bottleneck_pos.ckpt',
        { numHeads: 4, sliceHeads: 2 },
        expect.objectContaining({ model: 'mst', fusion: { name: 'transformer', options: { heads: 2, positionalEmbedding: 'learned' } }, options: expect.objectContaining({ bottleneck: true, numClasses: 3 }) }),
      ],
      ['mst_dinov2_linear.ckpt', { numHeads: 4 }, expect.objectContaining({ fusion: { name: 'linear', options: { numSlices: 3 } } })],
      ['mst_resnet_slice.ckpt', { sliceHeads: 4 }, expect.objectContaining({ encoder: { name: 'resnet2d', options: expect.objectContaining({ blockInplanes: [1, 2, 4, 8], feedForward: false }) } })],
      ['monai_resnet50_3d.pth', {}, { model: 'resnet3d', options: expect.objectContaining({ block: 'bottleneck', layers: [3, 4, 6, 3], numClasses: 3, conv1TStride: 1, biasDownsample: true }) }],
    ];
    for (const [file, options, want] of cases) {
      const model = await fromPretrained(path.join(dir, file), options);
      expect([file, configOf(model)]).toEqual([file, want]);
      model.dispose();
    }
  });

  it('loads a MONAI 3D ResNet whose converter dropped num_batches_tracked (safetensors), with PyTorch\'s numbers', async () => {
    const name = 'monai_resnet50_3d';
    const sd = await loadCheckpoint(path.join(dir, manifest[name].file));
    const dropped = Object.keys(sd).filter((k) => k.endsWith('num_batches_tracked'));
    expect(dropped.length).toBeGreaterThan(50);
    for (const k of dropped) {
      sd[k].dispose();
      delete sd[k];
    }
    const bytes = await encodeSafetensors(sd);
    disposeStateDict(sd);
    const before = tf.memory().numTensors;
    const model = await fromPretrained(bytes);
    model.eval();
    const { logits } = run(model, name, manifest[name]);
    expect(maxAbsDiff(logits, expected[`${name}.logits`])).toBeLessThan(1e-5);
    logits.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('asks for the heads when the width is not a standard variant, naming the option', async () => {
    await expect(fromPretrained(path.join(dir, 'dinov2_hub.pth'))).rejects.toThrow(/width 16 is not a standard variant.*pass \{ numHeads \}/);
    await expect(fromPretrained(path.join(dir, 'mst_dinov2.ckpt'), { numHeads: 4 })).rejects.toThrow(/slice transformer's width 16 .*pass \{ sliceHeads \}/);
    await expect(fromPretrained(path.join(dir, 'dinov2_hub.pth'), { numHeads: 5 })).rejects.toThrow(/numHeads must divide the DINOv2 width 16, got 5/);
    await expect(fromPretrained(path.join(dir, 'torchvision_resnet18.pth'), { numClasses: 2 })).rejects.toThrow(/numClasses 2 was given, but the file's fc has 5 classes/);
  });

  it('builds an MST around a pretrained backbone (fresh fusion and head) and takes the encoder out of an MST', async () => {
    const mst = (await fromPretrained(path.join(dir, 'dinov2_hub.pth'), { arch: 'mst', numHeads: 4, sliceHeads: 4, numClasses: 2 })) as MedicalSliceTransformer;
    const enc = (await fromPretrained(path.join(dir, 'mst_dinov2.ckpt'), { arch: 'dinov2', numHeads: 4 })) as DinoVisionTransformer;
    const hub = (await fromPretrained(path.join(dir, 'dinov2_hub.pth'), { numHeads: 4 })) as DinoVisionTransformer;
    expect(mst).toBeInstanceOf(MedicalSliceTransformer);
    expect(mst.numClasses).toBe(2);
    const a = mst.encoder.stateDict();
    const b = hub.stateDict();
    for (const k of Object.keys(b)) expect([k, maxAbsDiff(a[k], b[k])]).toEqual([k, 0]);
    expect(enc.blocks.length).toBe(1);
    disposeStateDict(a);
    disposeStateDict(b);
    [mst, enc, hub].forEach((m) => m.dispose());
  });
});

describe('saveModel -> fromPretrained', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-save-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each([
    ['mst_dinov2_bottleneck_pos.ckpt', { numHeads: 4, sliceHeads: 2 }],
    ['mst_resnet_slice.ckpt', { sliceHeads: 4 }],
    ['mst_resnet3d.ckpt', {}],
    ['dinov2_hub_reg4.pth', { numHeads: 4 }],
  ] as [string, FromPretrainedOptions][])('round trip of %s is bit-identical, every tensor, and the file keeps the original names', async (file, options) => {
    const model = await fromPretrained(path.join(dir, file), options);
    const out = path.join(tmp, `${file}.safetensors`);
    await saveModel(model, out);
    expect(fs.existsSync(configPathFor(out))).toBe(true);
    const again = await fromPretrained(out);
    expect(configOf(again)).toEqual(configOf(model));
    const a = model.stateDict();
    const b = again.stateDict();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    const [ea, eb] = [await encodeSafetensors(a), await encodeSafetensors(b)];
    expect(Buffer.from(eb).equals(Buffer.from(ea))).toBe(true);
    // The file carries the authors' names: ResNetSliceTrans' `model.*` without fc, DINOv2's `encoder.*`.
    const saved = await loadSafetensors(out);
    const keys = Object.keys(saved);
    if (file.startsWith('mst_resnet_slice')) expect(keys.some((k) => k.startsWith('model.layer1.')) && !keys.some((k) => k.startsWith('model.fc.'))).toBe(true);
    if (file.startsWith('mst_dinov2')) expect(keys).toContain('encoder.blocks.0.attn.qkv.weight');
    disposeStateDict(saved);
    disposeStateDict(a);
    disposeStateDict(b);
    model.dispose();
    again.dispose();
  });

  it('writes the authors’ 3D ResNet wrapper names with keyPrefix, and the safetensors metadata alone rebuilds the model', async () => {
    const model = buildModel({ model: 'resnet3d', options: { block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [2, 2, 2, 2], numClasses: 2, seed: 3 } });
    const out = path.join(tmp, 'r3d.safetensors');
    await saveModel(model, out, { keyPrefix: 'model.' });
    const keys = Object.keys(JSON.parse(Buffer.from(fs.readFileSync(out)).subarray(8, 8 + Number(Buffer.from(fs.readFileSync(out)).readBigUInt64LE(0))).toString()));
    expect(keys.filter((k) => k !== '__metadata__').every((k) => k.startsWith('model.'))).toBe(true);
    fs.rmSync(configPathFor(out));
    // Another tool's JSON of the same name is ignored; the safetensors metadata rebuilds the model.
    fs.writeFileSync(configPathFor(out), '{"architectures": ["Dinov2Model"]}');
    expect(configOf(await fromPretrained(out).then((m) => (m.dispose(), m)))).toEqual(configOf(model));
    const again = await fromPretrained(new Uint8Array(fs.readFileSync(out)));
    const x = tf.randomNormal([1, 4, 8, 8, 1], 0, 1, 'float32', 5);
    const [ya, yb] = [(model as ResNet).eval().forward(x), (again as ResNet).eval().forward(x)];
    expect(maxAbsDiff(ya, yb)).toBe(0);
    tf.dispose([x, ya, yb]);
    model.dispose();
    again.dispose();
  });

  it('names the key, the expected and the found shape when a file has the right keys but wrong shapes', async () => {
    const model = buildModel({ model: 'resnet3d', options: { block: 'basic', layers: [2, 2, 2, 2], blockInplanes: [1, 2, 2, 2], numClasses: 2 } });
    const out = path.join(tmp, 'bad.safetensors');
    await saveModel(model, out);
    // Same keys, one tensor of another shape: our config JSON is kept, so the model is built as saved.
    const sd = model.stateDict();
    sd['fc.weight'].dispose();
    sd['fc.weight'] = tf.zeros([2, 3]);
    fs.writeFileSync(out, await encodeSafetensors(sd));
    disposeStateDict(sd);
    const before = tf.memory().numTensors;
    await expect(fromPretrained(out)).rejects.toThrow(/fc\.weight: expected \[2,2\], got \[2,3\]/);
    // Without the JSON the shapes are checked against each other while inferring.
    fs.rmSync(configPathFor(out));
    await expect(fromPretrained(out)).rejects.toThrow(/'fc\.weight' expected \[classes, 2\], got \[2,3\]/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
