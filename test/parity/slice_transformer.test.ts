import * as tf from '@tensorflow/tfjs';
import { loadSafetensors } from '../../src/io/safetensors';
import { MultiheadAttention } from '../../src/layers/multihead_attention';
import { TransformerEncoderLayer } from '../../src/layers/transformer_encoder_layer';
import { TransformerFusion } from '../../src/models/fusions/transformer_fusion';
import { disposeStateDict, type Module, type StateDict } from '../../src/nn/module';
import { stateDictFromSpecFile } from '../fixture_weights';
import { fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/mst_ref.py (torch.nn.MultiheadAttention,
// TransformerEncoderLayer and TransformerEncoder themselves).

function load<M extends Module>(model: M, spec: string): M {
  const sd = stateDictFromSpecFile('mst', spec);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model.eval();
}

const asMask = (t: tf.Tensor): tf.Tensor => tf.cast(t, 'bool');

describe('MultiheadAttention equals torch.nn.MultiheadAttention', () => {
  let ref: StateDict;
  let mha: MultiheadAttention;
  beforeAll(async () => {
    ref = await loadSafetensors(fixturePath('mst', 'mha.safetensors'));
    mha = load(new MultiheadAttention(48, 12), 'mha.json');
  });
  afterAll(() => {
    disposeStateDict(ref);
    mha.dispose();
  });

  it('matches outputs to 1e-5 and per-head weights to 5e-6 in self-attention', () => {
    const before = tf.memory().numTensors;
    const { output, weights } = mha.forward(ref.x, { returnWeights: true });
    expect(weights?.shape).toEqual([2, 12, 7, 7]);
    expect(maxAbsDiff(output, ref.out)).toBeLessThan(1e-5);
    expect(maxAbsDiff(weights as tf.Tensor, ref.weights)).toBeLessThan(5e-6);
    // The reference weights are far from uniform (1/7), so the test sees real attention.
    expect(tf.tidy(() => tf.mean(tf.max(ref.weights, -1)).arraySync() as number)).toBeGreaterThan(0.5);
    tf.dispose([output, weights as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ignores padded keys exactly as key_padding_mask does', () => {
    const mask = asMask(ref.mask);
    const { output, weights } = mha.forward(ref.x, { keyPaddingMask: mask, returnWeights: true });
    expect(maxAbsDiff(output, ref.out_masked)).toBeLessThan(1e-5);
    expect(maxAbsDiff(weights as tf.Tensor, ref.weights_masked)).toBeLessThan(5e-6);
    // Padded keys of the second sequence get exactly zero weight.
    const padded = tf.tidy(() => tf.sum(tf.slice(weights as tf.Tensor, [1, 0, 0, 5], [1, 12, 7, 2])).arraySync() as number);
    expect(padded).toBe(0);
    tf.dispose([mask, output, weights as tf.Tensor]);
  });

  it('attends to separate keys and values with the packed projection split in three', () => {
    const { output, weights } = mha.forward(ref.x, { key: ref.kv, value: ref.kv, returnWeights: true });
    expect(weights?.shape).toEqual([2, 12, 7, 9]);
    expect(maxAbsDiff(output, ref.out_kv)).toBeLessThan(1e-5);
    expect(maxAbsDiff(weights as tf.Tensor, ref.weights_kv)).toBeLessThan(5e-6);
    tf.dispose([output, weights as tf.Tensor]);
  });

  it('keeps PyTorch names and shapes', () => {
    expect(mha.stateDictShapes()).toEqual({
      in_proj_weight: [144, 48],
      in_proj_bias: [144],
      'out_proj.weight': [48, 48],
      'out_proj.bias': [48],
    });
  });
});

describe('TransformerEncoderLayer equals torch.nn.TransformerEncoderLayer', () => {
  let ref: StateDict;
  beforeAll(async () => {
    ref = await loadSafetensors(fixturePath('mst', 'encoder_layer.safetensors'));
  });
  afterAll(() => disposeStateDict(ref));

  it.each([
    ['post_relu', 4, 80, 'relu', false],
    ['pre_gelu', 16, 48, 'gelu', true],
  ] as const)('%s: outputs to 1e-5, masked attention to 5e-6', (name, heads, ff, activation, normFirst) => {
    const layer = load(new TransformerEncoderLayer(48, heads, { dimFeedforward: ff, dropout: 0, activation, normFirst }), `encoder_layer_${name}.json`);
    const before = tf.memory().numTensors;
    const x = ref[`${name}.x`];
    const mask = asMask(ref[`${name}.mask`]);
    const plain = layer.forward(x);
    const masked = layer.forward(x, { keyPaddingMask: mask, returnWeights: true });
    expect(maxAbsDiff(plain.output, ref[`${name}.out`])).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.output, ref[`${name}.out_masked`])).toBeLessThan(1e-5);
    expect(maxAbsDiff(masked.weights as tf.Tensor, ref[`${name}.weights_masked`])).toBeLessThan(5e-6);
    tf.dispose([mask, plain.output, masked.output, masked.weights as tf.Tensor]);
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
  });
});

describe('TransformerFusion equals the slice fusion of DinoV2ClassifierSlice', () => {
  let ref: StateDict;
  beforeAll(async () => {
    ref = await loadSafetensors(fixturePath('mst', 'slice_transformer.safetensors'));
  });
  afterAll(() => disposeStateDict(ref));

  it.each([
    ['plain', 'none'],
    ['pos_emb', 'learned'],
  ] as const)('%s: CLS features to 1e-5 and attention to 5e-6, with and without a key padding mask', (name, positionalEmbedding) => {
    const st = load(new TransformerFusion(48, { heads: 12, positionalEmbedding }), `slice_transformer_${name}.json`);
    const before = tf.memory().numTensors;
    const x = ref[`${name}.x`];
    const mask = asMask(ref[`${name}.mask`]);
    const plain = st.forward(x, undefined, { attention: 'last' });
    const masked = st.forward(x, mask, { attention: 'all' });
    expect(plain.pooled.shape).toEqual([2, 48]);
    expect(plain.attentions?.map((a) => a.shape)).toEqual([[2, 12, 6, 6]]);
    expect(maxAbsDiff(plain.pooled, ref[`${name}.features`])).toBeLessThan(1e-5);
    expect(maxAbsDiff((plain.attentions as tf.Tensor[])[0], ref[`${name}.weights`])).toBeLessThan(5e-6);
    expect(maxAbsDiff(masked.pooled, ref[`${name}.features_masked`])).toBeLessThan(1e-5);
    expect(maxAbsDiff((masked.attentions as tf.Tensor[])[0], ref[`${name}.weights_masked`])).toBeLessThan(5e-6);
    tf.dispose([mask, plain.pooled, masked.pooled, plain.sliceWeights as tf.Tensor, masked.sliceWeights as tf.Tensor, ...(plain.attentions ?? []), ...(masked.attentions ?? [])]);
    expect(tf.memory().numTensors).toBe(before);
    st.dispose();
  });

  it('has the keys of the authors’ classes', () => {
    const st = new TransformerFusion(48, { heads: 12, positionalEmbedding: 'learned' });
    expect(st.stateDictKeys()).toEqual([
      'cls_token',
      'slice_pos_emb.weight',
      'slice_fusion.layers.0.self_attn.in_proj_weight',
      'slice_fusion.layers.0.self_attn.in_proj_bias',
      'slice_fusion.layers.0.self_attn.out_proj.weight',
      'slice_fusion.layers.0.self_attn.out_proj.bias',
      'slice_fusion.layers.0.linear1.weight',
      'slice_fusion.layers.0.linear1.bias',
      'slice_fusion.layers.0.linear2.weight',
      'slice_fusion.layers.0.linear2.bias',
      'slice_fusion.layers.0.norm1.weight',
      'slice_fusion.layers.0.norm1.bias',
      'slice_fusion.layers.0.norm2.weight',
      'slice_fusion.layers.0.norm2.bias',
      'slice_fusion.norm.weight',
      'slice_fusion.norm.bias',
    ]);
    st.dispose();
  });
});
