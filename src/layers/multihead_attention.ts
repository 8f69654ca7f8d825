import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault, xavierUniform } from '../nn/init';
import { linear } from '../ops/linear';
import { keyPaddingBias, scaledDotProductAttention } from '../ops/attention';
import { batchMatMul } from '../ops/batch_matmul';
import { assertFloat32, assertRank, assertShape } from '../utils/check';
import { Rng } from '../utils/rng';
import { Linear } from './linear';

/** Options of {@link MultiheadAttention}. */
export interface MultiheadAttentionOptions {
  /** Learned input and output projection biases (default true), as PyTorch's `bias`. */
  bias?: boolean;
  /** Dropout probability on the attention weights while training (default 0). */
  dropout?: number;
  /** Seed source for initialisation and dropout (default `new Rng(0)`). */
  rng?: Rng;
}

/** Options of {@link MultiheadAttention.forward}. */
export interface MultiheadAttentionCallOptions {
  /** Keys `[B, S, E]`; defaults to the query (self-attention). */
  key?: tf.Tensor;
  /** Values `[B, S, E]`; defaults to the keys. */
  value?: tf.Tensor;
  /** `[B, S]` bool: true marks a key to ignore, as PyTorch's `key_padding_mask`. */
  keyPaddingMask?: tf.Tensor;
  /** Return the per-head attention probabilities `[B, heads, T, S]` (default false). */
  returnWeights?: boolean;
}

/** What {@link MultiheadAttention.forward} returns. */
export interface MultiheadAttentionOutput {
  /** `[B, T, E]`. */
  output: tf.Tensor3D;
  /** Per-head softmax probabilities `[B, heads, T, S]` (PyTorch's `average_attn_weights=False`). */
  weights?: tf.Tensor4D;
}

/**
 * `torch.nn.MultiheadAttention` with `batch_first=True` and equal query/key/value sizes. Keys:
 * `in_proj_weight` `[3E, E]` (q, k, v stacked; held as `[E, 3E]` internally), `in_proj_bias`
 * `[3E]`, `out_proj.weight`, `out_proj.bias`. Per-head weights are returned on request, so
 * explanations need no hooks.
 *
 * @example
 * const mha = new MultiheadAttention(384, 12);
 * const { output, weights } = mha.forward(x, { returnWeights: true }); // [B, T, 384], [B, 12, T, T]
 */
export class MultiheadAttention extends Module {
  /** `[E, 3E]` (PyTorch's `[3E, E]` in the state dict). */
  readonly inProjWeight: tf.Variable;
  readonly inProjBias?: tf.Variable;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  private readonly rng: Rng;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    if (!(Number.isInteger(embedDim) && embedDim > 0 && Number.isInteger(numHeads) && numHeads > 0) || embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: embedDim must be a positive multiple of numHeads, got embedDim ${embedDim} and numHeads ${numHeads}`);
    }
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`MultiheadAttention: dropout must lie in [0, 1), got ${this.dropout}`);
    this.headDim = embedDim / numHeads;
    this.rng = rngOrDefault(options.rng);
    const bias = options.bias ?? true;
    // PyTorch: xavier_uniform_ on the [3E, E] weight, zero biases, default Linear init for out_proj.weight.
    this.inProjWeight = this.registerParameter('in_proj_weight', xavierUniform([embedDim, 3 * embedDim], embedDim, 3 * embedDim, this.rng), 'linear');
    if (bias) this.inProjBias = this.registerParameter('in_proj_bias', tf.zeros([3 * embedDim]));
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias, rng: this.rng }));
    if (bias) tf.tidy(() => (this.outProj.bias as tf.Variable).assign(tf.zeros([embedDim])));
  }

  /** `[B, T, E] -> { output: [B, T, E], weights?: [B, heads, T, S] }`. */
  forward(query: tf.Tensor, options: MultiheadAttentionCallOptions = {}): MultiheadAttentionOutput {
    const key = options.key ?? query;
    const value = options.value ?? key;
    const E = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      assertRank(`MultiheadAttention ${name}`, t.shape, [3], '[B, T, E]');
      assertFloat32(`MultiheadAttention ${name}`, t.dtype);
      if (t.shape[2] !== E) throw new Error(`MultiheadAttention: expected ${name} of shape [B, T, ${E}], got [${t.shape.join(', ')}]`);
    }
    const [B, T] = query.shape as [number, number, number];
    const S = key.shape[1] as number;
    if (key.shape[0] !== B || value.shape[0] !== B || value.shape[1] !== S) {
      throw new Error(`MultiheadAttention: query [${query.shape}], key [${key.shape}] and value [${value.shape}] disagree on batch or length`);
    }
    const mask = options.keyPaddingMask;
    if (mask) {
      assertShape('MultiheadAttention keyPaddingMask', mask.shape, [B, S]);
      if (mask.dtype !== 'bool') throw new Error(`MultiheadAttention: keyPaddingMask must be bool (true = ignore), got ${mask.dtype}`);
    }
    const dropSeed = this.training && this.dropout > 0 ? this.rng.nextUint32() : undefined;
    const result = tf.tidy(() => {
      const [q, k, v] = this.project(query, key, value);
      // PyTorch turns a bool key padding mask into an additive -inf mask over the key axis.
      const bias = mask ? keyPaddingBias(mask as tf.Tensor2D) : undefined;
      const returnWeights = options.returnWeights ?? false;
      const attn = scaledDotProductAttention(q, k, v, { mask: bias, returnWeights: returnWeights || dropSeed !== undefined });
      // Dropout acts on the probabilities (the returned weights stay undropped, as PyTorch's are not).
      const heads =
        dropSeed === undefined ? attn.output : (batchMatMul(tf.dropout(attn.weights as tf.Tensor4D, this.dropout, undefined, dropSeed), v) as tf.Tensor4D);
      // [B, heads, T, hd] -> [B, T, E]
      const merged = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [B, T, E]);
      const output = this.outProj.forward(merged) as tf.Tensor3D;
      return returnWeights ? { output, weights: attn.weights as tf.Tensor4D } : { output };
    });
    return result as MultiheadAttentionOutput;
  }

  /** Packed input projection, split into heads: three `[B, heads, L, hd]`. */
  private project(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
    const E = this.embedDim;
    const heads = (x: tf.Tensor): tf.Tensor4D => {
      const [B, L] = x.shape;
      return tf.transpose(tf.reshape(x, [B, L, this.numHeads, this.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
    };
    if (query === key && key === value) {
      const qkv = linear(query, this.inProjWeight as tf.Tensor2D, this.inProjBias as tf.Tensor1D | undefined);
      const [q, k, v] = tf.split(qkv, 3, -1);
      return [heads(q), heads(k), heads(v)];
    }
    const w = tf.split(this.inProjWeight, 3, 1) as tf.Tensor2D[];
    const b = this.inProjBias ? (tf.split(this.inProjBias, 3) as tf.Tensor1D[]) : [undefined, undefined, undefined];
    return [
      heads(linear(query, w[0], b[0])),
      heads(linear(key, w[1], b[1])),
      heads(linear(value, w[2], b[2])),
    ];
  }
}
