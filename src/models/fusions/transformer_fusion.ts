import * as tf from '@tensorflow/tfjs';
import { transformerFusionKeys } from '../../io/key_conventions';
import { LayerNorm } from '../../layers/layer_norm';
import { SlicePositionalEmbedding, type SlicePositionalEmbeddingKind } from '../../layers/slice_positional_embedding';
import { TransformerEncoder } from '../../layers/transformer_encoder';
import { TransformerEncoderLayer } from '../../layers/transformer_encoder_layer';
import { normal } from '../../nn/init';
import { Module } from '../../nn/module';
import type { OnnxGraphBuilder } from '../../onnx/onnx_graph';
import { TO_END, layerNorm, normalisedHeadMean, transformerEncoderLayer } from '../../onnx/onnx_layers';
import { Rng } from '../../utils/rng';
import {
  checkPaddingMask,
  checkSliceFeatures,
  type SliceFusion,
  type SliceFusionCallOptions,
  type SliceFusionGraph,
  type SliceFusionGraphContext,
  type SliceFusionOutput,
} from './slice_fusion';

/** Options of {@link TransformerFusion}. */
export interface TransformerFusionOptions {
  /** Attention heads (default: the authors' rule, see {@link sliceTransformerHeads}). */
  heads?: number;
  /** Encoder layers (default 1, as the original). */
  numLayers?: number;
  /** Feed-forward size (default the width, as the original). */
  dimFeedforward?: number;
  /** Dropout (default 0, as the original). */
  dropout?: number;
  /** Additive slice positional embedding (default 'none'; 'learned' or 'sinusoidal' is the paper's AdPE). */
  positionalEmbedding?: SlicePositionalEmbeddingKind;
  /** Rows of the 'learned' table (default 256, the original's). */
  maxSlices?: number;
}

/** The fewest dimensions per head the 16-head default accepts; below it, the heads must be given. */
export const MIN_DEFAULT_HEAD_DIM = 8;

/**
 * The heads of a slice transformer of width `width`: `heads` when given, else the authors' rule:
 * 12 heads when the width divides by 12 (as on DINOv2's features), else 16 when it divides by 16
 * and each head keeps at least {@link MIN_DEFAULT_HEAD_DIM} dimensions (as on ResNet's 512 and
 * 2048); any other width is an error that names the rule and asks for `heads`.
 *
 * @example
 * sliceTransformerHeads(384); // 12
 * sliceTransformerHeads(512); // 16
 * sliceTransformerHeads(32, 4); // 4 (32 alone would be an error: 16 heads of 2 dimensions)
 */
export function sliceTransformerHeads(width: number, heads?: number): number {
  const rule = width % 12 === 0 ? 12 : width % 16 === 0 && width / 16 >= MIN_DEFAULT_HEAD_DIM ? 16 : undefined;
  const h = heads ?? rule;
  if (h === undefined) {
    throw new Error(
      `TransformerFusion: the slice-feature width ${width} gets no default number of attention heads (the authors' rule: 12 when the width divides by 12, ` +
        `else 16 when it divides by 16 with at least ${MIN_DEFAULT_HEAD_DIM} dimensions per head); give the fusion option 'heads', e.g. ${suggestHeads(width)}`,
    );
  }
  if (!(Number.isInteger(h) && h > 0) || width % h !== 0) throw new Error(`TransformerFusion: heads must divide the width ${width}, got ${JSON.stringify(h)}`);
  return h;
}

function suggestHeads(width: number): string {
  const fits = [8, 4, 2, 1].filter((h) => width % h === 0 && width / h >= 8);
  const h = fits[0] ?? 1;
  return `${h} (${width / h}-d heads)`;
}

/**
 * MST's slice fusion: a learned CLS token prepended to the slice features, an optional additive
 * slice positional embedding, a pre-norm `torch.nn.TransformerEncoder` (ReLU, feed-forward = width,
 * dropout 0, LayerNorm eps 1e-5) with a final LayerNorm; the CLS output is the volume feature.
 * Its own state dict uses the authors' names (`cls_token`, `slice_pos_emb.weight`,
 * `slice_fusion.layers.0.self_attn.in_proj_weight`, ..., `slice_fusion.norm.*`).
 *
 * @example
 * const fusion = new TransformerFusion(384, { heads: 12 });
 * const { pooled, sliceWeights } = fusion.forward(features, undefined, { attention: 'last' }); // [B, 384], [B, D]
 */
export class TransformerFusion extends Module implements SliceFusion {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly providesSliceAttention = true;
  readonly supportsPaddingMask = true;
  /** `[1, 1, E]`. */
  readonly clsToken: tf.Variable;
  readonly slicePosEmb?: SlicePositionalEmbedding;
  readonly transformer: TransformerEncoder;
  /** Attention heads. */
  readonly heads: number;
  /** Its options with defaults resolved (JSON). */
  readonly config: Required<Omit<TransformerFusionOptions, 'maxSlices'>> & { maxSlices?: number };
  private readonly keys = transformerFusionKeys();

  constructor(width: number, options: TransformerFusionOptions = {}, seed = 0) {
    super();
    if (!(Number.isInteger(width) && width > 0)) throw new Error(`TransformerFusion: the width must be a positive integer, got ${width}`);
    const heads = sliceTransformerHeads(width, options.heads);
    const numLayers = options.numLayers ?? 1;
    if (!(Number.isInteger(numLayers) && numLayers > 0)) throw new Error(`TransformerFusion: numLayers must be a positive integer, got ${numLayers}`);
    const dimFeedforward = options.dimFeedforward ?? width;
    const dropout = options.dropout ?? 0;
    const kind = options.positionalEmbedding ?? 'none';
    if (kind !== 'none' && kind !== 'learned' && kind !== 'sinusoidal') {
      throw new Error(`TransformerFusion: positionalEmbedding must be 'none', 'learned' or 'sinusoidal', got ${JSON.stringify(kind)}`);
    }
    this.inputSize = width;
    this.outputSize = width;
    this.heads = heads;
    const rng = new Rng(seed);
    const layers = Array.from(
      { length: numLayers },
      () => new TransformerEncoderLayer(width, heads, { dimFeedforward, dropout, normFirst: true, activation: 'relu', layerNormEps: 1e-5, rng }),
    );
    const transformer = new TransformerEncoder(layers, new LayerNorm(width, 1e-5));
    const posEmb = kind === 'none' ? undefined : new SlicePositionalEmbedding(kind, width, options.maxSlices ?? 256, rng);
    // torch.randn(1, 1, E), as the original's cls_token.
    this.clsToken = this.registerParameter('cls_token', normal([1, 1, width], 1, rng));
    if (posEmb) this.slicePosEmb = this.registerModule('slice_pos_emb', posEmb);
    this.transformer = this.registerModule('transformer', transformer);
    this.config = { heads, numLayers, dimFeedforward, dropout, positionalEmbedding: kind, ...(options.maxSlices !== undefined ? { maxSlices: options.maxSlices } : {}) };
  }

  protected override stateDictKey(path: string): string {
    return this.keys.toOriginal(path);
  }

  protected override slotPath(key: string): string {
    return this.keys.fromOriginal(key);
  }

  forward(features: tf.Tensor, paddingMask?: tf.Tensor, options: SliceFusionCallOptions = {}): SliceFusionOutput {
    checkSliceFeatures('TransformerFusion', features, this.inputSize);
    checkPaddingMask('TransformerFusion', features, paddingMask);
    const level = options.attention ?? 'none';
    const [B, D, E] = features.shape;
    let attentions: tf.Tensor4D[] = [];
    const pooled = tf.tidy(() => {
      let h: tf.Tensor = features;
      if (this.slicePosEmb) h = tf.add(h, this.slicePosEmb.forward(D));
      h = tf.concat([tf.tile(this.clsToken, [B, 1, 1]), h], 1);
      // The CLS token is never padded.
      const mask = paddingMask ? tf.concat([tf.zeros([B, 1], 'bool'), paddingMask], 1) : undefined;
      const r = this.transformer.forward(h, { keyPaddingMask: mask, returnWeights: level !== 'none' });
      attentions = (r.attentions ?? []).map((a) => tf.keep(a));
      return tf.reshape(tf.slice(r.output, [0, 0, 0], [B, 1, E]), [B, E]);
    }) as tf.Tensor2D;
    if (level === 'none') return { pooled };
    if (level === 'last') {
      attentions.slice(0, -1).forEach((a) => a.dispose());
      attentions = attentions.slice(-1);
    }
    const last = attentions[attentions.length - 1];
    // CLS -> slice rows, renormalised per head without the CLS column, then averaged over heads.
    const sliceWeights = tf.tidy(() => {
      const rows = tf.reshape(tf.slice(last, [0, 0, 0, 1], [B, this.heads, 1, D]), [B, this.heads, D]);
      return tf.mean(tf.div(rows, tf.sum(rows, -1, true)), 1);
    }) as tf.Tensor2D;
    return { pooled, sliceWeights, attentions };
  }

  toOnnx(g: OnnxGraphBuilder, features: string, context: SliceFusionGraphContext): SliceFusionGraph {
    const width = this.inputSize;
    let x = features;
    const pe = this.slicePosEmb;
    if (pe) {
      let table: string;
      const numSlices = context.numSlices;
      if (numSlices !== undefined) {
        // A fixed slice count: the table exactly as the tfjs model computes it (learned tables resampled past their rows).
        table = g.computed(`${g.keyOf(pe)}.table_${numSlices}`, () => pe.forward(numSlices), `slice positional embedding of ${numSlices} slices (${pe.kind})`);
      } else if (pe.kind === 'learned') {
        const d = g.op('Slice', [context.batchSlices, g.int64s([1]), g.int64s([2])]);
        table = g.op('Slice', [g.weight(`${g.keyOf(pe)}.weight`, pe.weight as tf.Variable), g.int64s([0]), d, g.int64s([0])]);
      } else {
        table = sinusoidalTableGraph(g, context.batchSlices, width, g.keyOf(pe));
      }
      x = g.op('Add', [x, table]);
    }
    const b = g.op('Slice', [context.batchSlices, g.int64s([0]), g.int64s([1])]);
    const key = g.keyOf(this);
    const cls = g.op('Expand', [g.weight(key ? `${key}.cls_token` : 'cls_token', this.clsToken), g.op('Concat', [b, g.int64s([1, width])], { axis: 0 })]);
    x = g.op('Concat', [cls, x], { axis: 1 });
    let probs = '';
    for (const layer of this.transformer.layers.items) {
      const out = transformerEncoderLayer(g, x, layer);
      x = out.output;
      probs = out.probs;
    }
    // Norms act per token: taking the CLS token first gives the same feature.
    let pooled = g.op('Gather', [x, g.int64s([0], true)], { axis: 1 });
    if (this.transformer.norm) pooled = layerNorm(g, pooled, this.transformer.norm);
    // CLS row without the CLS column: [B, heads, 1, D] -> [B, heads, D]
    const rows = g.op('Reshape', [g.op('Slice', [probs, g.int64s([0, 1]), g.int64s([1, TO_END]), g.int64s([2, 3])]), g.int64s([0, 0, -1])]);
    return { pooled, sliceWeights: normalisedHeadMean(g, rows, 1), headRows: { rows, heads: this.heads } };
  }
}

/** The sinusoidal slice embedding `[D, E]` computed in the graph, so the slice count stays dynamic. */
function sinusoidalTableGraph(g: OnnxGraphBuilder, batchSlices: string, dim: number, key: string): string {
  const d = g.op('Cast', [g.op('Gather', [batchSlices, g.int64s([1], true)], { axis: 0 })], { to: 1 });
  const positions = g.op('Unsqueeze', [g.op('Range', [g.scalar(0), d, g.scalar(1)]), g.int64s([1])]);
  const divisor = new Float32Array(dim);
  const even = new Float32Array(dim);
  const odd = new Float32Array(dim);
  for (let c = 0; c < dim; c++) {
    divisor[c] = Math.pow(10000, (2 * Math.floor(c / 2)) / dim);
    (c % 2 === 0 ? even : odd)[c] = 1;
  }
  const angle = g.op('Div', [positions, g.floats(`${key}.divisor`, divisor, [dim])]);
  const sin = g.op('Mul', [g.op('Sin', [angle]), g.floats(`${key}.even`, even, [dim])]);
  const cos = g.op('Mul', [g.op('Cos', [angle]), g.floats(`${key}.odd`, odd, [dim])]);
  return g.op('Add', [sin, cos]);
}
