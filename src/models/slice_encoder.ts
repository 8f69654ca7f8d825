import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';

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

/**
 * What {@link MedicalSliceTransformer} needs from a 2D encoder: its feature size and a function
 * from a stack of images `[N, H, W, C]` to one vector each. DINOv2 and ResNet2D implement it;
 * researchers plug in their own by implementing it on a {@link Module}.
 */
export interface SliceEncoder extends Module {
  /** Length of one slice's feature vector (384 for DINOv2-S, 512 for ResNet-18). */
  readonly featureSize: number;
  /** Channels the encoder expects (3 for ImageNet-style encoders; gray slices are repeated). */
  readonly inChannels: number;
  /** `[N, H, W, C] -> { features: [N, featureSize], ... }`. */
  encode(images: tf.Tensor4D, options?: EncodeOptions): SliceEncoding;
}
