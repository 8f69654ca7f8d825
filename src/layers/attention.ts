import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { Linear } from './linear';
import { scaledDotProductAttention } from '../ops/attention';
import { linear } from '../ops/linear';
import { leanReshape } from '../ops/lean_shape';
import { assertRank } from '../utils/check';
import type { Rng } from '../utils/rng';

/** Options of {@link Attention}. */
export interface AttentionOptions {
  /** Token width E; must be divisible by `numHeads`. */
  dim: number;
  numHeads: number;
  /** Bias on the packed q, k, v projection (DINOv2: true). */
  qkvBias?: boolean;
  /** Bias on the output projection (default true). */
  projBias?: boolean;
  /** Seed source for the initial weights. */
  rng?: Rng;
}

/** Output of {@link Attention.forward}. */
export interface AttentionOutput {
  /** `[N, T, E]`. */
  output: tf.Tensor3D;
  /** Per-head attention probabilities `[N, heads, T, T]`, when asked for. */
  weights?: tf.Tensor4D;
}

/**
 * ViT multi-head self-attention as DINOv2's and timm's `Attention`: one packed `qkv` Linear
 * (`[3E, E]` in the state dict, output ordered q, k, v and head-major within each), scale
 * `headDim^-0.5`, softmax over keys, then `proj`. Returns the per-head attention probabilities
 * when asked, so attention maps need no hooks.
 *
 * @example
 * const attn = new Attention({ dim: 384, numHeads: 6, qkvBias: true });
 * const { output, weights } = attn.forward(tf.zeros([2, 257, 384]) as tf.Tensor3D, { returnWeights: true });
 * weights?.shape; // [2, 6, 257, 257]
 */
export class Attention extends Module {
  readonly dim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly qkv: Linear;
  readonly proj: Linear;

  constructor(options: AttentionOptions) {
    super();
    const { dim, numHeads } = options;
    if (!(numHeads > 0) || dim % numHeads !== 0) {
      throw new Error(`Attention: expected dim divisible by numHeads, got dim ${dim} and numHeads ${numHeads}`);
    }
    this.dim = dim;
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    this.qkv = this.registerModule('qkv', new Linear(dim, 3 * dim, { bias: options.qkvBias ?? false, rng: options.rng }));
    this.proj = this.registerModule('proj', new Linear(dim, dim, { bias: options.projBias ?? true, rng: options.rng }));
  }

  /** `[N, T, E] -> [N, T, E]`, plus `[N, heads, T, T]` probabilities when `returnWeights`. */
  forward(x: tf.Tensor3D, options: { returnWeights?: boolean } = {}): AttentionOutput {
    assertRank('Attention', x.shape, [3], 'tokens [N, T, E]');
    const [n, t, e] = x.shape;
    if (e !== this.dim) throw new Error(`Attention: expected tokens [N, T, ${this.dim}], got [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      // q, k and v as three projections by column blocks of the packed [E, 3E] weight, each
      // [N, T, heads, d] -> [N, heads, T, d]: slicing the small weight (and padding its gradient)
      // costs less on wasm than a rank-5 transpose of the packed [N, T, 3, heads, d] activations,
      // and far less than splitting them on the last axis (SplitV copies strided rows).
      const [q, k, v] = [0, 1, 2].map((part) => {
        const w = tf.slice(this.qkv.weight, [0, part * e], [e, e]) as tf.Tensor2D;
        const b = this.qkv.bias ? (tf.slice(this.qkv.bias, [part * e], [e]) as tf.Tensor1D) : undefined;
        const y = leanReshape(linear(x, w, b), [n, t, this.numHeads, this.headDim]);
        return tf.transpose(y, [0, 2, 1, 3]) as tf.Tensor4D;
      });
      const res = scaledDotProductAttention(q, k, v, { returnWeights: options.returnWeights });
      // [N, heads, T, d] -> [N, T, heads, d] -> [N, T, E]
      const merged = leanReshape(tf.transpose(res.output, [0, 2, 1, 3]), [n, t, e]);
      const output = this.proj.forward(merged) as tf.Tensor3D;
      return res.weights ? { output, weights: res.weights } : { output };
    });
  }
}
