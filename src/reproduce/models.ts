import type { Shape3 } from '../data/sample';
import type { SlicePositionalEmbeddingKind } from '../layers/slice_positional_embedding';
import type { ComponentOptions } from '../models/component_registry';
import { DinoVisionTransformer, dinov2Config } from '../models/dinov2';
import { fromPretrained } from '../models/from_pretrained';
import { MedicalSliceTransformer, type SliceFusionName } from '../models/medical_slice_transformer';
import { smallVitOptions, type TrainingFamily, type VolumeClassifier } from '../models/registry';
import { resnet3d101, resnet3d18, resnet3d50, type ResNet3D } from '../models/resnet3d';
import type { ScaleConfig, VitSize } from './scales';

/** Pretrained DINOv2 files for the encoders (any format `fromPretrained` reads); absent: trained from scratch. */
export interface EncoderWeights {
  /** DINOv2 ViT-S/14 (`dinov2_vits14`): MST (DINOv2), its fusion ablations and the frozen row. */
  small?: string;
  /** DINOv2 ViT-B/14 (`dinov2_vitb14`): the "DINOv2 Base" row. */
  base?: string;
  /** DINOv2 ViT-S/14 with registers (`dinov2_vits14_reg`): the "DINOv2 Registers" row. */
  registers?: string;
}

/** One row of a table: how its model is built and trained. */
export interface ModelRecipe {
  /** The row's name as the paper prints it. */
  name: string;
  /** Learning-rate family (the paper's rates differ per family). */
  family: TrainingFamily;
  /** What the model is at this scale, for the table's footer. */
  description: string;
  /** Its encoder starts from pretrained weights (trained at the paper's fine-tuning rate, 1e-6). */
  pretrained?: boolean;
  /** Builds a fresh model for volumes of `inputSize` (`[D, H, W]`), initialised from `seed`. */
  build(inputSize: Shape3, seed: number): Promise<VolumeClassifier>;
}

/** Which slice encoder an MST row uses. */
export type EncoderKind = 'dinov2-s' | 'dinov2-b' | 'dinov2-s-reg' | 'resnet2d';

/** Options of {@link mstRecipe}. */
export interface MstRecipeOptions {
  name: string;
  encoder?: EncoderKind;
  fusion?: SliceFusionName;
  positionalEmbedding?: SlicePositionalEmbeddingKind;
  freezeEncoder?: boolean;
}

function vitText(v: VitSize, registers = 0): string {
  const stem = v.convStem ? `, ${v.convStem.channels.length}-convolution stem (${v.convStem.channels.join('-')} channels)` : '';
  return `${v.depth}-block ${v.embedDim}-d ViT${stem}, ${v.heads} heads, ${v.patchSize}x${v.patchSize} patches${registers ? `, ${registers} registers` : ''}`;
}

async function pretrainedDinov2(file: string, what: string): Promise<DinoVisionTransformer> {
  const model = await fromPretrained(file, { arch: 'dinov2' });
  if (!(model instanceof DinoVisionTransformer)) {
    model.dispose();
    throw new Error(`--encoder-weights: '${file}' is not a DINOv2 backbone (needed for ${what})`);
  }
  return model;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A slice size every DINOv2 encoder a run builds can patch, so the protocol can size slices to a
 * multiple of it: 14 for the pretrained DINOv2, the stand-ins' patch at quick scale, and the
 * least common multiple of both when only some rows have weights (Table 3 with `small` alone
 * still builds the stand-ins of DINOv2-B and of the registers row).
 */
export function dinov2PatchSize(scale: ScaleConfig, weights: EncoderWeights): number {
  const standIn = scale.dinov2Small?.patchSize;
  if (!standIn) return 14;
  const some = !!(weights.small || weights.base || weights.registers);
  if (!some) return standIn;
  const all = !!(weights.small && weights.base && weights.registers);
  return all ? 14 : (14 * standIn) / gcd(14, standIn);
}

/**
 * An MST row: the slice encoder of `scale` (a from-scratch ViT stand-in at quick scale, the real
 * DINOv2 size at paper scale, pretrained when a weights file is given), a fusion, an optional
 * additive positional embedding and frozen encoder. Seeds as `mst-ts train`: encoder `seed`,
 * slice transformer and head `seed + 1`.
 */
export function mstRecipe(scale: ScaleConfig, weights: EncoderWeights, options: MstRecipeOptions): ModelRecipe {
  const kind = options.encoder ?? 'dinov2-s';
  const fusion = options.fusion ?? 'transformer';
  const resnet = kind === 'resnet2d';
  const file = kind === 'dinov2-s' ? weights.small : kind === 'dinov2-b' ? weights.base : kind === 'dinov2-s-reg' ? weights.registers : undefined;
  let encoderText: string;
  if (resnet) {
    const widths = scale.resnet2dWidths;
    encoderText = `2D ResNet-${scale.resnet2dDepth} (torchvision layout${widths ? `, stage widths ${widths.join('-')}` : ''}), from scratch`;
  } else if (file) {
    encoderText = `pretrained ${kind === 'dinov2-b' ? 'DINOv2 ViT-B/14' : kind === 'dinov2-s-reg' ? 'DINOv2 ViT-S/14 with registers' : 'DINOv2 ViT-S/14'} from ${file}`;
  } else {
    const v = kind === 'dinov2-b' ? scale.dinov2Base : scale.dinov2Small;
    const reg = kind === 'dinov2-s-reg' ? scale.registers : 0;
    encoderText = v
      ? `from-scratch ${vitText(v, reg)} (stand-in for DINOv2-${kind === 'dinov2-b' ? 'B' : 'S'}${reg ? ' with registers' : ''})`
      : `${kind === 'dinov2-b' ? 'DINOv2 ViT-B/14' : kind === 'dinov2-s-reg' ? 'DINOv2 ViT-S/14 with registers' : 'DINOv2 ViT-S/14'} architecture, random init (no --encoder-weights)`;
  }
  const parts = [
    `MST: ${encoderText}${options.freezeEncoder ? ', frozen' : ''}`,
    fusion === 'transformer' ? `1-layer slice Transformer${options.positionalEmbedding && options.positionalEmbedding !== 'none' ? ` + ${options.positionalEmbedding} additive slice positional embedding` : ''}` : `${fusion} slice fusion`,
  ];
  return {
    name: options.name,
    family: resnet ? 'mst-resnet' : 'mst-dinov2',
    description: parts.join('; '),
    pretrained: !!file,
    async build(inputSize, seed) {
      const v = kind === 'dinov2-b' ? scale.dinov2Base : scale.dinov2Small;
      const reg = kind === 'dinov2-s-reg' ? scale.registers : 0;
      const common = {
        numClasses: 2,
        sliceFusion: fusion,
        positionalEmbedding: options.positionalEmbedding ?? 'none',
        freezeEncoder: options.freezeEncoder ?? false,
        numSlices: fusion === 'linear' ? inputSize[0] : undefined,
        // The stand-ins' slice transformer uses the encoder's head count (as the registry's small
        // MSTs); ResNets get the original's 16 heads at any width, full-size DINOv2 the original's 12.
        heads: resnet ? 16 : !file && v ? v.heads : undefined,
        seed: seed + 1,
      };
      if (file) {
        const encoder = await pretrainedDinov2(file, options.name);
        // A width outside the authors' rule (a small test backbone) takes the encoder's own head count.
        const heads = encoder.embedDim % 12 === 0 ? undefined : encoder.numHeads;
        return new MedicalSliceTransformer({ ...common, heads, encoder });
      }
      let encoderOptions: ComponentOptions;
      if (resnet) {
        const layers = scale.resnet2dDepth === 34 ? [3, 4, 6, 3] : [2, 2, 2, 2];
        encoderOptions = { block: 'basic', layers, feedForward: false, seed, ...(scale.resnet2dWidths ? { blockInplanes: scale.resnet2dWidths } : {}) };
      } else if (v) {
        encoderOptions = smallVitOptions(v, inputSize[1], seed, reg) as unknown as ComponentOptions;
      } else {
        encoderOptions = dinov2Config(kind === 'dinov2-b' ? 'vitb14' : kind === 'dinov2-s-reg' ? 'vits14_reg' : 'vits14', { seed }) as unknown as ComponentOptions;
      }
      return new MedicalSliceTransformer({ ...common, encoder: resnet ? 'resnet2d' : 'dinov2', encoderOptions });
    },
  };
}

/** A 3D ResNet row (MONAI layout; quick scale narrows every stage, keeping the depth). */
export function resnet3dRecipe(scale: ScaleConfig, depth: 18 | 50 | 101, name = `ResNet${depth}`): ModelRecipe {
  const widths = scale.resnet3dWidths;
  const stride = scale.resnet3dConv1Stride;
  const factory = depth === 18 ? resnet3d18 : depth === 50 ? resnet3d50 : resnet3d101;
  return {
    name,
    family: 'resnet3d',
    description:
      `3D ResNet-${depth} (MONAI layout${widths ? `, stage widths ${widths.join('-')} instead of 64-128-256-512` : ''}` +
      `${stride.some((x) => x !== 1) ? `, conv1 stride ${stride.join('x')} instead of 1` : ''}), from scratch`,
    async build(_inputSize, seed) {
      const net: ResNet3D = factory({ numClasses: 2, seed, blockInplanes: widths ?? undefined, conv1TStride: stride });
      return net;
    },
  };
}

/** The learning rate of a recipe at a scale. */
export function learningRate(scale: ScaleConfig, recipe: ModelRecipe): number {
  return recipe.family === 'resnet3d' ? scale.lr.resnet3d : recipe.family === 'mst-resnet' ? scale.lr.mstResnet : scale.lr.mstDinov2;
}
