import * as tf from '@tensorflow/tfjs';
import type { ConvStemConfig } from '../layers/conv_stem';
import { withoutInit } from '../nn/init';
import { disposeStateDict } from '../nn/module';
import { loadCheckpoint } from '../io/checkpoint';
import type { ModelCapabilities } from './capabilities';
import { dinov2Config, type DinoVisionTransformerOptions } from './dinov2';
import type { ComponentOptions } from './component_registry';
import type { Prediction } from './eval_prediction';
import { MedicalSliceTransformer } from './medical_slice_transformer';
import { ResNet3D, resnet3d101, resnet3d18, resnet3d34, resnet3d50, resnet3d152 } from './resnet3d';

/** Options every registered architecture takes. */
export interface CreateModelOptions {
  /** Output classes (default 2, the paper's binary tasks). */
  numClasses?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /**
   * Slice height and width the ViT's positional embedding is built for (the small from-scratch
   * MSTs: default 32; other slice sizes are resized to it as DINOv2 does). The hub-sized DINOv2
   * architectures keep the hub's 518.
   */
  imageSize?: number;
  /**
   * Channels per voxel of the input (a multi-sequence input's channels, e.g. 2 for pre- and
   * post-contrast): the slice encoder's (an MST's) or conv1's (a 3D ResNet's) input channels.
   * Default: the architecture's own (3 for the hub DINOv2 and torchvision ResNet encoders, which
   * repeat gray slices; 1 for the small from-scratch MSTs and the 3D ResNets).
   */
  inChannels?: number;
}

/** A model the registry builds: an MST or a 3D ResNet baseline. */
export type VolumeClassifier = MedicalSliceTransformer | ResNet3D;

/** Model families with the paper's learning rates. */
export type TrainingFamily = 'mst-dinov2' | 'mst-resnet' | 'resnet3d';

/** One registered architecture. */
export interface ModelSpec {
  /** Registry name (`mst-dinov2-s`). */
  name: string;
  /** One line for listings. */
  description: string;
  /** The paper's family (its learning rates differ per family). */
  family: TrainingFamily;
  /**
   * Default learning rate: the paper's for its family (1e-6 MST-DINOv2, which assumes pretrained
   * weights; 1e-5 MST-ResNet; 1e-4 3D ResNet), or the rate chosen for a small from-scratch model.
   */
  lr: number;
  /** What a model of this architecture can do (explanations, ONNX, training strategies). */
  capabilities: ModelCapabilities;
  /** Builds the model with fresh weights. */
  create(options?: CreateModelOptions): VolumeClassifier;
}

/** The paper's learning rates by family. */
export const PAPER_LEARNING_RATES: Readonly<Record<TrainingFamily, number>> = { 'mst-dinov2': 1e-6, 'mst-resnet': 1e-5, resnet3d: 1e-4 };

const RESNET_CAM_LAYERS = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'];

function mstCapabilities(encoder: 'dinov2' | 'resnet2d', fusion: 'transformer' | 'linear' | 'average' = 'transformer'): ModelCapabilities {
  return {
    sliceAttention: fusion === 'transformer',
    planeAttention: encoder === 'dinov2',
    camLayers: encoder === 'resnet2d' ? RESNET_CAM_LAYERS : [],
    onnx: true,
    gradients: ['plain', 'slice-checkpointed', 'data-parallel'],
    paddingMask: fusion !== 'linear',
  };
}

const RESNET3D_CAPABILITIES: ModelCapabilities = {
  sliceAttention: false,
  planeAttention: false,
  camLayers: RESNET_CAM_LAYERS,
  onnx: true,
  gradients: ['plain', 'block-checkpointed', 'data-parallel'],
  paddingMask: false,
};

function checkOptions(name: string, o: CreateModelOptions): Required<Omit<CreateModelOptions, 'imageSize' | 'inChannels'>> & { imageSize?: number; inChannels?: number } {
  const numClasses = o.numClasses ?? 2;
  const seed = o.seed ?? 0;
  if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new Error(`createModel('${name}'): numClasses must be a positive integer, got ${numClasses}`);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`createModel('${name}'): seed must be a non-negative integer, got ${seed}`);
  if (o.imageSize !== undefined && !(Number.isInteger(o.imageSize) && o.imageSize > 0)) throw new Error(`createModel('${name}'): imageSize must be a positive integer, got ${o.imageSize}`);
  if (o.inChannels !== undefined && !(Number.isInteger(o.inChannels) && o.inChannels > 0 && o.inChannels <= 64)) throw new Error(`createModel('${name}'): inChannels must be an integer in [1, 64], got ${o.inChannels}`);
  return { numClasses, seed, imageSize: o.imageSize, inChannels: o.inChannels };
}

/** An MST over a hub-sized DINOv2 (the paper's): encoder seeded by `seed`, fusion and head too. */
function hubMst(arch: 'vits14' | 'vitb14' | 'vits14_reg') {
  return (o: CreateModelOptions = {}): VolumeClassifier => {
    const { numClasses, seed, inChannels } = checkOptions(`mst-dinov2 ${arch}`, o);
    const encoderOptions = { ...dinov2Config(arch, { seed }), ...(inChannels ? { inChannels } : {}) } as ComponentOptions;
    return new MedicalSliceTransformer({ encoder: 'dinov2', encoderOptions, numClasses, seed });
  };
}

/** An MST over a torchvision ResNet without its `fc`, as the authors' `ResNetSliceTrans`. */
function resnetMst(block: 'basic' | 'bottleneck', layers: [number, number, number, number]) {
  return (o: CreateModelOptions = {}): VolumeClassifier => {
    const { numClasses, seed, inChannels } = checkOptions('mst-resnet', o);
    return new MedicalSliceTransformer({ encoder: 'resnet2d', encoderOptions: { block, layers, feedForward: false, seed, ...(inChannels ? { inChannels } : {}) }, numClasses, seed });
  };
}

/** The sizes of a small from-scratch ViT slice encoder (a DINOv2 stand-in for CPU training). */
export interface SmallVit {
  embedDim: number;
  depth: number;
  heads: number;
  patchSize: number;
  /** A convolutional stem in front of the patch embedding (see `ConvStem`). */
  convStem?: ConvStemConfig;
}

/** The DINOv2 options of a small from-scratch ViT on slices of `imageSize` with `inChannels` channels (default 1, gray). */
export function smallVitOptions(v: SmallVit, imageSize: number, seed: number, numRegisters = 0, inChannels = 1): DinoVisionTransformerOptions {
  const options: DinoVisionTransformerOptions = { embedDim: v.embedDim, depth: v.depth, numHeads: v.heads, patchSize: v.patchSize, imgSize: imageSize, inChannels, seed };
  if (numRegisters) options.numRegisters = numRegisters;
  if (v.convStem) options.convStem = v.convStem;
  return options;
}

/**
 * A small MST trained from scratch (the demo's kind): the encoder seeded by `seed`, the slice
 * transformer (as many heads as the ViT) and head by `seed + 1`.
 */
function smallMst(v: SmallVit) {
  return (o: CreateModelOptions = {}): VolumeClassifier => {
    const { numClasses, seed, imageSize, inChannels } = checkOptions('small MST', o);
    const encoderOptions = smallVitOptions(v, imageSize ?? 32, seed, 0, inChannels ?? 1) as unknown as ComponentOptions;
    return new MedicalSliceTransformer({ encoder: 'dinov2', encoderOptions, numClasses, heads: v.heads, seed: seed + 1 });
  };
}

function resnet3d(factory: typeof resnet3d18) {
  return (o: CreateModelOptions = {}): VolumeClassifier => {
    const { numClasses, seed, inChannels } = checkOptions('resnet3d', o);
    return factory({ numClasses, seed, ...(inChannels ? { nInputChannels: inChannels } : {}) });
  };
}

/** The small from-scratch ViTs by architecture name. */
export const SMALL_VITS: Readonly<Record<string, SmallVit>> = {
  'mst-dinov2-tiny': { embedDim: 64, depth: 2, heads: 4, patchSize: 8 },
  'mst-dinov2-tiny-p4': { embedDim: 64, depth: 2, heads: 4, patchSize: 4 },
  'mst-dinov2-tiny-conv': { embedDim: 64, depth: 2, heads: 4, patchSize: 4, convStem: { channels: [32], strides: [2] } },
  'mst-dinov2-mini': { embedDim: 96, depth: 4, heads: 4, patchSize: 8 },
};

const dinoCaps = mstCapabilities('dinov2');
const resnetCaps = mstCapabilities('resnet2d');

const SPECS: ModelSpec[] = [
  { name: 'mst-dinov2-s', family: 'mst-dinov2', lr: 1e-6, capabilities: dinoCaps, description: 'MST, DINOv2 ViT-S/14 slice encoder (384-d, 12 slice heads), as DinoV2ClassifierSlice', create: hubMst('vits14') },
  { name: 'mst-dinov2-b', family: 'mst-dinov2', lr: 1e-6, capabilities: dinoCaps, description: 'MST, DINOv2 ViT-B/14 slice encoder (768-d, 12 slice heads)', create: hubMst('vitb14') },
  { name: 'mst-dinov2-s-reg', family: 'mst-dinov2', lr: 1e-6, capabilities: dinoCaps, description: 'MST, DINOv2 ViT-S/14 with 4 registers', create: hubMst('vits14_reg') },
  { name: 'mst-resnet18', family: 'mst-resnet', lr: 1e-5, capabilities: resnetCaps, description: 'MST, torchvision ResNet-18 slice encoder (512-d, 16 slice heads), as ResNetSliceTrans', create: resnetMst('basic', [2, 2, 2, 2]) },
  { name: 'mst-resnet34', family: 'mst-resnet', lr: 1e-5, capabilities: resnetCaps, description: 'MST, torchvision ResNet-34 slice encoder (ResNetSliceTrans default)', create: resnetMst('basic', [3, 4, 6, 3]) },
  { name: 'mst-resnet50', family: 'mst-resnet', lr: 1e-5, capabilities: resnetCaps, description: 'MST, torchvision ResNet-50 slice encoder (2048-d, 16 slice heads)', create: resnetMst('bottleneck', [3, 4, 6, 3]) },
  { name: 'resnet3d-18', family: 'resnet3d', lr: 1e-4, capabilities: RESNET3D_CAPABILITIES, description: '3D ResNet-18 baseline (MONAI, one input channel)', create: resnet3d(resnet3d18) },
  { name: 'resnet3d-34', family: 'resnet3d', lr: 1e-4, capabilities: RESNET3D_CAPABILITIES, description: '3D ResNet-34 baseline (MONAI)', create: resnet3d(resnet3d34) },
  { name: 'resnet3d-50', family: 'resnet3d', lr: 1e-4, capabilities: RESNET3D_CAPABILITIES, description: '3D ResNet-50 baseline (MONAI)', create: resnet3d(resnet3d50) },
  { name: 'resnet3d-101', family: 'resnet3d', lr: 1e-4, capabilities: RESNET3D_CAPABILITIES, description: '3D ResNet-101 baseline (MONAI)', create: resnet3d(resnet3d101) },
  { name: 'resnet3d-152', family: 'resnet3d', lr: 1e-4, capabilities: RESNET3D_CAPABILITIES, description: '3D ResNet-152 baseline (MONAI)', create: resnet3d(resnet3d152) },
  {
    name: 'mst-dinov2-tiny',
    family: 'mst-dinov2',
    lr: 5e-4,
    capabilities: dinoCaps,
    description: 'MST with a from-scratch 2-block, 64-d ViT (patch 8, 4 heads) on one-channel slices, for CPU training',
    create: smallMst(SMALL_VITS['mst-dinov2-tiny']),
  },
  {
    name: 'mst-dinov2-tiny-p4',
    family: 'mst-dinov2',
    lr: 5e-4,
    capabilities: dinoCaps,
    description: 'MST with a from-scratch 2-block, 64-d ViT with 4x4 patches (finer tokens for small slices)',
    create: smallMst(SMALL_VITS['mst-dinov2-tiny-p4']),
  },
  {
    name: 'mst-dinov2-tiny-conv',
    family: 'mst-dinov2',
    lr: 1e-3,
    capabilities: dinoCaps,
    description: 'MST with a from-scratch 2-block, 64-d ViT behind a one-convolution stem (32 channels, stride 2), 4x4 patches: the demo model',
    create: smallMst(SMALL_VITS['mst-dinov2-tiny-conv']),
  },
  {
    name: 'mst-dinov2-mini',
    family: 'mst-dinov2',
    lr: 5e-4,
    capabilities: dinoCaps,
    description: 'MST with a from-scratch 4-block, 96-d ViT (patch 8, 4 heads)',
    create: smallMst(SMALL_VITS['mst-dinov2-mini']),
  },
];

const REGISTRY = new Map<string, ModelSpec>(SPECS.map((s) => [s.name, s]));
const ARCH_OF = new WeakMap<object, string>();

/** Architecture name -> spec, in listing order (the paper's models first, then the small ones). */
export const MODEL_REGISTRY: ReadonlyMap<string, ModelSpec> = REGISTRY;

/**
 * Registers an architecture of your own under `name`, so `createModel`, the CLI's `--arch` and
 * the model bundles know it (a model it builds saves its full config, so loading needs only the
 * encoder and fusion registered).
 *
 * @example
 * registerModel({ name: 'mst-tiny-cnn', description: 'MST over my CNN', family: 'mst-resnet', lr: 1e-3,
 *   capabilities: { ... }, create: (o) => new MedicalSliceTransformer({ encoder: 'tiny-cnn', numClasses: o?.numClasses ?? 2, heads: 4 }) });
 */
export function registerModel(spec: ModelSpec): void {
  if (!spec || typeof spec.name !== 'string' || !/^[A-Za-z0-9][\w.+-]*$/.test(spec.name) || typeof spec.create !== 'function') {
    throw new Error(`registerModel: expected a spec with a name (letters, digits, '.', '_', '+', '-') and create(), got ${JSON.stringify(spec?.name)}`);
  }
  REGISTRY.set(spec.name, spec);
}

/**
 * The registry's spec of `name`, or an error listing the registered names (and the closest one).
 */
export function modelSpec(name: string): ModelSpec {
  const spec = REGISTRY.get(name);
  if (!spec) throw new Error(`unknown architecture '${name}'; expected one of ${[...REGISTRY.keys()].join(', ')}`);
  return spec;
}

/**
 * Builds a registered architecture with fresh weights (load trained ones with `loadStateDict`).
 *
 * @example
 * const model = createModel('mst-dinov2-s', { numClasses: 2 });
 * model.loadStateDict(await loadSafetensors('mst.safetensors'));
 * const { probabilities } = await predictVolume(model, volume);
 */
export function createModel(arch: string, options: CreateModelOptions = {}): VolumeClassifier {
  const model = modelSpec(arch).create(options);
  ARCH_OF.set(model, arch);
  return model;
}

/** The registry name a model was created under by {@link createModel}, or null. */
export function archOf(model: object): string | null {
  return ARCH_OF.get(model) ?? null;
}

/**
 * Builds a registered architecture and loads its weights from any checkpoint `loadCheckpoint`
 * reads (safetensors, `.pth`/`.bin`, Lightning `.ckpt`; the format is read from the file's
 * content), the originals' key names, strictly. No random initial weights are drawn, since the
 * file replaces them all; on error nothing is left allocated.
 *
 * @example
 * const model = await loadRegistryModel('mst-dinov2-s', 'mst.safetensors');
 */
export async function loadRegistryModel(arch: string, weightsPath: string, options: CreateModelOptions = {}): Promise<VolumeClassifier> {
  const model = withoutInit(() => createModel(arch, options));
  try {
    const dict = await loadCheckpoint(weightsPath);
    try {
      model.loadStateDict(dict);
    } finally {
      disposeStateDict(dict);
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Classifies one volume `[D, H, W]` (or `[D, H, W, C]`) with any registry model in evaluation mode, reading results
 * asynchronously; the model's mode is restored. The volume is not disposed.
 *
 * @example
 * const { logits, probabilities } = await predictVolume(createModel('resnet3d-18'), tf.zeros([32, 64, 64]));
 */
export async function predictVolume(model: VolumeClassifier, volume: tf.Tensor): Promise<Prediction> {
  return model.predict(volume);
}
