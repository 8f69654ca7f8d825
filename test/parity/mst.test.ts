import * as tf from '@tensorflow/tfjs';
import { loadSafetensors } from '../../src/io/safetensors';
import { gelu } from '../../src/layers/gelu';
import { LayerNorm } from '../../src/layers/layer_norm';
import { Linear } from '../../src/layers/linear';
import { MedicalSliceTransformer, type MedicalSliceTransformerOptions } from '../../src/models/medical_slice_transformer';
import type { EncodeOptions, SliceEncoder, SliceEncoding } from '../../src/models/slice_encoder';
import { disposeStateDict, Module, type StateDict } from '../../src/nn/module';
import { stateDictFromSpecFile } from '../fixture_weights';
import { fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/mst_ref.py (the authors' DinoV2ClassifierSlice
// rewritten on torch's own transformer modules).

/** Twin of mst_ref.py's StandInEncoder: per-pixel Linear(3, F), GELU, spatial mean, LayerNorm. */
class StandInEncoder extends Module implements SliceEncoder {
  readonly inChannels = 3;
  readonly proj: Linear;
  readonly norm: LayerNorm;

  constructor(readonly featureSize: number) {
    super();
    this.proj = this.registerModule('proj', new Linear(3, featureSize));
    this.norm = this.registerModule('norm', new LayerNorm(featureSize, 1e-6));
  }

  encode(images: tf.Tensor4D, _options: EncodeOptions = {}): SliceEncoding {
    return { features: tf.tidy(() => this.norm.forward(tf.mean(gelu(this.proj.forward(images)), [1, 2]))) as tf.Tensor2D };
  }
}

function standInMst(name: string, options: Partial<MedicalSliceTransformerOptions> = {}): MedicalSliceTransformer {
  const model = new MedicalSliceTransformer({ encoder: new StandInEncoder(48), numClasses: 3, ...options });
  const sd = stateDictFromSpecFile('mst', `mst_standin_${name}.json`);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model.eval();
}

describe('MedicalSliceTransformer equals DinoV2ClassifierSlice (stand-in encoder)', () => {
  let ref: StateDict;
  beforeAll(async () => {
    ref = await loadSafetensors(fixturePath('mst', 'mst_standin.safetensors'));
  });
  afterAll(() => disposeStateDict(ref));

  it.each([
    ['transformer', {}],
    ['bottleneck', { bottleneck: true }],
    ['linear', { sliceFusion: 'linear', numSlices: 4 }],
    ['average', { sliceFusion: 'average' }],
  ] as const)('%s fusion: logits to 1e-4, no tensor left behind', (name, options) => {
    const model = standInMst(name, options);
    const before = tf.memory().numTensors;
    const { logits } = model.forward(ref.x);
    expect(logits.shape).toEqual([2, 3]);
    expect(maxAbsDiff(logits, ref[`${name}.logits`])).toBeLessThan(1e-4);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('ignores padded slices and returns the slice attention per head', () => {
    const model = standInMst('transformer');
    const before = tf.memory().numTensors;
    const mask = tf.cast(ref.mask, 'bool');
    const masked = model.forward(ref.x, { keyPaddingMask: mask });
    expect(maxAbsDiff(masked.logits, ref['transformer.logits_masked'])).toBeLessThan(1e-4);
    const out = model.forward(ref.x, { attention: true });
    expect(out.sliceAttention?.shape).toEqual([2, 12, 5, 5]);
    expect(maxAbsDiff(out.sliceAttention as tf.Tensor, ref['transformer.slice_attention'])).toBeLessThan(1e-5);
    expect(out.encoderAttentions).toBeUndefined();
    tf.dispose([mask, masked.logits, out.logits, out.sliceAttention as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("one training step's gradients of every parameter equal PyTorch's to 1e-4 relative", () => {
    const model = standInMst('transformer').train();
    const before = tf.memory().numTensors;
    const labels = tf.tidy(() => tf.oneHot(tf.cast(ref.labels, 'int32'), 3));
    const { value: loss, grads } = tf.variableGrads(() => {
      const { logits } = model.forward(ref.x);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
    expect(maxAbsDiff(loss, ref['transformer.loss'])).toBeLessThan(1e-5);
    // The PyTorch gradients loaded into a twin model come out in our layout, key by key.
    const twin = new MedicalSliceTransformer({ encoder: new StandInEncoder(48), numClasses: 3 });
    const refGrads: StateDict = {};
    for (const key of twin.stateDictKeys()) refGrads[key] = ref[`grad.${key}`];
    twin.loadStateDict(refGrads);
    const named = new Map(model.namedParameters().map(([k, v]) => [v.name, k]));
    const twinParams = new Map(twin.namedParameters());
    const errors: Record<string, number> = {};
    for (const [varName, g] of Object.entries(grads)) {
      const key = named.get(varName) as string;
      const want = twinParams.get(key) as tf.Variable;
      errors[key] = tf.tidy(() => tf.div(tf.norm(tf.sub(g, want)), tf.norm(want)).arraySync() as number);
    }
    expect(Object.keys(errors).sort()).toEqual(model.stateDictKeys().sort());
    expect(Object.entries(errors).filter(([, e]) => !(e < 1e-4))).toEqual([]);
    twin.dispose();
    tf.dispose([loss, labels, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('has the state-dict keys of the authors’ variants', () => {
    const keys = (options: Partial<MedicalSliceTransformerOptions>) => {
      const m = new MedicalSliceTransformer({ encoder: new StandInEncoder(48), numClasses: 2, ...options });
      const k = m.stateDictKeys();
      m.dispose();
      return k;
    };
    expect(keys({})).toEqual([
      'cls_token',
      'encoder.proj.weight',
      'encoder.proj.bias',
      'encoder.norm.weight',
      'encoder.norm.bias',
      ...[
        'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
        'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
        'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
      ].map((k) => `slice_fusion.layers.0.${k}`),
      'slice_fusion.norm.weight',
      'slice_fusion.norm.bias',
      'linear.weight',
      'linear.bias',
    ]);
    expect(keys({ bottleneck: true, positionalEmbedding: 'learned' })).toEqual(expect.arrayContaining(['bottleneck.weight', 'slice_pos_emb.weight']));
    expect(keys({ sliceFusion: 'average' })).toEqual(['encoder.proj.weight', 'encoder.proj.bias', 'encoder.norm.weight', 'encoder.norm.bias', 'linear.weight', 'linear.bias']);
    expect(keys({ encoderName: 'model', sliceFusion: 'average' })[0]).toBe('model.proj.weight');
  });
});
