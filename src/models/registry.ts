import * as tf from '@tensorflow/tfjs';
import { dinov2_vitb14, dinov2_vits14, dinov2_vits14_reg } from './dinov2';
import { MedicalSliceTransformer, type Prediction } from './medical_slice_transformer';
import { resnet2d18, resnet2d34, resnet2d50 } from './resnet2d';
import { ResNet3D, resnet3d101, resnet3d18, resnet3d34, resnet3d50, resnet3d152 } from './resnet3d';
import type { SliceEncoder } from './slice_encoder';
import { withoutInit } from '../nn/init';
import { disposeStateDict } from '../nn/module';
import { loadSafetensors } from '../io/safetensors';

/** Options every registered architecture takes. */
export interface CreateModelOptions {
  /** Output classes (default 2, the paper's binary tasks). */
  numClasses?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** A model the registry builds: an MST or a 3D ResNet baseline. */
export type VolumeClassifier = MedicalSliceTransformer | ResNet3D;

/** One registered architecture. */
export interface ModelSpec {
  /** Registry name (`mst-dinov2-s`). */
  name: string;
  /** One line for listings. */
  description: string;
  /** Builds the model with fresh weights. */
  create(options?: CreateModelOptions): VolumeClassifier;
}

function mst(encoder: (seed: number) => SliceEncoder, encoderName: string) {
  // The authors' ResNet slice encoders sit under `model` and have no attention maps.
  return ({ numClasses = 2, seed = 0 }: CreateModelOptions = {}): VolumeClassifier =>
    new MedicalSliceTransformer({ encoder: encoder(seed), numClasses, encoderName, encoderAttention: encoderName !== 'model', seed });
}

function resnet3d(factory: typeof resnet3d18) {
  return ({ numClasses = 2, seed = 0 }: CreateModelOptions = {}): VolumeClassifier => factory({ numClasses, seed });
}

const SPECS: ModelSpec[] = [
  { name: 'mst-dinov2-s', description: 'MST, DINOv2 ViT-S/14 slice encoder (384-d, 12 slice heads), as DinoV2ClassifierSlice', create: mst((seed) => dinov2_vits14({ seed }), 'encoder') },
  { name: 'mst-dinov2-b', description: 'MST, DINOv2 ViT-B/14 slice encoder (768-d, 12 slice heads)', create: mst((seed) => dinov2_vitb14({ seed }), 'encoder') },
  { name: 'mst-dinov2-s-reg', description: 'MST, DINOv2 ViT-S/14 with 4 registers', create: mst((seed) => dinov2_vits14_reg({ seed }), 'encoder') },
  { name: 'mst-resnet18', description: 'MST, torchvision ResNet-18 slice encoder (512-d, 16 slice heads), as ResNetSliceTrans', create: mst((seed) => resnet2d18({ feedForward: false, seed }), 'model') },
  { name: 'mst-resnet34', description: 'MST, torchvision ResNet-34 slice encoder (ResNetSliceTrans default)', create: mst((seed) => resnet2d34({ feedForward: false, seed }), 'model') },
  { name: 'mst-resnet50', description: 'MST, torchvision ResNet-50 slice encoder (2048-d, 16 slice heads)', create: mst((seed) => resnet2d50({ feedForward: false, seed }), 'model') },
  { name: 'resnet3d-18', description: '3D ResNet-18 baseline (MONAI, one input channel)', create: resnet3d(resnet3d18) },
  { name: 'resnet3d-34', description: '3D ResNet-34 baseline (MONAI)', create: resnet3d(resnet3d34) },
  { name: 'resnet3d-50', description: '3D ResNet-50 baseline (MONAI)', create: resnet3d(resnet3d50) },
  { name: 'resnet3d-101', description: '3D ResNet-101 baseline (MONAI)', create: resnet3d(resnet3d101) },
  { name: 'resnet3d-152', description: '3D ResNet-152 baseline (MONAI)', create: resnet3d(resnet3d152) },
];

/** Architecture name -> spec, in listing order. */
export const MODEL_REGISTRY: ReadonlyMap<string, ModelSpec> = new Map(SPECS.map((s) => [s.name, s]));

/**
 * Builds a registered architecture with fresh weights (load trained ones with `loadStateDict`).
 *
 * @example
 * const model = createModel('mst-dinov2-s', { numClasses: 2 });
 * model.loadStateDict(await loadSafetensors('mst.safetensors'));
 * const { probabilities } = await predictVolume(model, volume);
 */
export function createModel(arch: string, options: CreateModelOptions = {}): VolumeClassifier {
  const spec = MODEL_REGISTRY.get(arch);
  if (!spec) throw new Error(`createModel: unknown architecture '${arch}'; expected one of ${[...MODEL_REGISTRY.keys()].join(', ')}`);
  return spec.create(options);
}

/**
 * Builds a registered architecture and loads its weights from a safetensors file (the originals'
 * key names, strict). No random initial weights are drawn, since the file replaces them all; on
 * error nothing is left allocated.
 *
 * @example
 * const model = await loadRegistryModel('mst-dinov2-s', 'mst.safetensors');
 */
export async function loadRegistryModel(arch: string, weightsPath: string, options: CreateModelOptions = {}): Promise<VolumeClassifier> {
  const model = withoutInit(() => createModel(arch, options));
  try {
    const dict = await loadSafetensors(weightsPath);
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
 * Classifies one volume `[D, H, W]` with any registry model in evaluation mode, reading results
 * asynchronously. The volume is not disposed.
 *
 * @example
 * const { logits, probabilities } = await predictVolume(createModel('resnet3d-18'), tf.zeros([32, 64, 64]));
 */
export async function predictVolume(model: VolumeClassifier, volume: tf.Tensor): Promise<Prediction> {
  if (model instanceof MedicalSliceTransformer) return model.predict(volume);
  if (!(volume instanceof tf.Tensor) || volume.rank !== 3) {
    const shape = volume instanceof tf.Tensor ? `[${volume.shape.join(', ')}]` : typeof volume;
    throw new Error(`predictVolume: expected one volume [D, H, W], got ${shape}`);
  }
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    const [logits, probs] = tf.tidy(() => {
      const l = model.forward(tf.expandDims(volume, 0));
      return [l, tf.softmax(l)];
    });
    const [l, p] = await Promise.all([logits.data(), probs.data()]);
    tf.dispose([logits, probs]);
    return { logits: Array.from(l), probabilities: Array.from(p) };
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
}
