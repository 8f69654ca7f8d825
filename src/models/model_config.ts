import { withoutInit } from '../nn/init';
import type { Module } from '../nn/module';
import { checkField, checkFields, type FieldRules } from '../utils/config_fields';
import type { ComponentConfig, ComponentOptions } from './component_registry';
import { DinoVisionTransformer, dinov2StateDictShapes, type DinoVisionTransformerOptions } from './dinov2';
import { createEncoder, ENCODERS, type ResNet2DConfigOptions } from './encoder_registry';
import { FUSIONS } from './fusion_registry';
import { MedicalSliceTransformer, type MstModelConfig } from './medical_slice_transformer';
import { ResNet, type ResNetOptions } from './resnet';
import { ResNet2D } from './resnet2d';
import { ResNet3D, type ResNet3DConfigOptions, type ResNet3DModelConfig } from './resnet3d';

/**
 * Everything needed to rebuild a model with the same architecture: a small JSON-safe object,
 * stored next to the weights by `saveModel` and read back by `fromPretrained`. An MST names its
 * encoder and fusion by their registered names (`registerEncoder`, `registerFusion`); `resnet`
 * is the generic MONAI ResNet (2D with MONAI's stride-1 stem, say).
 */
export type ModelConfig =
  | MstModelConfig
  | ResNet3DModelConfig
  | { model: 'dinov2'; options: DinoVisionTransformerOptions }
  | { model: 'resnet2d'; options: ResNet2DConfigOptions }
  | { model: 'resnet'; options: ResNetOptions };

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

const MODELS = ['mst', 'resnet3d', 'dinov2', 'resnet2d', 'resnet'] as const;
const SEED = { type: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, optional: true } as const;

/** What a MONAI ResNet config from a file may hold (`spatialDims` only for the generic `resnet`). */
function resnetRules(generic: boolean): FieldRules {
  return {
    block: { type: 'enum', values: ['basic', 'bottleneck'] },
    layers: { type: 'ints', length: 4, min: 1, max: 64 },
    ...(generic ? { spatialDims: { type: 'enum', values: [2, 3] } } : {}),
    nInputChannels: { type: 'int', min: 1, max: 64, optional: !generic },
    blockInplanes: { type: 'ints', length: 4, min: 1, max: 4096, optional: true },
    conv1TSize: { type: 'intOrInts', min: 1, max: 15, length: generic ? 2 : 3, optional: true },
    conv1TStride: { type: 'intOrInts', min: 1, max: 8, length: generic ? 2 : 3, optional: true },
    noMaxPool: { type: 'boolean', optional: true },
    shortcutType: { type: 'enum', values: ['A', 'B'], optional: true },
    widenFactor: { type: 'number', min: 0.01, max: 16, optional: true },
    numClasses: { type: 'int', min: 1, max: 100_000, optional: true },
    feedForward: { type: 'boolean', optional: true },
    biasDownsample: { type: 'boolean', optional: true },
    ...(generic ? { fcBiasInit: { type: 'enum', values: ['zero', 'torch-default'], optional: true } } : {}),
    seed: SEED,
  };
}

const MST_OPTION_RULES: FieldRules = {
  numClasses: { type: 'int', min: 1, max: 100_000 },
  bottleneck: { type: 'boolean', optional: true },
  freezeEncoder: { type: 'boolean', optional: true },
  seed: SEED,
};

const COMPONENT_RULES: FieldRules = { name: { type: 'string', maxLength: 200 }, options: { type: 'object', fields: {} } };

function checkComponent(path: string, c: unknown, registry: { has(n: string): boolean; names(): string[] }, anyName: boolean): asserts c is ComponentConfig {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error(`${path}: expected { name, options }, got ${JSON.stringify(c)?.slice(0, 80)}`);
  const { name, options } = c as Record<string, unknown>;
  checkField(`${path}.name`, name, COMPONENT_RULES.name);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new Error(`${path}.options: expected an object, got ${JSON.stringify(options)?.slice(0, 80)}`);
  if (!anyName && !registry.has(name as string)) throw new Error(`${path}.name: '${String(name)}' is not registered here (registered: ${registry.names().join(', ')}); register it before loading`);
  const extra = Object.keys(c as object).filter((k) => k !== 'name' && k !== 'options');
  if (extra.length) throw new Error(`${path}.${extra[0]}: unknown field; expected only name, options`);
}

/** Options of {@link checkModelConfig}. */
export interface CheckModelConfigOptions {
  /**
   * 'registered' (default): every component must be registered here, as building needs. 'any':
   * components of unknown names pass with their options unchecked, for a reader that builds
   * nothing (an ONNX graph's bundle JSON, which only lends its preprocessing and class names).
   */
  components?: 'registered' | 'any';
}

/**
 * Checks a config read from a file before anything is built: every field's type and range (with
 * mst-ts's documented limits), the component names registered, their options valid. The error
 * names the offending field.
 *
 * @example
 * checkModelConfig({ model: 'resnet3d', options: { block: 'basic', layers: [2, 2, 2, 2 ** 31] } });
 * // throws: config.options.layers: expected 4 integers in [1, 64], got [2,2,2,2147483648]
 */
export function checkModelConfig(config: unknown, path = 'config', options: CheckModelConfigOptions = {}): asserts config is ModelConfig {
  const anyName = options.components === 'any';
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error(`${path}: expected an object with 'model' and 'options', got ${JSON.stringify(config)?.slice(0, 80)}`);
  const c = config as Record<string, unknown>;
  if (!MODELS.includes(c.model as (typeof MODELS)[number])) throw new Error(`${path}.model: expected one of ${MODELS.join(', ')}, got ${JSON.stringify(c.model)?.slice(0, 80)}`);
  const keys = Object.keys(c).filter((k) => !(c.model === 'mst' ? ['model', 'encoder', 'fusion', 'options'] : ['model', 'options']).includes(k));
  if (keys.length) throw new Error(`${path}.${keys[0]}: unknown field for a '${String(c.model)}' config`);
  switch (c.model) {
    case 'mst': {
      checkFields(`${path}.options`, c.options, MST_OPTION_RULES);
      checkComponent(`${path}.encoder`, c.encoder, ENCODERS, anyName);
      checkComponent(`${path}.fusion`, c.fusion, FUSIONS, anyName);
      if (ENCODERS.has(c.encoder.name)) ENCODERS.validate(c.encoder.name, c.encoder.options, undefined, `${path}.encoder.options`);
      // The fusion's width depends on the encoder; its own fields are checked here, its sizes when built.
      if (FUSIONS.has(c.fusion.name)) FUSIONS.validate(c.fusion.name, c.fusion.options, { inputSize: 1, seed: 0 }, `${path}.fusion.options`);
      return;
    }
    case 'resnet3d':
      checkFields(`${path}.options`, c.options, resnetRules(false));
      return;
    case 'resnet':
      checkFields(`${path}.options`, c.options, resnetRules(true));
      return;
    case 'dinov2':
      ENCODERS.validate('dinov2', c.options, undefined, `${path}.options`);
      return;
    case 'resnet2d':
      ENCODERS.validate('resnet2d', c.options, undefined, `${path}.options`);
  }
}

/**
 * Builds a model with fresh weights from a {@link ModelConfig}, after {@link checkModelConfig}.
 *
 * @example
 * const model = buildModel({ model: 'resnet3d', options: { block: 'basic', layers: [2, 2, 2, 2], numClasses: 2 } });
 * configOf(model).model; // 'resnet3d'
 */
export function buildModel(config: ModelConfig, options: BuildModelOptions = {}): ConfigurableModel {
  checkModelConfig(config);
  return options.skipInit === true ? withoutInit(() => build(config, options)) : build(config, options);
}

function build(config: ModelConfig, options: BuildModelOptions): ConfigurableModel {
  switch (config.model) {
    case 'dinov2':
      return new DinoVisionTransformer({ ...config.options });
    case 'resnet2d':
      return new ResNet2D({ ...config.options });
    case 'resnet3d':
      return new ResNet3D({ ...config.options });
    case 'resnet':
      return new ResNet({ ...config.options });
    case 'mst': {
      const makeEncoder = () => createEncoder(config.encoder.name, config.encoder.options);
      const encoder = options.skipInit === 'encoder' ? withoutInit(makeEncoder) : makeEncoder();
      try {
        return new MedicalSliceTransformer({ encoder, fusion: config.fusion.name, fusionOptions: config.fusion.options, ...config.options });
      } catch (e) {
        encoder.dispose();
        throw e;
      }
    }
  }
}

/**
 * The {@link ModelConfig} of a model built by mst-ts: a DINOv2, a ResNet, a 3D ResNet or an MST
 * whose encoder and fusion come from their registries (an unregistered part is an error that says
 * how to register it).
 *
 * @example
 * configOf(dinov2_vits14()); // { model: 'dinov2', options: { embedDim: 384, depth: 12, numHeads: 6, ... } }
 */
export function configOf(model: Module): ModelConfig {
  if (model instanceof MedicalSliceTransformer || model instanceof ResNet3D) return model.modelConfig();
  if (model instanceof DinoVisionTransformer) return { model: 'dinov2', options: { ...model.config } };
  if (model instanceof ResNet2D) return { model: 'resnet2d', options: ENCODERS.definition('resnet2d').describe?.(model) as unknown as ResNet2DConfigOptions };
  if (model instanceof ResNet) return { model: 'resnet', options: { ...model.config } };
  throw new Error(`configOf: expected a DinoVisionTransformer, ResNet or MedicalSliceTransformer built by mst-ts, got ${model?.constructor?.name ?? typeof model}`);
}

/** The v1 MST options (format version 1 of the saved JSON). */
interface MstOptionsV1 {
  numClasses: number;
  sliceFusion?: 'transformer' | 'linear' | 'average';
  heads?: number;
  bottleneck?: boolean;
  freezeEncoder?: boolean;
  positionalEmbedding?: 'none' | 'learned' | 'sinusoidal';
  numSlices?: number;
  encoderName?: string;
  encoderAttention?: boolean;
  seed?: number;
}

/**
 * A config as format version 1 wrote it, in today's form: an MST's encoder `{ model, options }`
 * becomes `{ name, options }` and its `sliceFusion`, `heads`, `positionalEmbedding` and
 * `numSlices` become the fusion's; other models are unchanged.
 *
 * @example
 * upgradeConfigV1({ model: 'mst', encoder: { model: 'dinov2', options }, options: { numClasses: 2, sliceFusion: 'average' } }).fusion; // { name: 'average', options: {} }
 */
export function upgradeConfigV1(config: unknown): unknown {
  const c = config as { model?: unknown; encoder?: { model?: unknown; options?: unknown }; options?: MstOptionsV1 } | null;
  if (!c || c.model !== 'mst' || !c.encoder || !('model' in c.encoder) || !c.options || typeof c.options !== 'object') return config;
  const o = c.options;
  const kind = o.sliceFusion ?? 'transformer';
  const fusionOptions: ComponentOptions = {};
  if (kind === 'transformer') {
    if (o.heads !== undefined) fusionOptions.heads = o.heads;
    if (o.positionalEmbedding && o.positionalEmbedding !== 'none') fusionOptions.positionalEmbedding = o.positionalEmbedding;
  }
  if (kind === 'linear' && o.numSlices !== undefined) fusionOptions.numSlices = o.numSlices;
  const options: Record<string, unknown> = { numClasses: o.numClasses };
  for (const k of ['bottleneck', 'freezeEncoder', 'seed'] as const) if (o[k] !== undefined) options[k] = o[k];
  return { model: 'mst', encoder: { name: c.encoder.model, options: c.encoder.options }, fusion: { name: kind, options: fusionOptions }, options };
}

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** About how many values a ResNet of these options stores (weights, biases, batch-norm state). */
function resnetValues(o: Partial<ResNetOptions> & Pick<ResNetOptions, 'block' | 'layers'>, dims: number, inChannels: number): number {
  const widths = (o.blockInplanes ?? [64, 128, 256, 512]).map((w) => Math.floor(w * (o.widenFactor ?? 1)));
  const k = typeof o.conv1TSize === 'number' || o.conv1TSize === undefined ? (o.conv1TSize ?? 7) ** dims : product(o.conv1TSize);
  const expansion = o.block === 'bottleneck' ? 4 : 1;
  const bn = (c: number) => 4 * c + 1;
  let n = inChannels * widths[0] * k + bn(widths[0]);
  let cin = widths[0];
  const k3 = 3 ** dims;
  o.layers.forEach((blocks, s) => {
    const p = widths[s];
    for (let b = 0; b < blocks; b++) {
      const cout = p * expansion;
      n += o.block === 'bottleneck' ? cin * p + bn(p) + p * p * k3 + bn(p) + p * cout + bn(cout) : cin * p * k3 + bn(p) + p * p * k3 + bn(p);
      if (b === 0 && (s > 0 || cin !== cout)) n += cin * cout + cout + bn(cout);
      cin = cout;
    }
  });
  if (o.feedForward !== false) n += cin * (o.numClasses ?? 400) + (o.numClasses ?? 400);
  return n;
}

/** About how many values a registered encoder of these options stores, or null when unknown. */
function encoderValues(c: ComponentConfig): number | null {
  if (c.name === 'dinov2') return Object.values(dinov2StateDictShapes(c.options as unknown as DinoVisionTransformerOptions)).reduce((a, s) => a + product(s), 0);
  if (c.name === 'resnet2d') return resnetValues(c.options as unknown as ResNet2DConfigOptions, 2, 3);
  return null;
}

/** The width of a registered encoder's features, or null when unknown. */
function encoderWidth(c: ComponentConfig): number | null {
  if (c.name === 'dinov2') return (c.options as { embedDim: number }).embedDim;
  if (c.name === 'resnet2d') {
    const o = c.options as unknown as ResNet2DConfigOptions;
    return (o.blockInplanes?.[3] ?? 512) * (o.block === 'bottleneck' ? 4 : 1);
  }
  return null;
}

/**
 * About how many values (weights and buffers) the model of a config stores, from the config alone
 * (nothing is built), or null where an encoder or fusion of your own makes it unknown. A file must
 * hold about as many: a config that asks for far more is refused before any allocation.
 *
 * @example
 * estimateModelValues({ model: 'dinov2', options: dinov2Config('vits14') }); // about 22 million
 */
export function estimateModelValues(config: ModelConfig): number | null {
  switch (config.model) {
    case 'dinov2':
      return encoderValues({ name: 'dinov2', options: config.options as unknown as ComponentOptions });
    case 'resnet2d':
      return resnetValues({ ...config.options }, 2, 3);
    case 'resnet3d':
      return resnetValues(config.options, 3, config.options.nInputChannels ?? 1);
    case 'resnet':
      return resnetValues(config.options, config.options.spatialDims, config.options.nInputChannels);
    case 'mst': {
      const enc = encoderValues(config.encoder);
      let width = encoderWidth(config.encoder);
      if (enc === null || width === null) return null;
      let n = enc;
      if (config.options.bottleneck) {
        n += width * (width / 4) + width / 4;
        width /= 4;
      }
      const f = config.fusion.options as { numLayers?: number; dimFeedforward?: number; positionalEmbedding?: string; numSlices?: number; maxSlices?: number };
      let pooled = width;
      if (config.fusion.name === 'transformer' || config.fusion.name === 'transformer-adpe') {
        const ff = f.dimFeedforward ?? width;
        n += (f.numLayers ?? 1) * (4 * width * width + 4 * width + 2 * width * ff + ff + width + 4 * width) + 3 * width;
        if (config.fusion.name === 'transformer-adpe' || f.positionalEmbedding === 'learned') n += (f.maxSlices ?? 256) * width;
      } else if (config.fusion.name === 'linear') {
        pooled = width * (f.numSlices ?? 32);
      } else if (config.fusion.name !== 'average') {
        return null;
      }
      return n + pooled * config.options.numClasses + config.options.numClasses;
    }
  }
}
