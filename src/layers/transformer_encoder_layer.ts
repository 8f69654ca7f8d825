import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault } from '../nn/init';
import { Rng } from '../utils/rng';
import { gelu } from './gelu';
import { LayerNorm } from './layer_norm';
import { Linear } from './linear';
import { MultiheadAttention } from './multihead_attention';

/** Options of {@link TransformerEncoderLayer}; defaults are PyTorch's. */
export interface TransformerEncoderLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default 'relu'); 'gelu' is the exact erf GELU as PyTorch's. */
  activation?: 'relu' | 'gelu';
  /** LayerNorm eps (default 1e-5). */
  layerNormEps?: number;
  /** Pre-norm (`x + f(norm(x))`) instead of post-norm (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers and attention projections (default true). */
  bias?: boolean;
  /** Seed source for initialisation and dropout (default `new Rng(0)`). */
  rng?: Rng;
}

/** Options of {@link TransformerEncoderLayer.forward}. */
export interface TransformerEncoderLayerCallOptions {
  /** `[B, T]` bool, true = padded token that no token attends to. */
  keyPaddingMask?: tf.Tensor;
  /** Return the per-head attention probabilities `[B, heads, T, T]` (default false). */
  returnWeights?: boolean;
}

/** What a transformer encoder layer returns. */
export interface TransformerEncoderLayerOutput {
  /** `[B, T, E]`. */
  output: tf.Tensor3D;
  /** `[B, heads, T, T]` when asked for. */
  weights?: tf.Tensor4D;
}

/**
 * `torch.nn.TransformerEncoderLayer` with `batch_first=True`. Keys `self_attn.*` (see
 * {@link MultiheadAttention}), `linear1`, `linear2`, `norm1`, `norm2`.
 *
 * @example
 * // The MST slice-fusion layer: pre-norm, feed-forward = d_model, no dropout.
 * const layer = new TransformerEncoderLayer(384, 12, { dimFeedforward: 384, dropout: 0, normFirst: true });
 * layer.forward(tf.zeros([2, 33, 384])).output.shape; // [2, 33, 384]
 */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly normFirst: boolean;
  readonly activation: 'relu' | 'gelu';
  readonly dropout: number;
  private readonly rng: Rng;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const dimFeedforward = options.dimFeedforward ?? 2048;
    if (!(Number.isInteger(dimFeedforward) && dimFeedforward > 0)) {
      throw new Error(`TransformerEncoderLayer: dimFeedforward must be a positive integer, got ${dimFeedforward}`);
    }
    this.dropout = options.dropout ?? 0.1;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new Error(`TransformerEncoderLayer: dropout must lie in [0, 1), got ${this.dropout}`);
    this.activation = options.activation ?? 'relu';
    if (this.activation !== 'relu' && this.activation !== 'gelu') {
      throw new Error(`TransformerEncoderLayer: activation must be 'relu' or 'gelu', got '${String(this.activation)}'`);
    }
    this.normFirst = options.normFirst ?? false;
    const eps = options.layerNormEps ?? 1e-5;
    const bias = options.bias ?? true;
    this.rng = rngOrDefault(options.rng);
    this.selfAttn = this.registerModule('self_attn', new MultiheadAttention(dModel, nhead, { bias, dropout: this.dropout, rng: this.rng }));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, dimFeedforward, { bias, rng: this.rng }));
    this.linear2 = this.registerModule('linear2', new Linear(dimFeedforward, dModel, { bias, rng: this.rng }));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, eps));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, eps));
  }

  /** `[B, T, E] -> { output: [B, T, E], weights?: [B, heads, T, T] }`. */
  forward(x: tf.Tensor, options: TransformerEncoderLayerCallOptions = {}): TransformerEncoderLayerOutput {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(`TransformerEncoderLayer: expected input [B, T, ${this.dModel}], got [${x.shape.join(', ')}]`);
    }
    let weights: tf.Tensor4D | undefined;
    const output = tf.tidy(() => {
      const selfAttention = (h: tf.Tensor): tf.Tensor => {
        const r = this.selfAttn.forward(h, { keyPaddingMask: options.keyPaddingMask, returnWeights: options.returnWeights });
        if (r.weights) weights = tf.keep(r.weights);
        return this.drop(r.output);
      };
      const feedForward = (h: tf.Tensor): tf.Tensor => {
        const hidden = this.linear1.forward(h);
        const act = this.activation === 'gelu' ? gelu(hidden) : tf.relu(hidden);
        return this.drop(this.linear2.forward(this.drop(act)));
      };
      if (this.normFirst) {
        const h = tf.add(x, selfAttention(this.norm1.forward(x)));
        return tf.add(h, feedForward(this.norm2.forward(h)));
      }
      const h = this.norm1.forward(tf.add(x, selfAttention(x)));
      return this.norm2.forward(tf.add(h, feedForward(h)));
    }) as tf.Tensor3D;
    return weights ? { output, weights } : { output };
  }

  /** Seeded dropout while training; the identity otherwise. */
  private drop(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.dropout === 0) return x;
    return tf.dropout(x, this.dropout, undefined, this.rng.nextUint32());
  }
}
