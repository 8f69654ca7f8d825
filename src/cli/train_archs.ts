import type { Shape3 } from '../data/sample';
import type { ConvStemConfig } from '../layers/conv_stem';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { createModel, MODEL_REGISTRY } from '../models/registry';
import type { EncoderSpec } from '../parallel/encoder_spec';
import type { MstSpec } from '../parallel/messages';
import type { Classifier, TrainingFamily } from '../train/trainer';
import { UsageError } from './command';

/** A small from-scratch MST: its ViT slice encoder's sizes and its default learning rate. */
export interface SmallArch {
  description: string;
  embedDim: number;
  depth: number;
  heads: number;
  patchSize: number;
  lr: number;
  /** A convolutional stem in front of the patch embedding (see `ConvStem`); none by default. */
  convStem?: ConvStemConfig;
}

/**
 * Small MSTs trained from scratch, for the demo and quick experiments on CPU: a DINOv2-style ViT
 * on one-channel slices, optionally behind a convolutional stem. They exist because pretrained DINOv2 weights are
 * never downloaded by this library, and a ViT-S from scratch is far too slow for a CPU demo.
 */
export const SMALL_ARCHS: Readonly<Record<string, SmallArch>> = {
  'mst-dinov2-tiny': { description: 'MST with a from-scratch 2-block, 64-d ViT (patch 8, 4 heads)', embedDim: 64, depth: 2, heads: 4, patchSize: 8, lr: 5e-4 },
  'mst-dinov2-tiny-p4': { description: 'MST with a from-scratch 2-block, 64-d ViT with 4x4 patches (finer tokens for small slices)', embedDim: 64, depth: 2, heads: 4, patchSize: 4, lr: 5e-4 },
  'mst-dinov2-tiny-conv': {
    description: 'MST with a from-scratch 2-block, 64-d ViT behind a one-convolution stem (32 channels, stride 2), 4x4 patches: the demo model',
    embedDim: 64,
    depth: 2,
    heads: 4,
    patchSize: 4,
    lr: 1e-3,
    convStem: { channels: [32], strides: [2] },
  },
  'mst-dinov2-mini': { description: 'MST with a from-scratch 4-block, 96-d ViT (patch 8, 4 heads)', embedDim: 96, depth: 4, heads: 4, patchSize: 8, lr: 5e-4 },
};

/** Every architecture `train` accepts: the small from-scratch MSTs and the model registry. */
export function trainArchNames(): string[] {
  return [...Object.keys(SMALL_ARCHS), ...MODEL_REGISTRY.keys()];
}

/** The paper's family of a registry architecture (for its default learning rate). */
export function familyOf(arch: string): TrainingFamily | null {
  if (arch.startsWith('mst-dinov2')) return 'mst-dinov2';
  if (arch.startsWith('mst-resnet')) return 'mst-resnet';
  if (arch.startsWith('resnet3d')) return 'resnet3d';
  return null;
}

/** Builds a fresh model of `arch` for volumes of `size` (the small archs need the slice size). */
export function buildModel(arch: string, size: Shape3, seed: number): Classifier {
  const small = SMALL_ARCHS[arch];
  if (small) {
    const encoder = new DinoVisionTransformer({
      embedDim: small.embedDim,
      depth: small.depth,
      numHeads: small.heads,
      patchSize: small.patchSize,
      imgSize: size[1],
      inChannels: 1,
      convStem: small.convStem,
      seed,
    });
    return new MedicalSliceTransformer({ encoder, numClasses: 2, heads: small.heads, seed: seed + 1 });
  }
  if (!MODEL_REGISTRY.has(arch)) throw new UsageError(`train: unknown --arch '${arch}'; expected one of ${trainArchNames().join(', ')}`);
  return createModel(arch, { numClasses: 2, seed }) as unknown as Classifier;
}

/** The slice encoders of the registry's MSTs, as worker threads rebuild them (see src/models/registry.ts). */
const REGISTRY_MST_ENCODERS: Readonly<Record<string, EncoderSpec>> = {
  'mst-dinov2-s': { factory: 'dinov2_vits14' },
  'mst-dinov2-b': { factory: 'dinov2_vitb14' },
  'mst-dinov2-s-reg': { factory: 'dinov2_vits14_reg' },
  'mst-resnet18': { factory: 'resnet2d18', options: { feedForward: false } },
  'mst-resnet34': { factory: 'resnet2d34', options: { feedForward: false } },
  'mst-resnet50': { factory: 'resnet2d50', options: { feedForward: false } },
};

/**
 * The {@link MstSpec} from which data-parallel workers rebuild `arch` as {@link buildModel} builds
 * it for volumes of `size` (weights travel with each step), or null when `arch` is not an MST.
 */
export function mstWorkerSpec(arch: string, size: Shape3): MstSpec | null {
  const small = SMALL_ARCHS[arch];
  if (small) {
    const options = { embedDim: small.embedDim, depth: small.depth, numHeads: small.heads, patchSize: small.patchSize, imgSize: size[1], inChannels: 1, convStem: small.convStem };
    return { encoder: { factory: 'DinoVisionTransformer', options }, options: { numClasses: 2, heads: small.heads } };
  }
  const encoder = REGISTRY_MST_ENCODERS[arch];
  if (!encoder) return null;
  // The authors' ResNet slice encoders sit under `model` and have no attention maps.
  const resnet = encoder.factory.startsWith('resnet');
  return { encoder, options: { numClasses: 2, encoderName: resnet ? 'model' : 'encoder', encoderAttention: !resnet } };
}
