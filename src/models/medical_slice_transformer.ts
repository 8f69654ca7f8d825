import * as tf from '@tensorflow/tfjs';
import { mstOriginalKeys, type KeyMap } from '../io/key_conventions';
import { Linear } from '../layers/linear';
import { Module } from '../nn/module';
import type { OnnxDim } from '../onnx/onnx_proto';
import type { OnnxGraphBuilder } from '../onnx/onnx_graph';
import { TO_END, linear, normalisedHeadMean } from '../onnx/onnx_layers';
import { Rng } from '../utils/rng';
import type { ModelCapabilities } from './capabilities';
import type { ComponentConfig, ComponentOptions } from './component_registry';
import { createEncoder, encoderConfigOf, ENCODERS } from './encoder_registry';
import { predictInEvalMode, type Prediction } from './eval_prediction';
import { createFusion, fusionConfigOf } from './fusion_registry';
import { attentionLevel, type SliceAttentionRequest, type SliceFusion, type SliceFusionOutput } from './fusions/slice_fusion';
import { exportOnnx, type OnnxExportOptions } from '../onnx/onnx_export';
import type { SliceEncoder, SliceEncoding } from './slice_encoder';
import type { SlicePositionalEmbeddingKind } from '../layers/slice_positional_embedding';
import { repeatChannels } from '../ops/repeat_channels';

/** The paper's Table 2 fusions by name (more can be registered with `registerFusion`). */
export type SliceFusionName = 'transformer' | 'transformer-adpe' | 'linear' | 'average';

/** Options of {@link MedicalSliceTransformer}. */
export interface MedicalSliceTransformerOptions {
  /**
   * The 2D encoder applied to every slice: an instance (`dinov2_vits14()`, `resnet2d18()`, yours)
   * or the name of a registered encoder (`'dinov2'`, `'resnet2d'`, one of `registerEncoder`),
   * built from {@link encoderOptions}.
   */
  encoder: SliceEncoder | string;
  /** Options of a named encoder (default `{}`). */
  encoderOptions?: ComponentOptions;
  /**
   * The slice fusion: a registered name (default 'transformer'; 'transformer-adpe', 'linear',
   * 'average', or one of `registerFusion`) built for the encoder's feature width from
   * {@link fusionOptions}, or an instance.
   */
  fusion?: SliceFusion | string;
  /** Options of a named fusion (`{ heads: 4 }`, `{ numSlices: 32 }`, ...). */
  fusionOptions?: ComponentOptions;
  /** Output classes of the linear head. */
  numClasses: number;
  /** A `bottleneck` Linear `E -> E/4` after the encoder (default false). */
  bottleneck?: boolean;
  /** Freeze the encoder's parameters (Table 3; default false). */
  freezeEncoder?: boolean;
  /** Seed of the bottleneck, fusion and head initialisation (default 0); a named encoder takes its own `seed` option. */
  seed?: number;
  /** Shorthand for `fusion` by name (the paper's Table 2 knob). */
  sliceFusion?: SliceFusionName;
  /** Shorthand for `fusionOptions.heads` of a transformer fusion. */
  heads?: number;
  /** Shorthand for `fusionOptions.positionalEmbedding` of a transformer fusion (the AdPE of Table 2). */
  positionalEmbedding?: SlicePositionalEmbeddingKind;
  /** Shorthand for `fusionOptions.numSlices` of 'linear' fusion (default 32, as the original). */
  numSlices?: number;
}

/** Options of {@link MedicalSliceTransformer.forward}. */
export interface MedicalSliceTransformerCallOptions {
  /** `true`/'last': last-layer maps; 'all': every layer's (default none). */
  attention?: SliceAttentionRequest;
  /** `[B, D]` bool, true = padded slice to ignore (fusions that support it). */
  keyPaddingMask?: tf.Tensor;
  /** Also return {@link MedicalSliceTransformerOutput.sliceWeights}, where the fusion weighs slices (default false). */
  sliceWeights?: boolean;
}

/** What {@link MedicalSliceTransformer.forward} returns; the caller disposes every tensor. */
export interface MedicalSliceTransformerOutput {
  /** `[B, numClasses]`. */
  logits: tf.Tensor2D;
  /**
   * How much each slice counts, `[B, D]` summing to 1 (the paper's slice attention: for the
   * transformer fusion the CLS -> slice rows renormalised per head and averaged), when asked for
   * (`sliceWeights: true`) and the fusion weighs slices.
   */
  sliceWeights?: tf.Tensor2D;
  /**
   * The transformer fusion's last-layer attention probabilities per head, `[B, heads, 1 + D, 1 + D]`
   * (token 0 is CLS; row 0 without its first column is the CLS -> slice attention).
   */
  sliceAttention?: tf.Tensor4D;
  /**
   * The encoder's per-head attention probabilities, each `[B * D, heads, T, T]` over
   * `[CLS, registers..., patches...]` (index `b * D + d`): the last block for `true`/'last', every
   * block for 'all' (rollout). Only for encoders that return attention (DINOv2).
   */
  encoderAttentions?: tf.Tensor4D[];
  /** The last encoder block's CLS -> patch attention per head, `[B, D, heads, rows * cols]`. */
  planeAttention?: tf.Tensor4D;
  /** Patch grid `[rows, cols]` of the encoder's tokens. */
  gridSize?: [number, number];
  /** Tokens before the patches in {@link encoderAttentions} (CLS plus registers). */
  numPrefixTokens?: number;
}

/** What {@link MedicalSliceTransformer.fuseFeatures} returns; the caller disposes every tensor. */
export interface FusedFeatures {
  /** `[B, numClasses]`. */
  logits: tf.Tensor2D;
  /** The fusion's own output besides the pooled feature (slice weights, attention). */
  sliceWeights?: tf.Tensor2D;
  attentions?: tf.Tensor4D[];
}

export type { Prediction } from './eval_prediction';

/** The MST's own options with defaults resolved (the encoder and fusion have their own configs). */
export interface MedicalSliceTransformerConfig {
  numClasses: number;
  bottleneck: boolean;
  freezeEncoder: boolean;
  seed: number;
}

/** Everything that rebuilds an MST: its encoder and fusion by registered name and options, and its own options. */
export interface MstModelConfig {
  model: 'mst';
  encoder: ComponentConfig;
  fusion: ComponentConfig;
  options: MedicalSliceTransformerConfig;
}

function fusionChoice(options: MedicalSliceTransformerOptions): { fusion: SliceFusion | string; fusionOptions: ComponentOptions } {
  if (options.fusion !== undefined && options.sliceFusion !== undefined) {
    throw new Error('MedicalSliceTransformer: give fusion or its shorthand sliceFusion, not both');
  }
  const fusion = options.fusion ?? options.sliceFusion ?? 'transformer';
  const pe = options.positionalEmbedding ?? 'none';
  const transformer = fusion === 'transformer' || fusion === 'transformer-adpe';
  if (pe !== 'none' && !transformer) throw new Error(`MedicalSliceTransformer: positionalEmbedding '${pe}' needs a transformer fusion, got ${typeof fusion === 'string' ? `'${fusion}'` : 'an instance'}`);
  if (typeof fusion !== 'string') {
    if (options.fusionOptions) throw new Error('MedicalSliceTransformer: fusionOptions apply to a fusion given by name, not to an instance');
    return { fusion, fusionOptions: {} };
  }
  // The shorthands fill the options of the fusions they belong to (the paper's Table 2 knobs).
  const shorthand: ComponentOptions = {};
  if (transformer && options.heads !== undefined) shorthand.heads = options.heads;
  if (transformer && pe !== 'none') shorthand.positionalEmbedding = pe;
  if (fusion === 'linear' && options.numSlices !== undefined) shorthand.numSlices = options.numSlices;
  return { fusion, fusionOptions: { ...shorthand, ...(options.fusionOptions ?? {}) } };
}

/**
 * Whether `model` is a {@link MedicalSliceTransformer}, by its methods rather than `instanceof`: a
 * model may come from another copy of the package (an ES module next to a CommonJS one).
 */
export function isMedicalSliceTransformer(model: unknown): model is MedicalSliceTransformer {
  return typeof (model as Partial<MedicalSliceTransformer> | null)?.fuseFeatures === 'function';
}

/**
 * The Medical Slice Transformer: a 2D encoder applied to every slice (gray repeated to the
 * encoder's channels, as the original), an optional bottleneck, a slice fusion and a linear head.
 * Encoder and fusion are pluggable (by instance or by registered name). Its state dict uses the
 * authors' `DinoV2ClassifierSlice` / `ResNetSliceTrans` names (`encoder.*` or, over a ResNet,
 * `model.*`; `cls_token`, `slice_pos_emb.weight`, `slice_fusion.*`, `bottleneck.*`, `linear.*`),
 * so their checkpoints load directly; its module tree is `encoder`, `bottleneck`, `fusion`, `head`.
 *
 * @example
 * const model = new MedicalSliceTransformer({ encoder: dinov2_vits14(), numClasses: 2 });
 * model.loadStateDict(await loadSafetensors('mst_dinov2_s.safetensors'));
 * const { probabilities } = await model.predict(volume); // volume [D, H, W]
 */
export class MedicalSliceTransformer extends Module {
  readonly encoder: SliceEncoder;
  readonly bottleneck?: Linear;
  readonly fusion: SliceFusion;
  readonly head: Linear;
  readonly numClasses: number;
  /** Width of the slice features entering the fusion (`E`, or `E / 4` with the bottleneck). */
  readonly width: number;
  /** Its own options, defaults resolved (JSON). */
  readonly config: MedicalSliceTransformerConfig;
  private readonly keys: KeyMap;

  constructor(options: MedicalSliceTransformerOptions) {
    super();
    const { numClasses } = options;
    const encoder = typeof options.encoder === 'string' ? createEncoder(options.encoder, options.encoderOptions ?? {}) : options.encoder;
    if (typeof options.encoder !== 'string' && options.encoderOptions) throw new Error('MedicalSliceTransformer: encoderOptions apply to an encoder given by name, not to an instance');
    if (!encoder || typeof encoder.encode !== 'function' || !(encoder.featureSize > 0)) {
      throw new Error('MedicalSliceTransformer: options.encoder must be a SliceEncoder (featureSize > 0 and encode()) or a registered encoder name');
    }
    if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new Error(`MedicalSliceTransformer: numClasses must be a positive integer, got ${numClasses}`);
    const seed = options.seed ?? 0;
    const rng = new Rng(seed);
    this.numClasses = numClasses;
    this.encoder = this.registerModule('encoder', encoder);
    if (options.freezeEncoder) encoder.freeze();
    let width = encoder.featureSize;
    if (options.bottleneck) {
      if (width % 4 !== 0) throw new Error(`MedicalSliceTransformer: the bottleneck needs a feature size divisible by 4, got ${width}`);
      this.bottleneck = this.registerModule('bottleneck', new Linear(width, width / 4, { rng }));
      width /= 4;
    }
    this.width = width;
    const choice = fusionChoice(options);
    const fusionSeed = rng.nextUint32();
    const fusion = typeof choice.fusion === 'string' ? createFusion(choice.fusion, choice.fusionOptions, { inputSize: width, seed: fusionSeed }) : choice.fusion;
    if (fusion.inputSize !== width) throw new Error(`MedicalSliceTransformer: the fusion takes features of width ${fusion.inputSize}, the encoder${this.bottleneck ? ' and bottleneck give' : ' gives'} ${width}`);
    this.fusion = this.registerModule('fusion', fusion);
    this.head = this.registerModule('head', new Linear(fusion.outputSize, numClasses, { rng }));
    this.config = { numClasses, bottleneck: !!options.bottleneck, freezeEncoder: !!options.freezeEncoder, seed };
    // The authors' ResNetSliceTrans keeps its ResNet under `model`, DinoV2ClassifierSlice under `encoder`.
    this.keys = mstOriginalKeys(ENCODERS.configOf(encoder)?.name === 'resnet2d' ? 'model' : 'encoder');
  }

  protected override stateDictKey(path: string): string {
    return this.keys.toOriginal(path);
  }

  protected override slotPath(key: string): string {
    return this.keys.fromOriginal(key);
  }

  /** The state-dict key of a module path (`fusion.transformer.norm.weight` -> `slice_fusion.norm.weight`). */
  originalKey(path: string): string {
    return this.keys.toOriginal(path);
  }

  /**
   * The config that rebuilds this model (`buildModel`): encoder and fusion by registered name and
   * options. An encoder or fusion built outside their registries makes it an error that says how
   * to register them.
   */
  modelConfig(): MstModelConfig {
    return { model: 'mst', encoder: encoderConfigOf(this.encoder), fusion: fusionConfigOf(this.fusion), options: { ...this.config } };
  }

  /** Slices per volume the fusion requires ('linear'), or undefined for any count. */
  get numSlices(): number | undefined {
    return this.fusion.numSlices;
  }

  /** What this model can do beyond predicting, read from its encoder and fusion. */
  get capabilities(): ModelCapabilities {
    const enc = this.encoder;
    const missing = [
      typeof enc.toOnnx === 'function' ? '' : `the encoder ${enc.constructor.name} has no toOnnx()`,
      typeof this.fusion.toOnnx === 'function' ? '' : `the fusion ${this.fusion.constructor.name} has no toOnnx()`,
    ].filter(Boolean);
    return {
      sliceAttention: this.fusion.providesSliceAttention,
      planeAttention: enc.providesAttention === true,
      camLayers: enc.camLayers && typeof enc.forwardTo === 'function' && typeof enc.featuresFrom === 'function' ? enc.camLayers : [],
      onnx: missing.length === 0,
      ...(missing.length ? { onnxMissing: missing.join('; ') } : {}),
      gradients: ['plain', 'slice-checkpointed', 'data-parallel'],
      paddingMask: this.fusion.supportsPaddingMask,
    };
  }

  /**
   * `[B, D, H, W]` or `[B, D, H, W, C]` float32 volumes -> `{ logits: [B, numClasses], ... }`.
   * Gray slices (`C` = 1 or absent) are repeated to the encoder's channels, as the original.
   */
  forward(volumes: tf.Tensor, options: MedicalSliceTransformerCallOptions = {}): MedicalSliceTransformerOutput {
    const { B, D, images } = this.checkVolumes(volumes);
    const level = attentionLevel(options.attention);
    let encoding: SliceEncoding | undefined;
    let fused: FusedFeatures | undefined;
    // Attention maps are kept out of the tidy; the logits are its result, so a caller's tidy owns them.
    const logits = tf.tidy(() => {
      encoding = this.encoder.encode(images(), { attention: this.encoder.providesAttention ? level : 'none' });
      if (encoding.attentions) encoding.attentions.forEach((a) => tf.keep(a));
      fused = this.fuseFeatures(encoding.features, B, D, { paddingMask: options.keyPaddingMask, attention: level, sliceWeights: options.sliceWeights });
      return fused.logits;
    }) as tf.Tensor2D;
    const f = fused as FusedFeatures;
    const result: MedicalSliceTransformerOutput = { logits };
    if (f.sliceWeights) result.sliceWeights = f.sliceWeights;
    if (f.attentions?.length) {
      result.sliceAttention = f.attentions[f.attentions.length - 1];
      f.attentions.slice(0, -1).forEach((a) => a.dispose());
    }
    if (encoding?.attentions?.length) this.attachPlaneAttention(result, encoding, B, D);
    return result;
  }

  /**
   * The part after the encoder: slice features `[B * D, E]` -> bottleneck -> fusion -> head,
   * `{ logits: [B, numClasses], sliceWeights?, attentions? }`. Lets the encoder run elsewhere (in
   * chunks, or in worker threads) while the fusion and head run here.
   *
   * @example
   * const { logits } = model.fuseFeatures(features, 1, 32); // features [32, 384]
   */
  fuseFeatures(
    features: tf.Tensor,
    B: number,
    D: number,
    options: { paddingMask?: tf.Tensor; attention?: SliceAttentionRequest; sliceWeights?: boolean } = {},
  ): FusedFeatures {
    const E = this.encoder.featureSize;
    if (features.rank !== 2 || features.shape[0] !== B * D || features.shape[1] !== E) {
      throw new Error(`MedicalSliceTransformer: the encoder returned features [${features.shape.join(', ')}] for ${B * D} slices, but declares featureSize ${E}`);
    }
    const mask = options.paddingMask;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== D || mask.dtype !== 'bool')) {
      throw new Error(`MedicalSliceTransformer: expected a bool keyPaddingMask [${B}, ${D}], got ${mask.dtype} [${mask.shape.join(', ')}]`);
    }
    if (mask && !this.fusion.supportsPaddingMask) throw new Error(`MedicalSliceTransformer: the fusion ${this.fusion.constructor.name} cannot skip padded slices (keyPaddingMask)`);
    let out: SliceFusionOutput | undefined;
    const logits = tf.tidy(() => {
      let h: tf.Tensor = features;
      if (this.bottleneck) h = this.bottleneck.forward(h);
      const level = options.sliceWeights && attentionLevel(options.attention) === 'none' ? 'last' : attentionLevel(options.attention);
      const o = this.fusion.forward(tf.reshape(h, [B, D, this.width]), mask, { attention: level });
      if (o.sliceWeights && options.sliceWeights) tf.keep(o.sliceWeights);
      out = o;
      return this.head.forward(o.pooled);
    }) as tf.Tensor2D;
    const o = out as SliceFusionOutput;
    const keepAttention = attentionLevel(options.attention) !== 'none';
    // Raw attention only where it was asked for (a slice-weights request alone needs none).
    if (!keepAttention) o.attentions?.forEach((a) => a.dispose());
    return {
      logits,
      ...(o.sliceWeights && options.sliceWeights ? { sliceWeights: o.sliceWeights } : {}),
      ...(keepAttention && o.attentions?.length ? { attentions: o.attentions } : {}),
    };
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
      return (C === want ? stack : repeatChannels(stack as tf.Tensor4D, want)) as tf.Tensor4D;
    };
    return { B, D, images };
  }

  /**
   * Writes the model into an ONNX graph: input `volume` `[batch, slices, height, width]`, output
   * `logits`, and with `attention` the slice (and plane) attention maps (see `OnnxExportOptions`).
   */
  toOnnx(g: OnnxGraphBuilder, options: OnnxExportOptions = {}): void {
    const { encoder: enc, fusion } = this;
    const caps = this.capabilities;
    if (!caps.onnx) throw new Error(`exportOnnx: this MST cannot be exported: ${caps.onnxMissing}`);
    const imageSize = options.imageSize ?? enc.onnxImageSize;
    let numSlices = options.numSlices;
    if (fusion.numSlices !== undefined) {
      if (numSlices !== undefined && numSlices !== fusion.numSlices) throw new Error(`exportOnnx: the fusion was built for ${fusion.numSlices} slices, got numSlices ${numSlices}`);
      numSlices = fusion.numSlices;
    }
    const batch = options.batchSize ?? 'batch';
    const slices = numSlices ?? 'slices';
    const shape: OnnxDim[] = [batch, slices, imageSize?.[0] ?? 'height', imageSize?.[1] ?? 'width'];
    const channels = options.channels ?? 1;
    if (channels !== 1 && channels !== enc.inChannels) throw new Error(`exportOnnx: channels must be 1 (gray, repeated) or the encoder's ${enc.inChannels}, got ${channels}`);
    let images: string;
    let volume: string;
    if (channels === 1) {
      volume = g.input('volume', shape, 'float32 volumes [batch, slices, height, width], slices first, preprocessed as for the tfjs model');
      // [B, D, H, W] -> [B*D, 1, H, W], gray repeated to the encoder's channels as the original.
      images = g.op('Reshape', [volume, g.int64s([-1, 1, 0, 0])]);
      if (enc.inChannels > 1) images = g.op('Tile', [images, g.int64s([1, enc.inChannels, 1, 1])]);
    } else {
      volume = g.input('volume', [...shape, channels], `float32 volumes [batch, slices, height, width, ${channels}], slices first, channels last, preprocessed as for the tfjs model`);
      // [B, D, H, W, C] -> [B*D, H, W, C] -> [B*D, C, H, W].
      const hw = g.op('Shape', [volume], { start: 2, end: 4 });
      const flat = g.op('Reshape', [volume, g.op('Concat', [g.int64s([-1]), hw, g.int64s([channels])], { axis: 0 })]);
      images = g.op('Transpose', [flat], { perm: [0, 3, 1, 2] });
    }
    const batchSlices = g.op('Shape', [volume], { start: 0, end: 2 });
    const encoded = (enc.toOnnx as NonNullable<SliceEncoder['toOnnx']>).call(enc, g, images, imageSize);
    let features = encoded.features;
    if (this.bottleneck) features = linear(g, features, this.bottleneck);
    const h = g.op('Reshape', [features, g.op('Concat', [batchSlices, g.int64s([this.width])], { axis: 0 })]);
    const fused = g.scope('fusion', () => (fusion.toOnnx as NonNullable<SliceFusion['toOnnx']>).call(fusion, g, h, { batchSlices, numSlices }));
    g.output('logits', linear(g, fused.pooled, this.head), [batch, this.numClasses], 'class logits [batch, numClasses] (softmax gives the probabilities)');
    if (!options.attention) return;
    const plane = encoded.attention;
    if (!fused.sliceWeights && !plane) {
      throw new Error(`exportOnnx: this MST (${enc.constructor.name} encoder, ${fusion.constructor.name}) has no attention maps to export`);
    }
    if (fused.headRows) g.output('slice_attention_heads', fused.headRows.rows, [batch, fused.headRows.heads, slices], 'slice fusion CLS -> slice attention per head [batch, heads, slices]');
    if (fused.sliceWeights) g.output('slice_attention', fused.sliceWeights, [batch, slices], 'slice attention [batch, slices]: how much each slice counts, summing to 1');
    if (plane) {
      const { heads, gridSize: grid, numPrefixTokens: prefix } = plane;
      const p = grid[0] * grid[1];
      // Last block's CLS row over the patches: [B*D, heads, 1, P] -> [B, D, heads, P]
      const cut = g.op('Slice', [plane.probs, g.int64s([0, prefix]), g.int64s([1, TO_END]), g.int64s([2, 3])]);
      let rows = g.op('Reshape', [cut, g.op('Concat', [batchSlices, g.int64s([heads, p])], { axis: 0 })]);
      g.output('plane_attention_heads', rows, [batch, slices, heads, p], 'last encoder block CLS -> patch attention per head [batch, slices, heads, rows*cols]');
      if (options.zeroFirstPatch) {
        const keep = new Float32Array(p).fill(1);
        keep[0] = 0;
        rows = g.op('Mul', [rows, g.floats('plane_attention.first_patch_mask', keep, [p])]);
      }
      const planeMap = g.op('Reshape', [normalisedHeadMean(g, rows, 2), g.int64s([0, 0, grid[0], grid[1]])]);
      g.output('plane_attention', planeMap, [batch, slices, grid[0], grid[1]], 'plane attention [batch, slices, rows, cols]: CLS -> patch rows renormalised per head, mean over heads');
      if (fused.sliceWeights) {
        const saliency = g.op('Mul', [g.op('Unsqueeze', [fused.sliceWeights, g.int64s([2, 3])]), planeMap]);
        g.output('saliency', saliency, [batch, slices, grid[0], grid[1]], 'MST saliency [batch, slices, rows, cols]: slice attention times plane attention');
      }
    }
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
    await exportOnnx(this, path, options);
  }

  /**
   * Classifies one volume `[D, H, W]` (or `[D, H, W, C]`) in evaluation mode, reading results
   * asynchronously (works on every backend, WebGPU included). The mode it found is restored and
   * the volume is not disposed.
   *
   * @example
   * const { logits, probabilities } = await model.predict(tf.randomNormal([32, 224, 224]));
   */
  async predict(volume: tf.Tensor): Promise<Prediction> {
    if (!(volume instanceof tf.Tensor) || (volume.rank !== 3 && volume.rank !== 4)) {
      const shape = volume instanceof tf.Tensor ? `[${volume.shape.join(', ')}]` : typeof volume;
      throw new Error(`MedicalSliceTransformer.predict: expected one volume [D, H, W] or [D, H, W, C], got ${shape}`);
    }
    return predictInEvalMode(this, () => this.forward(tf.expandDims(volume, 0)).logits);
  }
}
