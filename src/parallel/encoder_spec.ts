import { DinoVisionTransformer, type DinoVisionTransformerOptions, type Dinov2FactoryOptions } from '../models/dinov2';
import * as dinov2 from '../models/dinov2';
import { resnet2d18, resnet2d34, resnet2d50, type ResNet2DOptions } from '../models/resnet2d';
import type { SliceEncoder } from '../models/slice_encoder';

/** DINOv2 hub factories by name. */
const DINOV2_FACTORIES = {
  dinov2_vits14: dinov2.dinov2_vits14,
  dinov2_vitb14: dinov2.dinov2_vitb14,
  dinov2_vitl14: dinov2.dinov2_vitl14,
  dinov2_vitg14: dinov2.dinov2_vitg14,
  dinov2_vits14_reg: dinov2.dinov2_vits14_reg,
  dinov2_vitb14_reg: dinov2.dinov2_vitb14_reg,
  dinov2_vitl14_reg: dinov2.dinov2_vitl14_reg,
  dinov2_vitg14_reg: dinov2.dinov2_vitg14_reg,
} as const;

const RESNET2D_FACTORIES = { resnet2d18, resnet2d34, resnet2d50 } as const;

/**
 * A serialisable description of a built-in slice encoder: a factory name and its options (plain
 * JSON). Workers rebuild the encoder from it and then load the weights, so only the spec and a
 * safetensors buffer cross the thread boundary.
 */
export type EncoderSpec =
  | { factory: keyof typeof DINOV2_FACTORIES; options?: Dinov2FactoryOptions }
  | { factory: 'DinoVisionTransformer'; options: DinoVisionTransformerOptions }
  | { factory: keyof typeof RESNET2D_FACTORIES; options?: ResNet2DOptions };

/** Factory names {@link buildEncoder} accepts. */
export const ENCODER_FACTORIES: readonly string[] = [...Object.keys(DINOV2_FACTORIES), 'DinoVisionTransformer', ...Object.keys(RESNET2D_FACTORIES)];

/**
 * Builds the slice encoder an {@link EncoderSpec} describes (fresh weights; load a state dict after).
 *
 * @example
 * const encoder = buildEncoder({ factory: 'dinov2_vits14', options: { imgSize: 224 } });
 */
export function buildEncoder(spec: EncoderSpec): SliceEncoder {
  const name = spec?.factory as string;
  if (name in DINOV2_FACTORIES) return DINOV2_FACTORIES[name as keyof typeof DINOV2_FACTORIES](spec.options as Dinov2FactoryOptions);
  if (name in RESNET2D_FACTORIES) return RESNET2D_FACTORIES[name as keyof typeof RESNET2D_FACTORIES](spec.options as ResNet2DOptions);
  if (name === 'DinoVisionTransformer') return new DinoVisionTransformer(spec.options as DinoVisionTransformerOptions);
  throw new Error(`buildEncoder: unknown encoder factory '${String(name)}', expected one of ${ENCODER_FACTORIES.join(', ')}`);
}
