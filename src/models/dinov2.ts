import * as tf from '@tensorflow/tfjs';
import { Module, ModuleList } from '../nn/module';
import { normal } from '../nn/init';
import { Dinov2Block, type FfnLayer } from '../layers/dinov2_block';
import { LayerNorm } from '../layers/layer_norm';
import { Linear } from '../layers/linear';
import { ConvStem, type ConvStemConfig } from '../layers/conv_stem';
import { PatchEmbed } from '../layers/patch_embed';
import { PosEmbedCache } from '../layers/pos_embed_interpolation';
import { swigluHiddenFeatures } from '../layers/swiglu_ffn';
import { Rng } from '../utils/rng';
import { assertFloat32, assertRank } from '../utils/check';
import type { OnnxGraphBuilder } from '../onnx/onnx_graph';
import { dinov2Graph } from '../onnx/encoder_graphs';
import type { AttentionRequest, EncodeOptions, SliceEncoder, SliceEncoderGraph, SliceEncoding } from './slice_encoder';

/** Architecture of a {@link DinoVisionTransformer}, as DINOv2's `DinoVisionTransformer` arguments. */
export interface DinoVisionTransformerOptions {
  /** Token width E (384 S, 768 B, 1024 L, 1536 g). */
  embedDim: number;
  /** Number of blocks (12 S/B, 24 L, 40 g). */
  depth: number;
  /** Attention heads (6 S, 12 B, 16 L, 24 g). */
  numHeads: number;
  /** Image size the positional embedding is built for (hub: 518, a 37x37 grid). */
  imgSize?: number;
  /** Patch side (14). */
  patchSize?: number;
  /** Input channels (3). */
  inChannels?: number;
  /** Feed-forward width over E (4). */
  mlpRatio?: number;
  /** Feed-forward kind: 'mlp' or 'swiglu' (ViT-g). */
  ffnLayer?: FfnLayer;
  /** Register tokens (0, or 4 for the `_reg` models). */
  numRegisters?: number;
  /** Initial LayerScale gamma (the hub passes 1.0; DINOv2's LayerScale default is 1e-5). */
  layerScaleInit?: number;
  /** `interpolate_offset` (hub: 0.1; `_reg`: 0). */
  interpolateOffset?: number;
  /** `interpolate_antialias` (hub: false; `_reg`: true). */
  interpolateAntialias?: boolean;
  /** LayerNorm eps (1e-6). */
  eps?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /**
   * Not in DINOv2: a convolutional stem (3x3 convolutions, BatchNorm, ReLU; keys `stem.*`) in front
   * of the patch embedding, for small ViTs trained from scratch. `patchSize` stays the patch side
   * on the image; the patch embedding then covers `patchSize / stride` cells of the stem's output.
   * Absent (the default), the model is DINOv2's exactly.
   */
  convStem?: ConvStemConfig;
  /**
   * Skip DINOv2's initialisation of tokens and Linear weights (zeros and the layers' defaults
   * instead), for a checkpoint loaded right after: it saves seconds of random draws on ViT-S.
   */
  skipInit?: boolean;
}

/** Options of {@link DinoVisionTransformer.forwardFeatures}. */
export interface Dinov2ForwardOptions {
  /** Attention probabilities to return: none, the last block's, or every block's. */
  attention?: AttentionRequest;
}

/** Normalised output tokens, DINOv2's `forward_features` dict. */
export interface Dinov2Features {
  /** `x_norm_clstoken`, `[N, E]`. */
  clsToken: tf.Tensor2D;
  /** `x_norm_regtokens`, `[N, R, E]` (R may be 0). */
  regTokens: tf.Tensor3D;
  /** `x_norm_patchtokens`, `[N, rows*cols, E]` in row-major patch order. */
  patchTokens: tf.Tensor3D;
  /** Per-head attention probabilities `[N, heads, T, T]` of the requested blocks. */
  attentions?: tf.Tensor4D[];
  /** Patch grid `[rows, cols]`. */
  gridSize: [number, number];
}

/**
 * DINOv2's Vision Transformer backbone (`dinov2/models/vision_transformer.py`) as the hub builds
 * it, with its state-dict names: `cls_token`, `pos_embed`, `register_tokens` (with registers),
 * `mask_token`, `patch_embed.proj.*`, `blocks.N.*` (see {@link Dinov2Block}) and `norm.*`; the head
 * is the identity. Images are channels-last `[N, H, W, 3]`, H and W multiples of 14, already
 * normalised as the model expects. The positional embedding is resized to the input's patch grid
 * once per grid size, exactly as PyTorch's bicubic `interpolate_pos_encoding`.
 *
 * It is a {@link SliceEncoder}: `encode` returns the normalised class token, what the hub model's
 * `forward` returns and what MST uses as slice feature.
 *
 * @example
 * const model = dinov2_vits14({ seed: 1 });
 * const { features, attentions } = model.encode(tf.zeros([2, 224, 224, 3]) as tf.Tensor4D, { attention: 'last' });
 * features.shape; // [2, 384]
 * attentions?.[0].shape; // [2, 6, 257, 257]
 */
export class DinoVisionTransformer extends Module implements SliceEncoder {
  /** Returns attention maps over its patch grid (plane attention, rollout). */
  readonly providesAttention = true;
  /**
   * The slice size an ONNX export fixes by default (the positional embedding is resized to it):
   * the positional grid's size, at most the paper's 224 (DINOv2's 518 grid is used at 224).
   */
  readonly onnxImageSize: [number, number];
  readonly featureSize: number;
  readonly inChannels: number;
  readonly embedDim: number;
  readonly numHeads: number;
  readonly patchSize: number;
  readonly numRegisters: number;
  readonly patchEmbed: PatchEmbed;
  /** The optional convolutional stem before {@link patchEmbed} (not in DINOv2). */
  readonly stem?: ConvStem;
  /** `[1, 1, E]`. */
  readonly clsToken: tf.Variable;
  /** `[1, 1 + M*M, E]`, M = imgSize / patchSize. */
  readonly posEmbed: tf.Variable;
  /** `[1, R, E]`, only with registers. */
  readonly registerTokens?: tf.Variable;
  /** `[1, E]`: DINOv2's masked-patch token (training only; kept so checkpoints load). */
  readonly maskToken: tf.Variable;
  readonly blocks: ModuleList<Dinov2Block>;
  readonly norm: LayerNorm;
  /** The options it was built with, JSON-safe, so `new DinoVisionTransformer(config)` rebuilds it. */
  readonly config: DinoVisionTransformerOptions;
  private readonly posCache: PosEmbedCache;

  constructor(options: DinoVisionTransformerOptions) {
    super();
    this.config = { ...options };
    delete this.config.skipInit;
    const skip = options.skipInit ?? false;
    const e = options.embedDim;
    const p = options.patchSize ?? 14;
    const imgSize = options.imgSize ?? 518;
    const numRegisters = options.numRegisters ?? 0;
    if (!Number.isInteger(numRegisters) || numRegisters < 0) {
      throw new Error(`DinoVisionTransformer: expected a non-negative integer numRegisters, got ${numRegisters}`);
    }
    if (!(Number.isInteger(imgSize) && imgSize >= p)) {
      throw new Error(`DinoVisionTransformer: expected an integer imgSize >= patch size ${p}, got ${imgSize}`);
    }
    const rng = new Rng(options.seed ?? 0);
    this.embedDim = e;
    this.featureSize = e;
    this.numHeads = options.numHeads;
    this.patchSize = p;
    this.numRegisters = numRegisters;
    this.inChannels = options.inChannels ?? 3;
    const grid = Math.floor(imgSize / p);
    const onnxSide = Math.min(grid, Math.max(1, Math.floor(224 / p))) * p;
    this.onnxImageSize = [onnxSide, onnxSide];

    // Initialisation as DINOv2's init_weights: trunc_normal(0.02) on pos_embed and every Linear
    // (timm's bounds are +-2 absolute, so at std 0.02 this is a plain normal), normal(1e-6) on the
    // class and register tokens, zero biases and mask token, PyTorch's default on the patch conv.
    let embedIn = this.inChannels;
    let embedPatch = p;
    if (options.convStem) {
      this.stem = this.registerModule('stem', new ConvStem({ ...options.convStem, inChannels: this.inChannels, rng }));
      if (p % this.stem.stride !== 0) {
        throw new Error(`DinoVisionTransformer: the conv stem's total stride ${this.stem.stride} must divide the patch size ${p}`);
      }
      embedIn = this.stem.outChannels;
      embedPatch = p / this.stem.stride;
    }
    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed({ patchSize: embedPatch, inChannels: embedIn, embedDim: e, rng }));
    const draw = (shape: number[], std: number): tf.Tensor => (skip ? tf.zeros(shape) : normal(shape, std, rng));
    this.clsToken = this.registerParameter('cls_token', draw([1, 1, e], 1e-6));
    this.posEmbed = this.registerParameter('pos_embed', draw([1, 1 + grid * grid, e], 0.02));
    if (numRegisters > 0) this.registerTokens = this.registerParameter('register_tokens', draw([1, numRegisters, e], 1e-6));
    this.maskToken = this.registerParameter('mask_token', tf.zeros([1, e]));
    const blocks: Dinov2Block[] = [];
    for (let i = 0; i < options.depth; i++) {
      blocks.push(
        new Dinov2Block({
          dim: e,
          numHeads: options.numHeads,
          mlpRatio: options.mlpRatio ?? 4,
          ffnLayer: options.ffnLayer ?? 'mlp',
          layerScaleInit: options.layerScaleInit ?? 1,
          eps: options.eps ?? 1e-6,
          rng,
        }),
      );
    }
    this.blocks = this.registerModule('blocks', new ModuleList(blocks));
    this.norm = this.registerModule('norm', new LayerNorm(e, options.eps ?? 1e-6));
    if (!skip) for (const [, mod] of this.namedModules()) if (mod instanceof Linear) initLinear(mod, rng);
    this.posCache = new PosEmbedCache({ offset: options.interpolateOffset ?? 0.1, antialias: options.interpolateAntialias ?? false });
  }

  /** Tokens before the patches: the class token and the registers. */
  get numPrefixTokens(): number {
    return 1 + this.numRegisters;
  }

  private checkImages(images: tf.Tensor4D): [number, number] {
    assertRank('DinoVisionTransformer', images.shape, [4], `images [N, H, W, ${this.inChannels}]`);
    assertFloat32('DinoVisionTransformer', images.dtype);
    const [n, h, w, c] = images.shape;
    if (n < 1 || c !== this.inChannels) {
      throw new Error(`DinoVisionTransformer: expected images [N >= 1, H, W, ${this.inChannels}], got [${images.shape.join(', ')}]`);
    }
    if (h % this.patchSize !== 0 || w % this.patchSize !== 0) {
      throw new Error(`DinoVisionTransformer: expected image height and width that are multiples of the patch size ${this.patchSize}, got ${h}x${w}`);
    }
    return [h / this.patchSize, w / this.patchSize];
  }

  /**
   * DINOv2's `prepare_tokens_with_masks` without masks: the tokens `[N, T, E]` entering the first
   * block, `[CLS, registers..., patches...]` with the positional embedding added, and the patch grid.
   *
   * @example
   * const { tokens, gridSize } = dinov2_vits14().prepareTokens(tf.zeros([1, 224, 224, 3]) as tf.Tensor4D);
   * tokens.shape; // [1, 257, 384]
   */
  prepareTokens(images: tf.Tensor4D): { tokens: tf.Tensor3D; gridSize: [number, number] } {
    const grid = this.checkImages(images);
    const n = images.shape[0];
    const e = this.embedDim;
    const tokens = tf.tidy(() => {
      // DINOv2 adds the positional embedding to [cls, patches] and then inserts the registers
      // after the class token; adding to the two parts separately gives the same numbers.
      const pos = this.posCache.get(this.posEmbed, grid[0], grid[1]);
      const numPatches = grid[0] * grid[1];
      const cls = tf.add(this.clsToken, tf.slice(pos, [0, 0, 0], [1, 1, e]));
      const embedded = this.patchEmbed.forward(this.stem ? this.stem.forward(images) : images);
      const patches = tf.add(embedded, tf.slice(pos, [0, 1, 0], [1, numPatches, e]));
      const parts: tf.Tensor[] = [tf.broadcastTo(cls, [n, 1, e])];
      if (this.registerTokens) parts.push(tf.broadcastTo(this.registerTokens, [n, this.numRegisters, e]));
      parts.push(patches);
      return tf.concat(parts, 1) as tf.Tensor3D;
    });
    return { tokens, gridSize: grid };
  }

  /**
   * The token sequence after the last block and final norm, `[N, T, E]` with T = 1 + R + patches,
   * plus the requested attention probabilities.
   */
  private run(images: tf.Tensor4D, attention: AttentionRequest): { tokens: tf.Tensor3D; attentions: tf.Tensor4D[]; grid: [number, number] } {
    return tf.tidy(() => {
      const { tokens, gridSize: grid } = this.prepareTokens(images);
      let x = tokens;
      const attentions: tf.Tensor4D[] = [];
      const depth = this.blocks.length;
      this.blocks.items.forEach((block, i) => {
        const want = attention === 'all' || (attention === 'last' && i === depth - 1);
        const out = block.forward(x, { returnWeights: want });
        x = out.output;
        if (out.weights) attentions.push(out.weights);
      });
      return { tokens: this.norm.forward(x) as tf.Tensor3D, attentions, grid };
    });
  }

  /**
   * DINOv2's `forward_features`: the normalised class, register and patch tokens.
   *
   * @example
   * const { clsToken, patchTokens } = dinov2_vits14().forwardFeatures(tf.zeros([1, 224, 224, 3]) as tf.Tensor4D);
   * patchTokens.shape; // [1, 256, 384]
   */
  forwardFeatures(images: tf.Tensor4D, options: Dinov2ForwardOptions = {}): Dinov2Features {
    const attention = checkAttention(options.attention);
    return tf.tidy(() => {
      const { tokens, attentions, grid } = this.run(images, attention);
      const [n, t, e] = tokens.shape;
      const r = this.numRegisters;
      const out: Dinov2Features = {
        clsToken: tf.reshape(tf.slice(tokens, [0, 0, 0], [n, 1, e]), [n, e]) as tf.Tensor2D,
        regTokens: tf.slice(tokens, [0, 1, 0], [n, r, e]) as tf.Tensor3D,
        patchTokens: tf.slice(tokens, [0, 1 + r, 0], [n, t - 1 - r, e]) as tf.Tensor3D,
        gridSize: grid,
      };
      if (attention !== 'none') out.attentions = attentions;
      return out as unknown as tf.TensorContainer;
    }) as unknown as Dinov2Features;
  }

  /**
   * The slice-encoder view: `features` = normalised class token `[N, E]` (the hub model's
   * output), with attention probabilities on request.
   */
  encode(images: tf.Tensor4D, options: EncodeOptions = {}): SliceEncoding {
    const attention = checkAttention(options.attention);
    return tf.tidy(() => {
      const { tokens, attentions, grid } = this.run(images, attention);
      const [n, , e] = tokens.shape;
      const out: SliceEncoding = {
        features: tf.reshape(tf.slice(tokens, [0, 0, 0], [n, 1, e]), [n, e]) as tf.Tensor2D,
        gridSize: grid,
        numPrefixTokens: this.numPrefixTokens,
      };
      if (attention !== 'none') out.attentions = attentions;
      return out as unknown as tf.TensorContainer;
    }) as unknown as SliceEncoding;
  }

  /** Writes the ViT into an ONNX graph on NCHW images of a fixed size (default 224x224). */
  toOnnx(g: OnnxGraphBuilder, images: string, imageSize: [number, number] = this.onnxImageSize): SliceEncoderGraph {
    const out = dinov2Graph(g, images, this, imageSize);
    return { features: out.features, attention: { probs: out.lastAttention, heads: this.numHeads, gridSize: out.gridSize, numPrefixTokens: this.numPrefixTokens } };
  }

  /** Frees the parameters and the cached positional embeddings. */
  override dispose(): void {
    this.posCache.dispose();
    super.dispose();
  }
}

function checkAttention(a: AttentionRequest | undefined): AttentionRequest {
  const v = a ?? 'none';
  if (v !== 'none' && v !== 'last' && v !== 'all') throw new Error(`DinoVisionTransformer: expected attention 'none', 'last' or 'all', got '${String(a)}'`);
  return v;
}

function initLinear(lin: Linear, rng: Rng): void {
  tf.tidy(() => {
    lin.weight.assign(normal(lin.weight.shape, 0.02, rng));
    lin.bias?.assign(tf.zeros(lin.bias.shape));
  });
}

/** Options of the `dinov2_*` factories. */
export interface Dinov2FactoryOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Image size of the positional embedding (default 518, as the hub weights: 37x37 patches). */
  imgSize?: number;
  /** Register tokens (default 0, or 4 for the `_reg` factories). */
  numRegisters?: number;
  /** Initial LayerScale gamma (default 1.0, as the hub). */
  layerScaleInit?: number;
  /** `interpolate_offset` (default 0.1, or 0 for `_reg`). */
  interpolateOffset?: number;
  /** `interpolate_antialias` (default false, or true for `_reg`). */
  interpolateAntialias?: boolean;
}

/** Sizes of the four DINOv2 backbones (`vit_small`, `vit_base`, `vit_large`, `vit_giant2`). */
export const DINOV2_ARCHS = {
  vits14: { embedDim: 384, depth: 12, numHeads: 6, ffnLayer: 'mlp' },
  vitb14: { embedDim: 768, depth: 12, numHeads: 12, ffnLayer: 'mlp' },
  vitl14: { embedDim: 1024, depth: 24, numHeads: 16, ffnLayer: 'mlp' },
  vitg14: { embedDim: 1536, depth: 40, numHeads: 24, ffnLayer: 'swiglu' },
} as const satisfies Record<string, Pick<DinoVisionTransformerOptions, 'embedDim' | 'depth' | 'numHeads' | 'ffnLayer'>>;

/** A DINOv2 backbone name (`vits14`, ..., `vitg14_reg`). */
export type Dinov2Arch = keyof typeof DINOV2_ARCHS | `${keyof typeof DINOV2_ARCHS}_reg`;

/**
 * The full options the hub's `dinov2_<arch>` builds with: img_size 518, patch 14, LayerScale 1.0,
 * and for `_reg` 4 registers, interpolate_offset 0 and antialias.
 */
export function dinov2Config(arch: Dinov2Arch, options: Dinov2FactoryOptions = {}): DinoVisionTransformerOptions {
  const reg = arch.endsWith('_reg');
  const base = DINOV2_ARCHS[(reg ? arch.slice(0, -4) : arch) as keyof typeof DINOV2_ARCHS];
  if (!base) throw new Error(`dinov2Config: unknown arch '${arch}', expected one of ${Object.keys(DINOV2_ARCHS).flatMap((a) => [a, `${a}_reg`]).join(', ')}`);
  return {
    ...base,
    imgSize: options.imgSize ?? 518,
    patchSize: 14,
    mlpRatio: 4,
    numRegisters: options.numRegisters ?? (reg ? 4 : 0),
    layerScaleInit: options.layerScaleInit ?? 1,
    interpolateOffset: options.interpolateOffset ?? (reg ? 0 : 0.1),
    interpolateAntialias: options.interpolateAntialias ?? reg,
    eps: 1e-6,
    seed: options.seed,
  };
}

/**
 * PyTorch state-dict shapes of a configuration, computed without building it (ViT-g's 1.1 B
 * parameters do not fit a wasm heap). Keys in PyTorch's order.
 *
 * @example
 * const shapes = dinov2StateDictShapes(dinov2Config('vits14'));
 * shapes['pos_embed']; // [1, 1370, 384]
 */
export function dinov2StateDictShapes(config: DinoVisionTransformerOptions): Record<string, number[]> {
  const e = config.embedDim;
  const p = config.patchSize ?? 14;
  const c = config.inChannels ?? 3;
  const grid = Math.floor((config.imgSize ?? 518) / p);
  const r = config.numRegisters ?? 0;
  const hidden = Math.floor(e * (config.mlpRatio ?? 4));
  const out: Record<string, number[]> = { cls_token: [1, 1, e], pos_embed: [1, 1 + grid * grid, e] };
  if (r > 0) out.register_tokens = [1, r, e];
  out.mask_token = [1, e];
  const stem = config.convStem;
  if (stem) {
    stem.channels.forEach((ch, i) => {
      out[`stem.convs.${i}.weight`] = [ch, i === 0 ? c : stem.channels[i - 1], 3, 3];
      out[`stem.convs.${i}.bias`] = [ch];
    });
    stem.channels.forEach((ch, i) => {
      for (const k of ['weight', 'bias', 'running_mean', 'running_var']) out[`stem.norms.${i}.${k}`] = [ch];
      out[`stem.norms.${i}.num_batches_tracked`] = [];
    });
  }
  const stemStride = stem ? (stem.strides ?? stem.channels.map(() => 2)).reduce((a, s) => a * s, 1) : 1;
  out['patch_embed.proj.weight'] = [e, stem ? stem.channels[stem.channels.length - 1] : c, p / stemStride, p / stemStride];
  out['patch_embed.proj.bias'] = [e];
  const ls = (config.layerScaleInit ?? 1) !== 0;
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}.`;
    out[`${b}norm1.weight`] = [e];
    out[`${b}norm1.bias`] = [e];
    out[`${b}attn.qkv.weight`] = [3 * e, e];
    out[`${b}attn.qkv.bias`] = [3 * e];
    out[`${b}attn.proj.weight`] = [e, e];
    out[`${b}attn.proj.bias`] = [e];
    if (ls) out[`${b}ls1.gamma`] = [e];
    out[`${b}norm2.weight`] = [e];
    out[`${b}norm2.bias`] = [e];
    if (config.ffnLayer === 'swiglu') {
      const h = swigluHiddenFeatures(hidden);
      out[`${b}mlp.w12.weight`] = [2 * h, e];
      out[`${b}mlp.w12.bias`] = [2 * h];
      out[`${b}mlp.w3.weight`] = [e, h];
      out[`${b}mlp.w3.bias`] = [e];
    } else {
      out[`${b}mlp.fc1.weight`] = [hidden, e];
      out[`${b}mlp.fc1.bias`] = [hidden];
      out[`${b}mlp.fc2.weight`] = [e, hidden];
      out[`${b}mlp.fc2.bias`] = [e];
    }
    if (ls) out[`${b}ls2.gamma`] = [e];
  }
  out['norm.weight'] = [e];
  out['norm.bias'] = [e];
  return out;
}

/**
 * Parameter count of a configuration, as PyTorch's `sum(p.numel() for p in model.parameters())`.
 *
 * @example
 * dinov2ParameterCount(dinov2Config('vits14')); // 22056576
 */
export function dinov2ParameterCount(config: DinoVisionTransformerOptions): number {
  // The conv stem's BatchNorm buffers are state, not parameters.
  const buffer = /\.(running_mean|running_var|num_batches_tracked)$/;
  return Object.entries(dinov2StateDictShapes(config))
    .filter(([k]) => !buffer.test(k))
    .reduce((acc, [, s]) => acc + s.reduce((a, b) => a * b, 1), 0);
}

/** DINOv2 ViT-S/14 (384-d, 12 blocks, 6 heads), as `torch.hub.load('facebookresearch/dinov2', 'dinov2_vits14')`. @example const m = dinov2_vits14({ seed: 0 }); */
export function dinov2_vits14(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vits14', options));
}

/** DINOv2 ViT-B/14 (768-d, 12 blocks, 12 heads). @example const m = dinov2_vitb14(); */
export function dinov2_vitb14(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitb14', options));
}

/** DINOv2 ViT-L/14 (1024-d, 24 blocks, 16 heads). @example const m = dinov2_vitl14(); */
export function dinov2_vitl14(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitl14', options));
}

/**
 * DINOv2 ViT-g/14 (1536-d, 40 blocks, 24 heads, SwiGLU feed-forward). Its 1.1 B parameters
 * (4.5 GB) exceed the 4 GB wasm heap; use a GPU backend. @example const m = dinov2_vitg14();
 */
export function dinov2_vitg14(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitg14', options));
}

/** DINOv2 ViT-S/14 with 4 registers. @example const m = dinov2_vits14_reg(); */
export function dinov2_vits14_reg(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vits14_reg', options));
}

/** DINOv2 ViT-B/14 with 4 registers. @example const m = dinov2_vitb14_reg(); */
export function dinov2_vitb14_reg(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitb14_reg', options));
}

/** DINOv2 ViT-L/14 with 4 registers. @example const m = dinov2_vitl14_reg(); */
export function dinov2_vitl14_reg(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitl14_reg', options));
}

/** DINOv2 ViT-g/14 with 4 registers (SwiGLU; see {@link dinov2_vitg14}). @example const m = dinov2_vitg14_reg(); */
export function dinov2_vitg14_reg(options: Dinov2FactoryOptions = {}): DinoVisionTransformer {
  return new DinoVisionTransformer(dinov2Config('vitg14_reg', options));
}
