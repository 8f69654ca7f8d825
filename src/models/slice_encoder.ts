import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';
import type { OnnxGraphBuilder } from '../onnx/onnx_graph';

/** Which attention maps a slice encoder returns besides its features. */
export type AttentionRequest = 'none' | 'last' | 'all';

/** Options of {@link SliceEncoder.encode}. */
export interface EncodeOptions {
  /** Return per-head attention probabilities of the last block or of every block (default 'none'). */
  attention?: AttentionRequest;
}

/** What a slice encoder returns for a stack of 2D images. */
export interface SliceEncoding {
  /** One feature vector per image, `[N, featureSize]`. */
  features: tf.Tensor2D;
  /**
   * Attention probabilities, one tensor per returned block (one when 'last'), each
   * `[N, heads, T, T]` over the token sequence `[CLS, registers..., patches...]`.
   */
  attentions?: tf.Tensor4D[];
  /** Patch grid `[rows, cols]` of the token sequence, for attention maps. */
  gridSize?: [number, number];
  /** Tokens before the patches (CLS plus registers). */
  numPrefixTokens?: number;
}

/** What {@link SliceEncoder.toOnnx} adds to a graph. */
export interface SliceEncoderGraph {
  /** `[N, featureSize]`. */
  features: string;
  /** The last block's attention probabilities `[N, heads, T, T]`, for encoders with attention maps. */
  attention?: { probs: string; heads: number; gridSize: [number, number]; numPrefixTokens: number };
}

/**
 * What {@link MedicalSliceTransformer} needs from a 2D encoder: its feature size and a function
 * from a stack of images `[N, H, W, C]` to one vector each. DINOv2 and ResNet2D implement it;
 * researchers plug in their own by implementing it on a {@link Module} (and registering a factory
 * with `registerEncoder`, so models built on it save and load by name). The optional members
 * declare what else the encoder can do; explanations, ONNX export and training strategies read
 * them, and say what is missing where one is needed.
 */
export interface SliceEncoder extends Module {
  /** Length of one slice's feature vector (384 for DINOv2-S, 512 for ResNet-18). */
  readonly featureSize: number;
  /** Channels the encoder expects (3 for ImageNet-style encoders; gray slices are repeated). */
  readonly inChannels: number;
  /** `[N, H, W, C] -> { features: [N, featureSize], ... }`. */
  encode(images: tf.Tensor4D, options?: EncodeOptions): SliceEncoding;
  /**
   * Whether {@link encode} returns attention maps over a patch grid when asked (a ViT: the
   * paper's plane attention and rollout). Default false.
   */
  readonly providesAttention?: boolean;
  /**
   * Layers at which Grad-CAM can cut the encoder (`layer4` of a ResNet), with
   * {@link forwardTo} / {@link featuresFrom}. Absent: no CAM on this encoder.
   */
  readonly camLayers?: readonly string[];
  /** `[N, H, W, C]` images up to the output of `layer`, channels-last `[N, h, w, channels]`. */
  forwardTo?(layer: string, images: tf.Tensor): tf.Tensor;
  /** From the output of `layer` to the features `[N, featureSize]`. */
  featuresFrom?(layer: string, activation: tf.Tensor): tf.Tensor;
  /**
   * Writes the encoder into an ONNX graph: `images` is `[N, C, H, W]` (NCHW) of a fixed size
   * `imageSize` where the encoder needs one. Absent: models on this encoder do not export.
   */
  toOnnx?(g: OnnxGraphBuilder, images: string, imageSize?: [number, number]): SliceEncoderGraph;
  /** The slice size the ONNX export fixes when the caller gives none (a ViT's positional grid). */
  readonly onnxImageSize?: [number, number];
}
