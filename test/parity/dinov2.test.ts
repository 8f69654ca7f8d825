import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { loadSafetensors } from '../../src/io/safetensors';
import {
  DinoVisionTransformer,
  dinov2Config,
  dinov2ParameterCount,
  dinov2StateDictShapes,
  dinov2_vits14,
  dinov2_vits14_reg,
  type Dinov2Arch,
  type Dinov2Features,
} from '../../src/models/dinov2';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { interpolatePosEmbed } from '../../src/layers/pos_embed_interpolation';
import { fnv1a, stateDictFromSpec, stateDictFromSpecFile, type WeightSpec } from '../fixture_weights';
import { expectAllBelow, fixturePath, maxAbsDiff } from '../helpers';

/**
 * DINOv2 against tools/reference/dinov2_ref.py (PyTorch 1.13, hub architecture, non-trivial
 * hash-generated weights: attention peaked, LayerScale and norm weights away from 1).
 */

// About three times the float32 error measured against the fixtures through 12 blocks, so a
// LayerNorm eps ten times off fails: features and tokens, attention probabilities (the 32-slice
// run accumulates a little more), and the tiny models' tokens and relative gradients.
const FEATURES = 2e-5;
const ATTENTION = 3e-6;
const ATTENTION_32 = 5e-6;
const TINY_TOKENS = 5e-6;
const TINY_GRADIENTS = 5e-6;

interface ShapesFixture {
  [arch: string]: { num_parameters: number; num_keys: number; signature: number; shapes?: Record<string, number[]> };
}
const SHAPES = JSON.parse(fs.readFileSync(fixturePath('dinov2', 'state_dict_shapes.json'), 'utf8')) as ShapesFixture;

function signature(shapes: Record<string, number[]>): number {
  return fnv1a(Object.entries(shapes).map(([k, s]) => `${k}=${s.join('x')}`).join(';'));
}

let imageDict: StateDict | undefined;
afterAll(() => imageDict && disposeStateDict(imageDict));

/** `[N, H, W, 3]` images of the images spec (generated once per file), slices [from, from + n). */
function images(key: string, from: number, n: number): tf.Tensor4D {
  imageDict ??= stateDictFromSpecFile('dinov2', 'images_spec.json');
  return tf.slice(imageDict[key], [from, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D;
}

function loadSpec(model: DinoVisionTransformer, file: string): void {
  const sd = stateDictFromSpecFile('dinov2', file);
  model.loadStateDict(sd);
  disposeStateDict(sd);
}

function disposeFeatures(f: Dinov2Features): void {
  tf.dispose([f.clsToken, f.regTokens, f.patchTokens, ...(f.attentions ?? [])]);
}

/** `t[:, :, rows]` of a `[N, heads, T, T]` attention tensor. */
function attentionRows(a: tf.Tensor4D, rows: number[]): tf.Tensor {
  return tf.tidy(() => tf.gather(a, rows, 2));
}

function tokenRows(t: tf.Tensor3D, rows: number[]): tf.Tensor {
  return tf.tidy(() => tf.gather(t, rows, 1));
}

describe('DINOv2 architecture vs PyTorch hub models', () => {
  const archs: Dinov2Arch[] = ['vits14', 'vits14_reg', 'vitb14', 'vitb14_reg', 'vitl14', 'vitl14_reg', 'vitg14', 'vitg14_reg'];
  it.each(archs)('%s has PyTorch state-dict keys, order, shapes and parameter count', (arch) => {
    const cfg = dinov2Config(arch);
    const shapes = dinov2StateDictShapes(cfg);
    expect(Object.keys(shapes)).toHaveLength(SHAPES[arch].num_keys);
    expect(signature(shapes)).toBe(SHAPES[arch].signature);
    expect(dinov2ParameterCount(cfg)).toBe(SHAPES[arch].num_parameters);
  });

  it('counts 22,056,576 parameters for ViT-S/14 and 1,136,480,768 for ViT-g/14, as PyTorch', () => {
    expect(SHAPES.vits14.num_parameters).toBe(22056576);
    expect(dinov2ParameterCount(dinov2Config('vits14'))).toBe(22056576);
    expect(dinov2ParameterCount(dinov2Config('vitb14'))).toBe(86580480);
    expect(dinov2ParameterCount(dinov2Config('vitl14'))).toBe(304368640);
    expect(dinov2ParameterCount(dinov2Config('vitg14'))).toBe(1136480768);
  });
});

describe('DINOv2-S/14 (12 blocks) vs PyTorch at 224x224', () => {
  let model: DinoVisionTransformer;
  let expected: StateDict;
  beforeAll(async () => {
    model = dinov2_vits14();
    loadSpec(model, 'vits14_spec.json');
    expected = await loadSafetensors(fixturePath('dinov2', 'vits14_224.safetensors'));
  }, 300000);
  afterAll(() => {
    model.dispose();
    disposeStateDict(expected);
  });

  it('builds the same state dict as PyTorch', () => {
    expect(model.stateDictShapes()).toEqual(SHAPES.vits14.shapes);
    expect(model.numParameters()).toBe(22056576);
  });

  it('matches features, patch tokens and last-block attention on 2 slices', () => {
    const x = images('images_224', 0, 2);
    const f = model.forwardFeatures(x, { attention: 'last' });
    const attn = (f.attentions as tf.Tensor4D[])[0];
    expect(attn.shape).toEqual([2, 6, 257, 257]);
    expect(maxAbsDiff(f.clsToken, expected.features_first2)).toBeLessThan(FEATURES);
    const tok = tokenRows(f.patchTokens, [0, 37, 255]);
    expect(maxAbsDiff(tok, expected.patch_tokens)).toBeLessThan(FEATURES);
    const rows = attentionRows(attn, [1, 100, 256]);
    expect(maxAbsDiff(rows, expected.attention_rows)).toBeLessThan(ATTENTION);
    const cls = attentionRows(attn, [0]);
    const clsWant = tf.slice(expected.cls_attention, [0, 0, 0], [2, -1, -1]);
    expect(maxAbsDiff(cls, clsWant)).toBeLessThan(ATTENTION);
    tf.dispose([x, tok, rows, cls, clsWant]);
    disposeFeatures(f);
  });

  it('matches features and CLS attention on a 32-slice volume', () => {
    const x = images('images_224', 0, 32);
    const enc = model.encode(x, { attention: 'last' });
    expect(maxAbsDiff(enc.features, expected.features)).toBeLessThan(FEATURES);
    const cls = attentionRows((enc.attentions as tf.Tensor4D[])[0], [0]);
    expect(maxAbsDiff(cls, expected.cls_attention)).toBeLessThan(ATTENTION_32);
    tf.dispose([x, cls, enc.features, ...(enc.attentions ?? [])]);
  }, 600000);

  it('matches at 224x168 (pos_embed resized to a 16x12 grid)', async () => {
    const want = await loadSafetensors(fixturePath('dinov2', 'vits14_224x168.safetensors'));
    const pos = interpolatePosEmbed(model.posEmbed, 16, 12, { offset: 0.1, antialias: false });
    const pos8 = tf.slice(pos, [0, 0, 0], [1, -1, 8]);
    expect(maxAbsDiff(pos8, want.pos_embed_first8)).toBeLessThan(ATTENTION);
    const x = images('images_224x168', 0, 2);
    const f = model.forwardFeatures(x, { attention: 'last' });
    expect(f.gridSize).toEqual([16, 12]);
    expect(maxAbsDiff(f.clsToken, want.features)).toBeLessThan(FEATURES);
    const tok = tokenRows(f.patchTokens, [0, 11, 191]);
    expect(maxAbsDiff(tok, want.patch_tokens)).toBeLessThan(FEATURES);
    const cls = attentionRows((f.attentions as tf.Tensor4D[])[0], [0]);
    expect(maxAbsDiff(cls, want.cls_attention)).toBeLessThan(ATTENTION);
    tf.dispose([pos, pos8, x, tok, cls]);
    disposeFeatures(f);
    disposeStateDict(want);
  });
});

describe('DINOv2-S/14 with registers vs PyTorch at 224x224', () => {
  it('matches features, register and patch tokens and CLS attention (antialiased resize, offset 0)', async () => {
    const model = dinov2_vits14_reg();
    expect(model.stateDictShapes()).toEqual(SHAPES.vits14_reg.shapes);
    loadSpec(model, 'vits14_reg_spec.json');
    const want = await loadSafetensors(fixturePath('dinov2', 'vits14_reg_224.safetensors'));
    const x = images('images_224', 0, 2);
    const f = model.forwardFeatures(x, { attention: 'last' });
    expect(maxAbsDiff(f.clsToken, want.features)).toBeLessThan(FEATURES);
    expect(maxAbsDiff(f.regTokens, want.reg_tokens)).toBeLessThan(FEATURES);
    const tok = tokenRows(f.patchTokens, [0, 37, 255]);
    expect(maxAbsDiff(tok, want.patch_tokens)).toBeLessThan(FEATURES);
    const cls = attentionRows((f.attentions as tf.Tensor4D[])[0], [0]);
    expect(cls.shape).toEqual([2, 6, 1, 261]);
    expect(maxAbsDiff(cls, want.cls_attention)).toBeLessThan(ATTENTION);
    tf.dispose([x, tok, cls]);
    disposeFeatures(f);
    disposeStateDict(want);
    model.dispose();
  }, 300000);
});

describe('DINOv2 gradients vs PyTorch (small models)', () => {
  const cases: [string, Partial<ConstructorParameters<typeof DinoVisionTransformer>[0]>][] = [
    ['tiny_mlp', { embedDim: 16, depth: 2, numHeads: 2, ffnLayer: 'mlp' }],
    ['tiny_swiglu_reg', { embedDim: 24, depth: 2, numHeads: 3, ffnLayer: 'swiglu', numRegisters: 4, interpolateOffset: 0, interpolateAntialias: true }],
  ];
  it.each(cases)('%s: loss, tokens and every parameter gradient (relative to its largest entry)', async (name, arch) => {
    const spec = JSON.parse(fs.readFileSync(fixturePath('dinov2', `${name}.json`), 'utf8')) as WeightSpec & { inputs: WeightSpec };
    const model = new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, ...arch });
    const sd = stateDictFromSpec(spec);
    model.loadStateDict(sd);
    disposeStateDict(sd);
    const inputs = stateDictFromSpec(spec.inputs);
    const x = inputs.images as tf.Tensor4D;
    const want = await loadSafetensors(fixturePath('dinov2', `${name}.safetensors`));
    const vars = model.namedParameters();
    const { value, grads } = tf.variableGrads(() => {
      const f = model.forwardFeatures(x);
      const tokens = tf.concat([tf.expandDims(f.clsToken, 1), f.regTokens, f.patchTokens], 1);
      return tf.sum(tf.mul(tokens, inputs.coef)) as tf.Scalar;
    }, vars.map(([, v]) => v));
    expect(maxAbsDiff(value, want.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want.loss.dataSync()[0])));
    const tokens = tf.tidy(() => {
      const f = model.forwardFeatures(x);
      return tf.concat([tf.expandDims(f.clsToken, 1), f.regTokens, f.patchTokens], 1);
    });
    expect(maxAbsDiff(tokens, want.tokens)).toBeLessThan(TINY_TOKENS);
    // PyTorch's gradients, loaded as weights of a twin model, land in our layout through the one
    // layout conversion (loadStateDict), so they compare key by key with tfjs's gradients.
    const twin = new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, ...arch });
    const torchGrads = Object.fromEntries(Object.entries(want).filter(([k]) => k.startsWith('grad.')).map(([k, t]) => [k.slice(5), t]));
    twin.loadStateDict(torchGrads);
    // Error relative to the largest entry of PyTorch's gradient; a missing gradient fails, except
    // mask_token's, which takes no part in a forward pass (PyTorch's is None, written as zeros).
    const errors: Record<string, number> = {};
    for (const [n, ref] of twin.namedParameters()) {
      const mine = grads[(vars.find(([m]) => m === n) as [string, tf.Variable])[1].name];
      if (n === 'mask_token') {
        expect(mine).toBeUndefined();
        expect(tf.tidy(() => tf.max(tf.abs(ref)).dataSync()[0])).toBe(0);
        continue;
      }
      const scale = tf.tidy(() => tf.max(tf.abs(ref)).dataSync()[0]);
      errors[n] = mine ? maxAbsDiff(mine, ref) / scale : Infinity;
    }
    expectAllBelow(errors, TINY_GRADIENTS);
    tf.dispose([value, tokens, ...Object.values(grads)]);
    disposeStateDict(inputs);
    disposeStateDict(want);
    twin.dispose();
    model.dispose();
  });
});
