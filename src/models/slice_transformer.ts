import * as tf from '@tensorflow/tfjs';
import { LayerNorm } from '../layers/layer_norm';
import { TransformerEncoder } from '../layers/transformer_encoder';
import { TransformerEncoderLayer } from '../layers/transformer_encoder_layer';
import { Module } from '../nn/module';
import { normal } from '../nn/init';
import { batchMatMul } from '../ops/batch_matmul';
import { Rng } from '../utils/rng';

/**
 * Additive slice positional embedding (the paper's Table 2 "AdPE"), added to the slice features
 * before the CLS token is prepended:
 * - `none`: no embedding (the published models).
 * - `learned`: the original's `nn.Embedding(maxSlices, E)` (key `slice_pos_emb.weight`, N(0, 1)
 *   init). Volumes of up to `maxSlices` slices use rows `0..D-1` exactly as the original, so its
 *   checkpoints load and behave the same; longer volumes, which the original cannot take, use the
 *   table resampled to `D` rows by linear interpolation with the end rows fixed (align corners).
 * - `sinusoidal`: the fixed sine/cosine table of "Attention is all you need" (no parameters, no
 *   slice cap).
 */
export type SlicePositionalEmbeddingKind = 'none' | 'learned' | 'sinusoidal';

/** Which attention maps to return: `true` is `'last'`. */
export type SliceAttentionRequest = boolean | 'none' | 'last' | 'all';

/**
 * The slice positional embedding of {@link SlicePositionalEmbeddingKind}: `D -> [D, E]`.
 *
 * @example
 * new SlicePositionalEmbedding('sinusoidal', 384).forward(32).shape; // [32, 384]
 */
export class SlicePositionalEmbedding extends Module {
  /** `[maxSlices, E]` for `learned`. */
  readonly weight?: tf.Variable;

  constructor(
    readonly kind: Exclude<SlicePositionalEmbeddingKind, 'none'>,
    readonly dim: number,
    readonly maxSlices = 256,
    rng: Rng = new Rng(0),
  ) {
    super();
    if (kind !== 'learned' && kind !== 'sinusoidal') {
      throw new Error(`SlicePositionalEmbedding: expected 'learned' or 'sinusoidal', got '${String(kind)}'`);
    }
    if (!(Number.isInteger(maxSlices) && maxSlices > 0)) throw new Error(`SlicePositionalEmbedding: maxSlices must be a positive integer, got ${maxSlices}`);
    if (kind === 'learned') this.weight = this.registerParameter('weight', normal([maxSlices, dim], 1, rng));
  }

  /** The embedding of slices `0..numSlices-1`, `[numSlices, E]`. */
  forward(numSlices: number): tf.Tensor2D {
    if (!(Number.isInteger(numSlices) && numSlices > 0)) throw new Error(`SlicePositionalEmbedding: expected a positive slice count, got ${numSlices}`);
    if (this.kind === 'sinusoidal') return sinusoidalTable(numSlices, this.dim);
    const table = this.weight as tf.Variable;
    if (numSlices <= this.maxSlices) return tf.slice(table, [0, 0], [numSlices, this.dim]) as tf.Tensor2D;
    return tf.tidy(() => batchMatMul(linearResampleMatrix(this.maxSlices, numSlices), table)) as tf.Tensor2D;
  }
}

/** `[n, dim]` with `sin(p w_i)` in even and `cos(p w_i)` in odd columns, `w_i = 10000^(-2i/dim)`. */
function sinusoidalTable(n: number, dim: number): tf.Tensor2D {
  const data = new Float32Array(n * dim);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < dim; c++) {
      const angle = p / Math.pow(10000, (2 * Math.floor(c / 2)) / dim);
      data[p * dim + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return tf.tensor2d(data, [n, dim]);
}

/** `[to, from]` matrix of linear interpolation weights with both end rows kept (align corners). */
function linearResampleMatrix(from: number, to: number): tf.Tensor2D {
  const m = new Float32Array(to * from);
  for (let i = 0; i < to; i++) {
    const x = to === 1 ? 0 : (i * (from - 1)) / (to - 1);
    const lo = Math.min(Math.floor(x), from - 1);
    const hi = Math.min(lo + 1, from - 1);
    const t = x - lo;
    m[i * from + lo] += 1 - t;
    m[i * from + hi] += t;
  }
  return tf.tensor2d(m, [to, from]);
}

/** Options of {@link SliceTransformer}. */
export interface SliceTransformerOptions {
  /** Width of the slice features `E` (384 for DINOv2-S, 512 for ResNet-18). */
  dModel: number;
  /** Attention heads (the original: 12 on DINOv2 features, 16 on ResNet features). */
  heads: number;
  /** Encoder layers (default 1, as the original). */
  numLayers?: number;
  /** Feed-forward size (default `dModel`, as the original). */
  dimFeedforward?: number;
  /** Dropout (default 0, as the original). */
  dropout?: number;
  /** Additive slice positional embedding (default 'none'). */
  positionalEmbedding?: SlicePositionalEmbeddingKind;
  /** Rows of the `learned` table (default 256, the original's). */
  maxSlices?: number;
  /** Seed of the initialisation and dropout (default 0). */
  seed?: number;
}

/** Options of {@link SliceTransformer.forward}. */
export interface SliceTransformerCallOptions {
  /** `[B, D]` bool, true = padded slice to ignore (volumes with fewer slices than `D`). */
  keyPaddingMask?: tf.Tensor;
  /** `true`/'last': the last layer's attention probabilities; 'all': every layer's. */
  attention?: SliceAttentionRequest;
}

/** What the slice transformer returns. */
export interface SliceTransformerOutput {
  /** The CLS token after the final norm, `[B, E]`. */
  features: tf.Tensor2D;
  /**
   * Per-head attention probabilities `[B, heads, 1 + D, 1 + D]` (token 0 is CLS; row 0 is the
   * CLS -> slice attention): the last layer's for 'last', every layer's (first first) for 'all'.
   */
  attentions?: tf.Tensor4D[];
}

/** The parts of a slice transformer, held by {@link SliceTransformer} and by MST under the same keys. */
export interface SliceTransformerParts {
  /** `cls_token`, `[1, 1, E]`. */
  readonly clsToken: tf.Variable;
  /** `slice_pos_emb`, when a positional embedding is used. */
  readonly slicePosEmb?: SlicePositionalEmbedding;
  /** `slice_fusion`: `layers.N.*` and the final `norm`. */
  readonly sliceFusion: TransformerEncoder;
}

/** Freshly initialised parts; the caller registers them (see {@link SliceTransformer}). */
export function createSliceTransformerParts(options: SliceTransformerOptions): {
  clsToken: tf.Tensor;
  slicePosEmb?: SlicePositionalEmbedding;
  sliceFusion: TransformerEncoder;
} {
  const { dModel, heads } = options;
  if (!(Number.isInteger(dModel) && dModel > 0)) throw new Error(`SliceTransformer: dModel must be a positive integer, got ${dModel}`);
  if (!(Number.isInteger(heads) && heads > 0) || dModel % heads !== 0) {
    throw new Error(`SliceTransformer: the width ${dModel} must be divisible by the number of heads, got heads = ${heads}`);
  }
  const numLayers = options.numLayers ?? 1;
  if (!(Number.isInteger(numLayers) && numLayers > 0)) throw new Error(`SliceTransformer: numLayers must be a positive integer, got ${numLayers}`);
  const rng = new Rng(options.seed ?? 0);
  const layers = Array.from(
    { length: numLayers },
    () =>
      new TransformerEncoderLayer(dModel, heads, {
        dimFeedforward: options.dimFeedforward ?? dModel,
        dropout: options.dropout ?? 0,
        normFirst: true,
        activation: 'relu',
        layerNormEps: 1e-5,
        rng,
      }),
  );
  const sliceFusion = new TransformerEncoder(layers, new LayerNorm(dModel, 1e-5));
  const kind = options.positionalEmbedding ?? 'none';
  const slicePosEmb = kind === 'none' ? undefined : new SlicePositionalEmbedding(kind, dModel, options.maxSlices ?? 256, rng);
  // torch.randn(1, 1, E), as the original's cls_token.
  return { clsToken: normal([1, 1, dModel], 1, rng), slicePosEmb, sliceFusion };
}

/** Normalises an attention request to 'none' | 'last' | 'all'. */
export function attentionLevel(request: SliceAttentionRequest | undefined): 'none' | 'last' | 'all' {
  if (request === undefined || request === false || request === 'none') return 'none';
  if (request === true || request === 'last') return 'last';
  if (request === 'all') return 'all';
  throw new Error(`attention: expected true, false, 'none', 'last' or 'all', got ${JSON.stringify(request)}`);
}

/**
 * The slice-transformer computation on given parts: `[B, D, E]` slice features -> CLS feature
 * `[B, E]`. Shared by {@link SliceTransformer} and {@link MedicalSliceTransformer}, whose state
 * dicts hold the parts at their top level as the authors' classes do.
 */
export function sliceTransformerForward(parts: SliceTransformerParts, x: tf.Tensor, options: SliceTransformerCallOptions = {}): SliceTransformerOutput {
  const width = parts.sliceFusion.dModel;
  if (x.rank !== 3) throw new Error(`SliceTransformer: expected slice features [B, D, ${width}], got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new Error(`SliceTransformer: expected float32 slice features, got ${x.dtype}`);
  const [B, D, E] = x.shape;
  if (E !== width) throw new Error(`SliceTransformer: slice features have size ${E} but the transformer width is ${width} (input [${x.shape.join(', ')}])`);
  if (D === 0) throw new Error(`SliceTransformer: expected at least one slice, got shape [${x.shape.join(', ')}]`);
  const mask = options.keyPaddingMask;
  if (mask) {
    if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== D) {
      throw new Error(`SliceTransformer: expected keyPaddingMask [${B}, ${D}], got [${mask.shape.join(', ')}]`);
    }
    if (mask.dtype !== 'bool') throw new Error(`SliceTransformer: keyPaddingMask must be bool (true = padded slice), got ${mask.dtype}`);
  }
  const level = attentionLevel(options.attention);
  let attentions: tf.Tensor4D[] = [];
  const features = tf.tidy(() => {
    let h: tf.Tensor = x;
    if (parts.slicePosEmb) h = tf.add(h, parts.slicePosEmb.forward(D));
    const cls = tf.tile(parts.clsToken, [B, 1, 1]);
    h = tf.concat([cls, h], 1);
    // The CLS token is never padded.
    const fullMask = mask ? tf.concat([tf.zeros([B, 1], 'bool'), mask], 1) : undefined;
    const r = parts.sliceFusion.forward(h, { keyPaddingMask: fullMask, returnWeights: level !== 'none' });
    attentions = (r.attentions ?? []).map((a) => tf.keep(a));
    return tf.reshape(tf.slice(r.output, [0, 0, 0], [B, 1, E]), [B, E]);
  }) as tf.Tensor2D;
  if (level === 'none') return { features };
  if (level === 'all') return { features, attentions };
  attentions.slice(0, -1).forEach((a) => a.dispose());
  return { features, attentions: attentions.slice(-1) };
}

/**
 * The slice transformer of MST: a CLS token prepended to the slice features and a one-layer
 * pre-norm `TransformerEncoder` (feed-forward = width, dropout 0, ReLU, LayerNorm eps 1e-5) with a
 * final LayerNorm; the CLS output is the volume feature. State-dict keys as the authors' classes:
 * `cls_token` `[1, 1, E]`, `slice_pos_emb.weight` (learned embedding only),
 * `slice_fusion.layers.0.{self_attn.in_proj_weight, self_attn.in_proj_bias, self_attn.out_proj.*,
 * linear1.*, linear2.*, norm1.*, norm2.*}`, `slice_fusion.norm.*`.
 *
 * @example
 * const st = new SliceTransformer({ dModel: 384, heads: 12 });
 * const { features, attentions } = st.forward(sliceFeatures, { attention: true }); // [B, 384], [[B, 12, 1 + D, 1 + D]]
 */
export class SliceTransformer extends Module implements SliceTransformerParts {
  readonly clsToken: tf.Variable;
  readonly slicePosEmb?: SlicePositionalEmbedding;
  readonly sliceFusion: TransformerEncoder;

  constructor(options: SliceTransformerOptions) {
    super();
    const parts = createSliceTransformerParts(options);
    this.clsToken = this.registerParameter('cls_token', parts.clsToken);
    if (parts.slicePosEmb) this.slicePosEmb = this.registerModule('slice_pos_emb', parts.slicePosEmb);
    this.sliceFusion = this.registerModule('slice_fusion', parts.sliceFusion);
  }

  /** Width `E`. */
  get dModel(): number {
    return this.sliceFusion.dModel;
  }

  /** `[B, D, E] -> { features: [B, E], attentions?: [B, heads, 1 + D, 1 + D][] }`. */
  forward(x: tf.Tensor, options: SliceTransformerCallOptions = {}): SliceTransformerOutput {
    return sliceTransformerForward(this, x, options);
  }
}
