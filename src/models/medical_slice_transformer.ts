import * as tf from '@tensorflow/tfjs';
import { Linear } from '../layers/linear';
import { Module } from '../nn/module';
import { Rng } from '../utils/rng';
import type { SliceEncoder, SliceEncoding } from './slice_encoder';
import {
  attentionLevel,
  createSliceTransformerParts,
  sliceTransformerForward,
  type SliceAttentionRequest,
  type SlicePositionalEmbedding,
  type SlicePositionalEmbeddingKind,
  type SliceTransformerParts,
} from './slice_transformer';
import type { TransformerEncoder } from '../layers/transformer_encoder';
import type { OnnxExportOptions } from '../export/to_onnx';

/** How the slice features become one volume feature (the paper's Table 2). */
export type SliceFusion = 'transformer' | 'linear' | 'average';

/** Options of {@link MedicalSliceTransformer}. */
export interface MedicalSliceTransformerOptions {
  /** The 2D encoder applied to every slice (`dinov2_vits14()`, `resnet2d18()`, or your own). */
  encoder: SliceEncoder;
  /** Output classes of the linear head. */
  numClasses: number;
  /** Slice fusion (default 'transformer'). */
  sliceFusion?: SliceFusion;
  /**
   * Heads of the slice transformer (default 12 when the width is divisible by 12, as the
   * original on DINOv2 features, else 16, as on ResNet features).
   */
  heads?: number;
  /** A `bottleneck` Linear `E -> E/4` after the encoder (default false). */
  bottleneck?: boolean;
  /** Freeze the encoder's parameters (Table 3; default false). */
  freezeEncoder?: boolean;
  /** Additive slice positional embedding, transformer fusion only (default 'none'). */
  positionalEmbedding?: SlicePositionalEmbeddingKind;
  /** Slices per volume for 'linear' fusion, whose head sees `D * E` features (default 32, as the original). */
  numSlices?: number;
  /**
   * State-dict prefix of the encoder: 'encoder' as `DinoV2ClassifierSlice` (default) or 'model'
   * as `ResNetSliceTrans`.
   */
  encoderName?: string;
  /**
   * Ask the encoder for its attention maps when attention is requested (default true). Set false
   * for encoders without attention (ResNet2D refuses the request): the slice attention is still
   * returned.
   */
  encoderAttention?: boolean;
  /** Seed of the initialisation (default 0). */
  seed?: number;
}

/** Options of {@link MedicalSliceTransformer.forward}. */
export interface MedicalSliceTransformerCallOptions {
  /** `true`/'last': last-layer maps; 'all': every layer's (default none). */
  attention?: SliceAttentionRequest;
  /** `[B, D]` bool, true = padded slice to ignore (transformer and average fusion). */
  keyPaddingMask?: tf.Tensor;
}

/** What {@link MedicalSliceTransformer.forward} returns; the caller disposes every tensor. */
export interface MedicalSliceTransformerOutput {
  /** `[B, numClasses]`. */
  logits: tf.Tensor2D;
  /**
   * Slice-transformer attention probabilities per head, `[B, heads, 1 + D, 1 + D]` (token 0 is
   * CLS; row 0 without its first column is the CLS -> slice attention). Transformer fusion only.
   */
  sliceAttention?: tf.Tensor4D;
  /**
   * The encoder's per-head attention probabilities, each `[B * D, heads, T, T]` over
   * `[CLS, registers..., patches...]` (index `b * D + d`): the last block for `true`/'last', every
   * block for 'all' (rollout). Only for encoders that return attention (DINOv2).
   */
  encoderAttentions?: tf.Tensor4D[];
  /**
   * The last encoder block's CLS -> patch attention per head, `[B, D, heads, rows * cols]`
   * (row-major over {@link gridSize}, registers skipped).
   */
  planeAttention?: tf.Tensor4D;
  /** Patch grid `[rows, cols]` of the encoder's tokens. */
  gridSize?: [number, number];
  /** Tokens before the patches in {@link encoderAttentions} (CLS plus registers). */
  numPrefixTokens?: number;
}

/** What {@link MedicalSliceTransformer.predict} resolves to. */
export interface Prediction {
  logits: number[];
  /** Softmax of the logits. */
  probabilities: number[];
}

/**
 * The Medical Slice Transformer: a 2D encoder applied to every slice (gray repeated to RGB),
 * an optional bottleneck, slice fusion and a linear head. State-dict keys as the authors'
 * `DinoV2ClassifierSlice` / `ResNetSliceTrans`, so their checkpoints load directly: `cls_token`,
 * `encoder.*` (or `model.*`), `bottleneck.*`, `slice_pos_emb.weight`,
 * `slice_fusion.layers.0.self_attn.in_proj_weight`, ..., `slice_fusion.norm.*`, `linear.*`.
 * 'linear' and 'average' fusion have no `cls_token`, `slice_pos_emb` or `slice_fusion`.
 *
 * @example
 * const model = new MedicalSliceTransformer({ encoder: dinov2_vits14(), numClasses: 2 });
 * model.loadStateDict(await loadSafetensors('mst_dinov2_s.safetensors'));
 * const { probabilities } = await model.predict(volume); // volume [D, H, W]
 */
export class MedicalSliceTransformer extends Module implements Partial<SliceTransformerParts> {
  readonly encoder: SliceEncoder;
  readonly bottleneck?: Linear;
  readonly clsToken?: tf.Variable;
  readonly slicePosEmb?: SlicePositionalEmbedding;
  readonly sliceFusion?: TransformerEncoder;
  readonly linear: Linear;
  readonly numClasses: number;
  readonly sliceFusionType: SliceFusion;
  /** Width of the slice features entering the fusion (`E`, or `E / 4` with the bottleneck). */
  readonly width: number;
  /** Slices per volume that 'linear' fusion requires. */
  readonly numSlices?: number;
  /** Whether attention requests are passed on to the encoder. */
  readonly encoderAttention: boolean;
  /** Its options without the encoder, defaults resolved, JSON-safe (see `configOf` in model_config). */
  readonly config: Omit<MedicalSliceTransformerOptions, 'encoder'>;

  constructor(options: MedicalSliceTransformerOptions) {
    super();
    const { encoder, numClasses } = options;
    if (!encoder || typeof encoder.encode !== 'function' || !(encoder.featureSize > 0)) {
      throw new Error('MedicalSliceTransformer: options.encoder must be a SliceEncoder (featureSize > 0 and encode())');
    }
    if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new Error(`MedicalSliceTransformer: numClasses must be a positive integer, got ${numClasses}`);
    const fusion = options.sliceFusion ?? 'transformer';
    if (fusion !== 'transformer' && fusion !== 'linear' && fusion !== 'average') {
      throw new Error(`MedicalSliceTransformer: sliceFusion must be 'transformer', 'linear' or 'average', got '${String(fusion)}'`);
    }
    const posEmb = options.positionalEmbedding ?? 'none';
    if (posEmb !== 'none' && fusion !== 'transformer') {
      throw new Error(`MedicalSliceTransformer: positionalEmbedding '${posEmb}' needs sliceFusion 'transformer', got '${fusion}'`);
    }
    this.numClasses = numClasses;
    this.sliceFusionType = fusion;
    this.encoderAttention = options.encoderAttention ?? true;
    const rng = new Rng(options.seed ?? 0);
    this.encoder = this.registerModule(options.encoderName ?? 'encoder', encoder);
    if (options.freezeEncoder) encoder.freeze();
    let width = encoder.featureSize;
    if (options.bottleneck) {
      if (width % 4 !== 0) throw new Error(`MedicalSliceTransformer: the bottleneck needs a feature size divisible by 4, got ${width}`);
      this.bottleneck = this.registerModule('bottleneck', new Linear(width, width / 4, { rng }));
      width /= 4;
    }
    this.width = width;
    let headIn = width;
    let heads: number | undefined;
    if (fusion === 'transformer') {
      heads = options.heads ?? (width % 12 === 0 ? 12 : 16);
      const parts = createSliceTransformerParts({ dModel: width, heads, positionalEmbedding: posEmb, seed: rng.nextUint32() });
      this.clsToken = this.registerParameter('cls_token', parts.clsToken);
      if (parts.slicePosEmb) this.slicePosEmb = this.registerModule('slice_pos_emb', parts.slicePosEmb);
      this.sliceFusion = this.registerModule('slice_fusion', parts.sliceFusion);
    } else if (fusion === 'linear') {
      const numSlices = options.numSlices ?? 32;
      if (!(Number.isInteger(numSlices) && numSlices > 0)) throw new Error(`MedicalSliceTransformer: numSlices must be a positive integer, got ${numSlices}`);
      this.numSlices = numSlices;
      headIn = width * numSlices;
    }
    this.linear = this.registerModule('linear', new Linear(headIn, numClasses, { rng }));
    this.config = {
      numClasses,
      sliceFusion: fusion,
      heads,
      bottleneck: !!options.bottleneck,
      freezeEncoder: !!options.freezeEncoder,
      positionalEmbedding: posEmb,
      numSlices: this.numSlices,
      encoderName: options.encoderName ?? 'encoder',
      encoderAttention: this.encoderAttention,
      seed: options.seed ?? 0,
    };
  }

  /**
   * `[B, D, H, W]` or `[B, D, H, W, C]` float32 volumes -> `{ logits: [B, numClasses], ... }`.
   * Gray slices (`C` = 1 or absent) are repeated to the encoder's channels, as the original.
   */
  forward(volumes: tf.Tensor, options: MedicalSliceTransformerCallOptions = {}): MedicalSliceTransformerOutput {
    const { B, D, images } = this.checkVolumes(volumes);
    const level = attentionLevel(options.attention);
    const mask = options.keyPaddingMask;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== D || mask.dtype !== 'bool')) {
      throw new Error(`MedicalSliceTransformer: expected a bool keyPaddingMask [${B}, ${D}], got ${mask.dtype} [${mask.shape.join(', ')}]`);
    }
    let encoding: SliceEncoding | undefined;
    const out: Partial<MedicalSliceTransformerOutput> = {};
    const logits = tf.tidy(() => {
      const stack = images();
      encoding = this.encoder.encode(stack, { attention: this.encoderAttention ? level : 'none' });
      if (encoding.attentions) encoding.attentions.forEach((a) => tf.keep(a));
      const feats = encoding.features;
      if (feats.rank !== 2 || feats.shape[0] !== B * D || feats.shape[1] !== this.encoder.featureSize) {
        throw new Error(
          `MedicalSliceTransformer: the encoder returned features [${feats.shape.join(', ')}] for ${B * D} slices, but declares featureSize ${this.encoder.featureSize}`,
        );
      }
      let h: tf.Tensor = feats;
      if (this.bottleneck) h = this.bottleneck.forward(h);
      h = tf.reshape(h, [B, D, this.width]);
      return this.linear.forward(this.fuse(h, mask, level, out));
    }) as tf.Tensor2D;
    const result: MedicalSliceTransformerOutput = { logits, ...out };
    if (encoding?.attentions?.length) this.attachPlaneAttention(result, encoding, B, D);
    return result;
  }

  /** `[B, D, E]` -> `[B, E]` (or `[B, D * E]` for 'linear'); attention maps go into `out`. */
  private fuse(h: tf.Tensor, mask: tf.Tensor | undefined, level: 'none' | 'last' | 'all', out: Partial<MedicalSliceTransformerOutput>): tf.Tensor {
    const [B, D, E] = h.shape;
    if (this.sliceFusionType === 'transformer') {
      const r = sliceTransformerForward(this as unknown as SliceTransformerParts, h, { keyPaddingMask: mask, attention: level });
      if (r.attentions) out.sliceAttention = tf.keep(r.attentions[r.attentions.length - 1]);
      return r.features;
    }
    if (this.sliceFusionType === 'linear') {
      if (D !== this.numSlices) throw new Error(`MedicalSliceTransformer: 'linear' fusion was built for ${this.numSlices} slices, got ${D}`);
      return tf.reshape(h, [B, D * E]);
    }
    if (!mask) return tf.mean(h, 1);
    // Mean over the slices that are not padded.
    const keep = tf.reshape(tf.logicalNot(mask).toFloat(), [B, D, 1]);
    return tf.div(tf.sum(tf.mul(h, keep), 1), tf.maximum(tf.sum(keep, 1), 1));
  }

  /** Adds the encoder's maps and the CLS -> patch rows of the last block. */
  private attachPlaneAttention(result: MedicalSliceTransformerOutput, encoding: SliceEncoding, B: number, D: number): void {
    const maps = encoding.attentions as tf.Tensor4D[];
    const last = maps[maps.length - 1];
    const [, heads, T] = last.shape;
    const prefix = encoding.numPrefixTokens ?? 1;
    result.encoderAttentions = maps;
    result.planeAttention = tf.tidy(() =>
      tf.reshape(tf.slice(last, [0, 0, 0, prefix], [B * D, heads, 1, T - prefix]), [B, D, heads, T - prefix]),
    ) as tf.Tensor4D;
    if (encoding.gridSize) result.gridSize = encoding.gridSize;
    result.numPrefixTokens = prefix;
  }

  /** Validates the input and returns a thunk building the `[B * D, H, W, C]` image stack. */
  private checkVolumes(volumes: tf.Tensor): { B: number; D: number; images: () => tf.Tensor4D } {
    if (!(volumes instanceof tf.Tensor)) throw new Error('MedicalSliceTransformer: expected a tf.Tensor of volumes [B, D, H, W] or [B, D, H, W, C]');
    if (volumes.rank !== 4 && volumes.rank !== 5) {
      throw new Error(`MedicalSliceTransformer: expected volumes [B, D, H, W] or [B, D, H, W, C], got shape [${volumes.shape.join(', ')}] (rank ${volumes.rank})`);
    }
    if (volumes.dtype !== 'float32') throw new Error(`MedicalSliceTransformer: expected float32 volumes, got ${volumes.dtype}`);
    const [B, D, H, W] = volumes.shape;
    const C = volumes.rank === 5 ? volumes.shape[4] : 1;
    if (B === 0 || D === 0 || H === 0 || W === 0) {
      throw new Error(`MedicalSliceTransformer: expected at least one volume, slice and pixel, got shape [${volumes.shape.join(', ')}]`);
    }
    const want = this.encoder.inChannels;
    if (C !== 1 && C !== want) throw new Error(`MedicalSliceTransformer: the encoder takes ${want} channels (or 1, repeated), got ${C} in [${volumes.shape.join(', ')}]`);
    const images = (): tf.Tensor4D => {
      const stack = tf.reshape(volumes, [B * D, H, W, C]);
      // Gray to RGB by channel repetition, as the original.
      return (C === want ? stack : tf.tile(stack, [1, 1, 1, want])) as tf.Tensor4D;
    };
    return { B, D, images };
  }

  /**
   * Writes the model as an ONNX graph (opset 17) to `path`, atomically: input `volume`
   * `[batch, slices, height, width]`, output `logits`, and with `attention: true` the slice and
   * plane attention maps (see `OnnxExportOptions`). Node only; in the browser use `toOnnxBytes`.
   *
   * @example
   * await model.exportOnnx('mst.onnx', { attention: true });
   */
  async exportOnnx(path: string, options?: OnnxExportOptions): Promise<void> {
    const { exportOnnx } = await import('../export/to_onnx');
    await exportOnnx(this, path, options);
  }

  /**
   * Classifies one volume `[D, H, W]` (or `[D, H, W, C]`) in evaluation mode, reading results
   * asynchronously (works on every backend, WebGPU included). The volume is not disposed.
   *
   * @example
   * const { logits, probabilities } = await model.predict(tf.randomNormal([32, 224, 224]));
   */
  async predict(volume: tf.Tensor): Promise<Prediction> {
    if (!(volume instanceof tf.Tensor) || (volume.rank !== 3 && volume.rank !== 4)) {
      const shape = volume instanceof tf.Tensor ? `[${volume.shape.join(', ')}]` : typeof volume;
      throw new Error(`MedicalSliceTransformer.predict: expected one volume [D, H, W] or [D, H, W, C], got ${shape}`);
    }
    const modes = this.namedModules().map(([, m]) => [m, m.training] as const);
    this.eval();
    try {
      const batch = tf.expandDims(volume, 0);
      const { logits } = this.forward(batch);
      batch.dispose();
      const probs = tf.softmax(logits);
      const [l, p] = await Promise.all([logits.data(), probs.data()]);
      logits.dispose();
      probs.dispose();
      return { logits: Array.from(l), probabilities: Array.from(p) };
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  }
}
