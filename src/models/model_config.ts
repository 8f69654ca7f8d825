import { DinoVisionTransformer, type DinoVisionTransformerOptions } from './dinov2';
import { MedicalSliceTransformer, type MedicalSliceTransformerOptions } from './medical_slice_transformer';
import { ResNet, type ResNetOptions } from './resnet';
import { ResNet2D, type ResNet2DOptions } from './resnet2d';
import { ResNet3D, type ResNet3DOptions } from './resnet3d';
import type { Module } from '../nn/module';
import { withoutInit } from '../nn/init';

/** Options of a torchvision-style {@link ResNet2D}, block kind and stage sizes included. */
export type ResNet2DConfigOptions = ResNet2DOptions & Pick<ResNetOptions, 'block' | 'layers'>;

/** Options of a MONAI {@link ResNet3D}, block kind and stage sizes included. */
export type ResNet3DConfigOptions = ResNet3DOptions & Pick<ResNetOptions, 'block' | 'layers'>;

/** A slice encoder's configuration inside an MST config. */
export type SliceEncoderConfig = { model: 'dinov2'; options: DinoVisionTransformerOptions } | { model: 'resnet2d'; options: ResNet2DConfigOptions };

/**
 * Everything needed to rebuild a model with the same architecture: a small JSON-safe object
 * (numbers, strings, booleans, arrays), stored next to the weights by `saveModel` and read back by
 * `fromPretrained`. `resnet` is the generic MONAI ResNet (2D with MONAI's stride-1 stem, say).
 */
export type ModelConfig =
  | { model: 'dinov2'; options: DinoVisionTransformerOptions }
  | { model: 'resnet2d'; options: ResNet2DConfigOptions }
  | { model: 'resnet3d'; options: ResNet3DConfigOptions }
  | { model: 'resnet'; options: ResNetOptions }
  | { model: 'mst'; encoder: SliceEncoderConfig; options: Omit<MedicalSliceTransformerOptions, 'encoder'> };

/** A model {@link buildModel} makes. */
export type ConfigurableModel = DinoVisionTransformer | ResNet | MedicalSliceTransformer;

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /**
   * Skip the random initial weights (zeros instead, see `withoutInit`) because weights are loaded
   * right after: `true` for the whole model, `'encoder'` for an MST's encoder only (its slice
   * fusion and head keep a proper initialisation). Default false.
   */
  skipInit?: boolean | 'encoder';
}

const MODELS = ['dinov2', 'resnet2d', 'resnet3d', 'resnet', 'mst'];

/**
 * Builds a model with fresh weights from a {@link ModelConfig}.
 *
 * @example
 * const model = buildModel({ model: 'resnet3d', options: { block: 'basic', layers: [2, 2, 2, 2], numClasses: 2 } });
 * configOf(model).model; // 'resnet3d'
 */
export function buildModel(config: ModelConfig, options: BuildModelOptions = {}): ConfigurableModel {
  return options.skipInit === true ? withoutInit(() => buildChecked(config, options)) : buildChecked(config, options);
}

function buildChecked(config: ModelConfig, options: BuildModelOptions): ConfigurableModel {
  if (!config || typeof config !== 'object' || !MODELS.includes((config as { model: string }).model)) {
    throw new Error(`buildModel: expected a config with model one of ${MODELS.join(', ')}, got ${JSON.stringify(config)?.slice(0, 200)}`);
  }
  if (!config.options || typeof config.options !== 'object') throw new Error(`buildModel: config of '${config.model}' has no options object`);
  const skip = options.skipInit === true ? { skipInit: true } : {};
  switch (config.model) {
    case 'dinov2':
      return new DinoVisionTransformer({ ...config.options, ...skip });
    case 'resnet2d':
      return new ResNet2D({ ...config.options, ...skip });
    case 'resnet3d':
      return new ResNet3D({ ...config.options, ...skip });
    case 'resnet':
      return new ResNet({ ...config.options, ...skip });
    case 'mst': {
      const enc = config.encoder;
      const kind = (enc as { model?: unknown } | undefined)?.model;
      if (kind !== 'dinov2' && kind !== 'resnet2d') {
        throw new Error(`buildModel: an MST config needs encoder.model 'dinov2' or 'resnet2d', got ${JSON.stringify(kind)}`);
      }
      const encoder = (options.skipInit === 'encoder' ? buildModel(enc, { skipInit: true }) : buildChecked(enc, options)) as DinoVisionTransformer | ResNet2D;
      return new MedicalSliceTransformer({ ...config.options, encoder });
    }
  }
}

/**
 * The {@link ModelConfig} of a model built by mst-ts (a DINOv2, a ResNet or an MST whose encoder
 * is a DINOv2 or a ResNet2D). A custom slice encoder has no config: that is an error.
 *
 * @example
 * configOf(dinov2_vits14()); // { model: 'dinov2', options: { embedDim: 384, depth: 12, numHeads: 6, ... } }
 */
export function configOf(model: Module): ModelConfig {
  if (model instanceof MedicalSliceTransformer) {
    const encoder = configOf(model.encoder);
    if (encoder.model !== 'dinov2' && encoder.model !== 'resnet2d') throw new Error(`configOf: an MST encoder must be a DINOv2 or a ResNet2D, got '${encoder.model}'`);
    return { model: 'mst', encoder, options: { ...model.config } };
  }
  if (model instanceof DinoVisionTransformer) return { model: 'dinov2', options: { ...model.config } };
  if (model instanceof ResNet2D) {
    const c = model.config;
    const options: ResNet2DConfigOptions = { block: c.block, layers: c.layers, numClasses: c.numClasses, feedForward: c.feedForward };
    if (c.blockInplanes) options.blockInplanes = c.blockInplanes;
    if (c.seed !== undefined) options.seed = c.seed;
    return { model: 'resnet2d', options };
  }
  if (model instanceof ResNet3D) {
    const { spatialDims: _dims, fcBiasInit: _bias, ...options } = model.config;
    return { model: 'resnet3d', options };
  }
  if (model instanceof ResNet) return { model: 'resnet', options: { ...model.config } };
  throw new Error(`configOf: expected a DinoVisionTransformer, ResNet or MedicalSliceTransformer built by mst-ts, got ${model?.constructor?.name ?? typeof model}`);
}
