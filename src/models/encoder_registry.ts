import { checkFields, type FieldRules } from '../utils/config_fields';
import { ComponentRegistry, type ComponentConfig, type ComponentDefinition, type ComponentOptions } from './component_registry';
import { DinoVisionTransformer, type DinoVisionTransformerOptions } from './dinov2';
import { ResNet2D, type ResNet2DOptions } from './resnet2d';
import type { ResNetOptions } from './resnet';
import type { SliceEncoder } from './slice_encoder';

/** Options of a torchvision-style {@link ResNet2D}, block kind and stage sizes included. */
export type ResNet2DConfigOptions = ResNet2DOptions & Pick<ResNetOptions, 'block' | 'layers'>;

const SEED = { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, optional: true } as const;

/** What a DINOv2 config from a file may hold (the bounds are mst-ts's documented limits). */
export const DINOV2_OPTION_RULES: FieldRules = {
  embedDim: { type: 'int', min: 1, max: 8192 },
  depth: { type: 'int', min: 1, max: 128 },
  numHeads: { type: 'int', min: 1, max: 256 },
  imgSize: { type: 'int', min: 1, max: 8192, optional: true },
  patchSize: { type: 'int', min: 1, max: 256, optional: true },
  inChannels: { type: 'int', min: 1, max: 64, optional: true },
  mlpRatio: { type: 'number', min: 0.01, max: 16, optional: true },
  ffnLayer: { type: 'enum', values: ['mlp', 'swiglu'], optional: true },
  numRegisters: { type: 'int', min: 0, max: 64, optional: true },
  layerScaleInit: { type: 'number', min: 0, max: 1e3, optional: true },
  interpolateOffset: { type: 'number', min: 0, max: 1, optional: true },
  interpolateAntialias: { type: 'boolean', optional: true },
  eps: { type: 'number', min: 1e-12, max: 1, optional: true },
  seed: SEED,
  convStem: {
    type: 'object',
    optional: true,
    fields: { channels: { type: 'ints', min: 1, max: 1024, minLength: 1, maxLength: 8 }, strides: { type: 'ints', min: 1, max: 8, minLength: 1, maxLength: 8, optional: true } },
  },
};

/** What a torchvision ResNet config from a file may hold. */
export const RESNET2D_OPTION_RULES: FieldRules = {
  block: { type: 'enum', values: ['basic', 'bottleneck'] },
  layers: { type: 'ints', length: 4, min: 1, max: 64 },
  numClasses: { type: 'int', min: 1, max: 100_000, optional: true },
  feedForward: { type: 'boolean', optional: true },
  blockInplanes: { type: 'ints', length: 4, min: 1, max: 4096, optional: true },
  inChannels: { type: 'int', min: 1, max: 64, optional: true },
  seed: SEED,
};

const dinov2: ComponentDefinition<SliceEncoder> = {
  description: 'DINOv2 ViT (hub naming; any size, registers, SwiGLU, an optional convolutional stem)',
  create: (options) => new DinoVisionTransformer(options as unknown as DinoVisionTransformerOptions),
  validate(options, _context, path) {
    checkFields(path, options, DINOV2_OPTION_RULES);
    const o = options as unknown as DinoVisionTransformerOptions;
    if (o.embedDim % o.numHeads !== 0) throw new Error(`${path}.numHeads: ${o.numHeads} does not divide embedDim ${o.embedDim}`);
    const p = o.patchSize ?? 14;
    if ((o.imgSize ?? 518) < p) throw new Error(`${path}.imgSize: ${o.imgSize} is smaller than the patch size ${p}`);
    const stem = o.convStem;
    if (stem?.strides && stem.strides.length !== stem.channels.length) throw new Error(`${path}.convStem.strides: expected one stride per convolution`);
  },
  describe: (e) => (e instanceof DinoVisionTransformer ? ({ ...e.config } as unknown as ComponentOptions) : undefined),
};

const resnet2d: ComponentDefinition<SliceEncoder> = {
  description: "torchvision ResNet (pooled features before 'fc'; the authors' ResNetSliceTrans encoder)",
  create: (options) => new ResNet2D(options as unknown as ResNet2DConfigOptions),
  validate: (options, _context, path) => checkFields(path, options, RESNET2D_OPTION_RULES),
  describe(e) {
    if (!(e instanceof ResNet2D)) return undefined;
    const c = e.config;
    const options: ResNet2DConfigOptions = { block: c.block, layers: c.layers, numClasses: c.numClasses, feedForward: c.feedForward };
    if (c.blockInplanes) options.blockInplanes = c.blockInplanes;
    if (c.nInputChannels !== 3) options.inChannels = c.nInputChannels;
    if (c.seed !== undefined) options.seed = c.seed;
    return options as unknown as ComponentOptions;
  },
};

/** Every slice encoder by name: the built-in `dinov2` and `resnet2d`, and those of {@link registerEncoder}. */
export const ENCODERS = new ComponentRegistry<SliceEncoder>('slice encoder');
ENCODERS.register('dinov2', dinov2);
ENCODERS.register('resnet2d', resnet2d);

/**
 * Makes a slice encoder of your own a first-class citizen: `new MedicalSliceTransformer({ encoder:
 * name, encoderOptions })`, `createEncoder(name, options)`, and every model built on it saves and
 * loads by this name (the options are stored in the model's config, so they must be JSON).
 * `validate` checks options read from a file before anything is built.
 *
 * @example
 * registerEncoder('tiny-cnn', { create: (o) => new TinyCnn(o.width as number) });
 * const mst = new MedicalSliceTransformer({ encoder: 'tiny-cnn', encoderOptions: { width: 32 }, numClasses: 2, heads: 4 });
 */
export function registerEncoder(name: string, definition: ComponentDefinition<SliceEncoder>): void {
  ENCODERS.register(name, definition);
}

/**
 * Builds a registered slice encoder.
 *
 * @example
 * const vit = createEncoder('dinov2', { embedDim: 64, depth: 2, numHeads: 4, patchSize: 4, imgSize: 16, inChannels: 1 });
 */
export function createEncoder(name: string, options: ComponentOptions = {}): SliceEncoder {
  return ENCODERS.create(name, options, undefined);
}

/**
 * The registered name and options that rebuild `encoder`, or an error saying how to make it
 * savable.
 */
export function encoderConfigOf(encoder: SliceEncoder): ComponentConfig {
  return ENCODERS.requireConfigOf(
    encoder,
    "registerEncoder('name', { create: (options) => new CLASS(options) }) and build it with createEncoder('name', options) or new MedicalSliceTransformer({ encoder: 'name', encoderOptions })",
  );
}
