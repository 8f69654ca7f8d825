import * as tf from '@tensorflow/tfjs';
import { Module, ModuleList } from '../nn/module';
import { LayerNorm } from './layer_norm';
import { TransformerEncoderLayer } from './transformer_encoder_layer';

/** Options of {@link TransformerEncoder.forward}. */
export interface TransformerEncoderCallOptions {
  /** `[B, T]` bool, true = padded token (PyTorch's `src_key_padding_mask`). */
  keyPaddingMask?: tf.Tensor;
  /** Return each layer's per-head attention probabilities (default false). */
  returnWeights?: boolean;
}

/** What {@link TransformerEncoder.forward} returns. */
export interface TransformerEncoderOutput {
  /** `[B, T, E]`, after the final norm when there is one. */
  output: tf.Tensor3D;
  /** One `[B, heads, T, T]` per layer, first layer first, when asked for. */
  attentions?: tf.Tensor4D[];
}

/**
 * `torch.nn.TransformerEncoder` (batch first): a stack of {@link TransformerEncoderLayer}s under
 * `layers.N.*` and an optional final LayerNorm under `norm.*`.
 *
 * @example
 * const enc = new TransformerEncoder(
 *   [new TransformerEncoderLayer(384, 12, { dimFeedforward: 384, dropout: 0, normFirst: true })],
 *   new LayerNorm(384, 1e-5),
 * );
 * enc.forward(tf.zeros([1, 5, 384])).output.shape; // [1, 5, 384]
 */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm?: LayerNorm;

  constructor(layers: TransformerEncoderLayer[], norm?: LayerNorm) {
    super();
    if (layers.length === 0) throw new Error('TransformerEncoder: expected at least one layer, got 0');
    const width = layers[0].dModel;
    const other = layers.find((l) => l.dModel !== width);
    if (other) throw new Error(`TransformerEncoder: every layer must have width ${width}, got one of width ${other.dModel}`);
    if (norm && norm.normalizedShape !== width) {
      throw new Error(`TransformerEncoder: the final norm must have size ${width}, got ${norm.normalizedShape}`);
    }
    this.layers = this.registerModule('layers', new ModuleList(layers));
    if (norm) this.norm = this.registerModule('norm', norm);
  }

  /** Width `E` of the layers. */
  get dModel(): number {
    return this.layers.items[0].dModel;
  }

  /** `[B, T, E] -> { output: [B, T, E], attentions?: [B, heads, T, T][] }`. */
  forward(x: tf.Tensor, options: TransformerEncoderCallOptions = {}): TransformerEncoderOutput {
    const attentions: tf.Tensor4D[] = [];
    const output = tf.tidy(() => {
      let h = x;
      for (const layer of this.layers.items) {
        const r = layer.forward(h, options);
        if (r.weights) attentions.push(tf.keep(r.weights));
        h = r.output;
      }
      return this.norm ? this.norm.forward(h) : h;
    }) as tf.Tensor3D;
    return options.returnWeights ? { output, attentions } : { output };
  }
}
