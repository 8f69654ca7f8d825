import { withByteSource } from '../io/byte_source';
import { detectCheckpointFormat, loadCheckpoint } from '../io/checkpoint';
import { toOurConvention, type ConvertedStateDict, type Dinov2Config, type KeyConvention, type ResNetConfig } from '../io/key_conventions';
import { readSafetensorsHeader } from '../io/safetensors';
import { swigluHiddenFeatures } from '../layers/swiglu_ffn';
import { disposeStateDict, type StateDict } from '../nn/module';
import { checkPreprocessing } from '../data/preprocessing';
import { checkField, checkFields } from '../utils/config_fields';
import type { ComponentConfig, ComponentOptions } from './component_registry';
import type { DinoVisionTransformerOptions } from './dinov2';
import type { ResNet2DConfigOptions } from './encoder_registry';
import type { MedicalSliceTransformer } from './medical_slice_transformer';
import { buildModel, checkModelConfig, configOf, estimateModelValues, upgradeConfigV1, type CheckModelConfigOptions, type ConfigurableModel, type ModelConfig } from './model_config';
import type { ResNetOptions } from './resnet';
import { configPathFor, MODEL_FORMAT_VERSION, type SavedModelJson } from './save_model';

/** A slice encoder's config as {@link fromPretrained} infers it. */
type SliceEncoderConfig = { model: 'dinov2'; options: DinoVisionTransformerOptions } | { model: 'resnet2d'; options: ResNet2DConfigOptions };

/** Architectures {@link fromPretrained} builds. */
export type PretrainedArch = ModelConfig['model'];

/** Options of {@link fromPretrained}. */
export interface FromPretrainedOptions {
  /**
   * What to build (default: what the file holds). `'mst'` on a DINOv2 or ResNet-2D backbone file
   * builds an MST around it with a fresh slice fusion and head; `'dinov2'` / `'resnet2d'` on an
   * MST file takes its encoder alone.
   */
  arch?: PretrainedArch;
  /** Output classes. A file with a head must agree; a head-less file gets a fresh head (`seed`). */
  numClasses?: number;
  /** Attention heads of a DINOv2 encoder whose width is not a standard variant (384/768/1024/1536). */
  numHeads?: number;
  /**
   * Heads of the MST slice transformer (the authors': 12 on DINOv2, 16 on ResNet features);
   * required when the fusion width is not one of the published models'.
   */
  sliceHeads?: number;
  /** Force a key convention instead of detecting it. */
  convention?: KeyConvention;
  /** Dotted path of the state dict in a torch checkpoint (default: found automatically). */
  key?: string;
  /** Rebuild from this config instead of reading or inferring one (e.g. the JSON of a browser upload). */
  config?: ModelConfig;
  /** Stride of a ResNet's `conv1`, which tensors cannot tell (default 2 for torchvision, 1 for MONAI). */
  conv1Stride?: number;
  /** A ResNet without the stem's max pool (tensors cannot tell; default false). */
  noMaxPool?: boolean;
  /** DINOv2 `interpolate_offset` (default as the hub: 0.1, or 0 with registers). */
  interpolateOffset?: number;
  /** DINOv2 `interpolate_antialias` (default as the hub: false, or true with registers). */
  interpolateAntialias?: boolean;
  /** Seed of the parts the file does not hold (a fresh head or slice fusion). Default 0. */
  seed?: number;
  /** Keep objects of unknown classes in a torch pickle as inert placeholders instead of refusing. */
  opaqueObjects?: boolean;
}

interface Plan {
  config: ModelConfig;
  /** Weights under the built model's keys. */
  dict: StateDict;
  /** Load `dict` into this submodule only (the rest is fresh), or '' for the whole model. */
  target: '' | 'encoder';
}

const STANDARD_DINOV2_WIDTHS = new Set([384, 768, 1024, 1536]);

/**
 * Builds a ready model from a checkpoint in one call. A file written by `saveModel` (config JSON
 * beside it, or in its safetensors metadata) is rebuilt exactly. Any other checkpoint that
 * `loadCheckpoint` reads (safetensors, `.pth`/`.bin`, Lightning `.ckpt`) is mapped to mst-ts names
 * from its key convention (DINOv2 hub / Hugging Face / timm, the authors' MST and ResNet
 * Lightning checkpoints, MONAI and torchvision ResNets) and the architecture is read from the
 * tensors: DINOv2 width, depth, patch, registers, positional grid, SwiGLU or MLP; ResNet depth,
 * block kind, stage widths, shortcut, classes; MST encoder, bottleneck, slice positional
 * embedding, fusion kind, slices of linear fusion and classes. What tensors cannot tell (heads of
 * a non-standard width) is asked for with an error naming the option. Weights load strictly.
 *
 * @example
 * const vit = await fromPretrained('dinov2_vits14_pretrain.pth');                 // DINOv2 ViT-S/14
 * const mst = await fromPretrained('epoch=12.ckpt');                                // the authors' MST
 * const fresh = await fromPretrained('dinov2_vits14_pretrain.pth', { arch: 'mst', numClasses: 2 });
 */
export async function fromPretrained(pathOrBytes: string | Uint8Array, options: FromPretrainedOptions = {}): Promise<ConfigurableModel> {
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : 'bytes';
  try {
    const saved = options.config ? null : await readSavedJson(pathOrBytes);
    if (options.config || saved) return await loadSaved(pathOrBytes, options.config ?? saved!.config, saved?.keyPrefix ?? '');
    return await loadInferred(pathOrBytes, options);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('fromPretrained') ? msg : `fromPretrained(${source}): ${msg}`);
  }
}

/**
 * Parses and checks a model bundle's JSON (what {@link saveModel} writes): every field's type and
 * range, the config's components registered and their options valid, before anything is built.
 * Format version 1 files are upgraded (no class names, preprocessing or explanation defaults).
 *
 * @example
 * const bundle = parseSavedModelJson(await fs.readFile('model.json', 'utf8'), 'model.json');
 * bundle.preprocessing?.steps; // [{ op: 'clip-rescale', ... }, { op: 'crop-or-pad', size: [8, 16, 16] }, ...]
 */
export function parseSavedModelJson(text: string, source = 'model JSON', options: CheckModelConfigOptions = {}): SavedModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const json = raw as Record<string, unknown> | null;
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: expected a JSON object, got ${text.slice(0, 40)}`);
  if (json.format !== 'mst-ts-model') throw new Error(`${source}: expected format 'mst-ts-model', got ${JSON.stringify(json.format)}`);
  const version = json.formatVersion;
  if (!(Number.isInteger(version) && (version as number) >= 1)) throw new Error(`${source}: formatVersion must be a positive integer, got ${JSON.stringify(version)}`);
  if ((version as number) > MODEL_FORMAT_VERSION) throw new Error(`${source}: format version ${version} is newer than this mst-ts reads (${MODEL_FORMAT_VERSION}); update mst-ts`);
  try {
    const config = version === 1 ? upgradeConfigV1(json.config) : json.config;
    checkModelConfig(config, 'config', options);
    const bundle: SavedModelJson = {
      format: 'mst-ts-model',
      formatVersion: version as number,
      arch: version === 1 ? config.model : (json.arch as string),
      config,
      keyPrefix: (json.keyPrefix as string | undefined) ?? '',
      weights: json.weights as string,
      classNames: (json.classNames as string[] | undefined) ?? [],
      preprocessing: (json.preprocessing as SavedModelJson['preprocessing'] | undefined) ?? null,
      explain: (json.explain as SavedModelJson['explain'] | undefined) ?? null,
    };
    const known = ['format', 'formatVersion', 'arch', 'config', 'keyPrefix', 'weights', 'classNames', 'preprocessing', 'explain'];
    const extra = Object.keys(json).filter((k) => !known.includes(k));
    if (extra.length) throw new Error(`${extra[0]}: unknown field`);
    checkField('arch', bundle.arch, { type: 'string', maxLength: 200 });
    checkField('keyPrefix', bundle.keyPrefix, { type: 'string', maxLength: 200 });
    checkField('weights', bundle.weights, { type: 'string', maxLength: 1000 });
    const numClasses = 'numClasses' in config.options ? (config.options.numClasses as number | undefined) : undefined;
    if (!Array.isArray(bundle.classNames) || !bundle.classNames.every((c) => typeof c === 'string' && c.length <= 200)) {
      throw new Error(`classNames: expected a list of names, got ${JSON.stringify(bundle.classNames)?.slice(0, 80)}`);
    }
    if (bundle.classNames.length === 0 && numClasses) bundle.classNames = Array.from({ length: numClasses }, (_, i) => String(i));
    if (numClasses !== undefined && bundle.classNames.length !== numClasses) throw new Error(`classNames: ${bundle.classNames.length} names for a model of ${numClasses} classes`);
    if (bundle.preprocessing !== null) checkPreprocessing(bundle.preprocessing, 'preprocessing');
    if (bundle.explain !== null) {
      checkFields('explain', bundle.explain, {
        method: { type: 'string', maxLength: 64, optional: true },
        layer: { type: 'string', maxLength: 64, optional: true },
        zeroFirstPatch: { type: 'boolean', optional: true },
        clip: { type: 'ints', length: 2, optional: true },
      });
    }
    return bundle;
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
}

/**
 * Like {@link fromPretrained}, with the model's bundle: the saved JSON of a file `saveModel` wrote
 * (its config, class names, preprocessing and explanation defaults), or one made for any other
 * checkpoint (the inferred config, no preprocessing).
 *
 * @example
 * const { model, bundle } = await loadModelBundle('runs/demo/model.safetensors');
 * bundle.preprocessing?.steps;
 */
export async function loadModelBundle(pathOrBytes: string | Uint8Array, options: FromPretrainedOptions = {}): Promise<{ model: ConfigurableModel; bundle: SavedModelJson }> {
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : 'bytes';
  let saved: SavedModelJson | null = null;
  let model: ConfigurableModel;
  try {
    saved = options.config ? null : await readSavedJson(pathOrBytes);
    model = saved ? await loadSaved(pathOrBytes, saved.config, saved.keyPrefix) : await fromPretrained(pathOrBytes, options);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith('fromPretrained') ? msg : `fromPretrained(${source}): ${msg}`);
  }
  if (saved) return { model, bundle: { ...saved } };
  const config = configOf(model);
  const weights = typeof pathOrBytes === 'string' ? (pathOrBytes.split(/[\\/]/).pop() as string) : 'weights';
  const numClasses = 'numClasses' in config.options ? (config.options.numClasses as number | undefined) : undefined;
  return {
    model,
    bundle: {
      format: 'mst-ts-model',
      formatVersion: MODEL_FORMAT_VERSION,
      arch: config.model,
      config,
      keyPrefix: '',
      weights,
      classNames: numClasses ? Array.from({ length: numClasses }, (_, i) => String(i)) : [],
      preprocessing: null,
      explain: null,
    },
  };
}

/**
 * Rebuilds a model from the pair {@link saveModel} writes, given as bytes and JSON text (a
 * browser upload, an IndexedDB record). The JSON's config and key prefix are used as saved.
 *
 * @example
 * const model = await loadSavedModel(new Uint8Array(await weightsFile.arrayBuffer()), await jsonFile.text());
 */
export async function loadSavedModel(weights: Uint8Array, json: string | SavedModelJson): Promise<ConfigurableModel> {
  const saved = typeof json === 'string' ? parseSavedModelJson(json) : parseSavedModelJson(JSON.stringify(json));
  return loadSaved(weights, saved.config, saved.keyPrefix);
}

/** The saved JSON beside a path, or in a safetensors file's metadata; null for other checkpoints. */
async function readSavedJson(pathOrBytes: string | Uint8Array): Promise<SavedModelJson | null> {
  if (typeof pathOrBytes === 'string') {
    const fs = await import('node:fs/promises');
    const side = configPathFor(pathOrBytes);
    const text = await fs.readFile(side, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    // A JSON of the same name that is not ours (another tool's) is no reason to refuse the weights.
    if (text !== null && isOurs(text)) return parseSavedModelJson(text, side);
  }
  return withByteSource(pathOrBytes, async (src) => {
    if (src.size < 9 || detectCheckpointFormat(await src.read(0, 9), src.name) !== 'safetensors') return null;
    const meta = (await readSafetensorsHeader(src)).metadata.mst_ts_model;
    return typeof meta === 'string' ? parseSavedModelJson(meta, `${src.name} metadata`) : null;
  });
}

function isOurs(text: string): boolean {
  try {
    return (JSON.parse(text) as { format?: unknown })?.format === 'mst-ts-model';
  } catch {
    return false;
  }
}

async function loadSaved(pathOrBytes: string | Uint8Array, config: ModelConfig, keyPrefix: string): Promise<ConfigurableModel> {
  checkModelConfig(config, 'config');
  const sd = await loadCheckpoint(pathOrBytes);
  let model: ConfigurableModel;
  try {
    // Nothing is built that the file could not fill: a config asking for far more values is refused first.
    const held = Object.values(sd).reduce((a, t) => a + t.size, 0);
    const wanted = estimateModelValues(config);
    if (wanted !== null && wanted > 1.25 * held + 4096) {
      throw new Error(`config: describes a model of about ${wanted.toLocaleString('en-US')} values, but the file holds ${held.toLocaleString('en-US')}; the config does not belong to these weights`);
    }
    model = buildModel(config, { skipInit: true });
  } catch (e) {
    disposeStateDict(sd);
    throw e;
  }
  try {
    const dict: StateDict = Object.create(null);
    for (const [k, t] of Object.entries(sd)) {
      if (!k.startsWith(keyPrefix)) throw new Error(`key '${k}' lacks the prefix '${keyPrefix}' the model JSON declares`);
      dict[k.slice(keyPrefix.length)] = t;
    }
    model.loadStateDict(dict);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    disposeStateDict(sd);
  }
}

async function loadInferred(pathOrBytes: string | Uint8Array, options: FromPretrainedOptions): Promise<ConfigurableModel> {
  const sd = await loadCheckpoint(pathOrBytes, { key: options.key, opaqueObjects: options.opaqueObjects });
  let conv: ConvertedStateDict;
  try {
    conv = toOurConvention(sd, { convention: options.convention });
  } catch (e) {
    disposeStateDict(sd);
    throw e;
  }
  // Foreign heads (a Hugging Face classifier, MedicalNet's conv_seg) have no place in our models.
  disposeStateDict(conv.extra);
  let plan: Plan;
  try {
    plan = planModel(conv, options);
  } catch (e) {
    disposeStateDict(conv.stateDict);
    throw e;
  }
  const used = new Set(Object.values(plan.dict));
  for (const t of Object.values(conv.stateDict)) if (!used.has(t)) t.dispose();
  let model: ConfigurableModel | undefined;
  try {
    model = buildModel(plan.config, { skipInit: plan.target === 'encoder' ? 'encoder' : true });
    const into = plan.target === 'encoder' ? (model as MedicalSliceTransformer).encoder : model;
    into.loadStateDict(plan.dict);
    return model;
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    disposeStateDict(plan.dict);
  }
}

/** Keys under `prefix`, with it removed. */
function under(dict: StateDict, prefix: string): StateDict {
  const out: StateDict = Object.create(null);
  for (const [k, t] of Object.entries(dict)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = t;
  return out;
}

function planModel(conv: ConvertedStateDict, options: FromPretrainedOptions): Plan {
  const dict = conv.stateDict;
  const family = conv.family;
  const arch = options.arch;
  const seed = options.seed ?? 0;
  const refuse = (holds: string): never => {
    throw new Error(`the file holds ${holds} (${conv.convention}); it cannot become arch '${arch}'`);
  };
  if (family === 'dinov2') {
    const encoder: SliceEncoderConfig = { model: 'dinov2', options: dinov2Options(conv.dinov2!, options, seed) };
    if (arch === undefined || arch === 'dinov2') {
      checkNoClasses(options, 'a DINOv2 backbone (no head)');
      return { config: encoder, dict, target: '' };
    }
    if (arch === 'mst') return freshMst(encoder, conv.dinov2!.embedDim, conv.dinov2!.numHeads !== null, dict, options);
    return refuse('a DINOv2 backbone');
  }
  if (family === 'mst-dinov2' || family === 'mst-resnet') {
    const isDino = family === 'mst-dinov2';
    const encoder: SliceEncoderConfig = isDino
      ? { model: 'dinov2', options: dinov2Options(conv.dinov2!, options, seed) }
      : { model: 'resnet2d', options: { ...(resnetOptions(conv.resnet!, dict, 'encoder.', { ...options, numClasses: undefined }, false) as ResNet2DConfigOptions), feedForward: false } };
    if (!isDino && !isTorchvision(conv.resnet!, dict, 'encoder.')) throw new Error('the MST ResNet encoder is not a torchvision ResNet (7x7 RGB stem, shortcuts without bias), which ResNetSliceTrans uses');
    if (arch === 'dinov2' || arch === 'resnet2d') {
      if (arch !== encoder.model) refuse(`an MST with a ${encoder.model} encoder`);
      return { config: encoder, dict: under(dict, 'encoder.'), target: '' };
    }
    if (arch !== undefined && arch !== 'mst') refuse('an MST');
    return { config: mstConfig(encoder, conv, options, seed), dict, target: '' };
  }
  if (family === 'resnet3d') {
    if (arch !== undefined && arch !== 'resnet3d') refuse('a 3D ResNet');
    const o = resnetOptions(conv.resnet!, dict, '', options, true);
    const { spatialDims: _d, fcBiasInit: _f, ...rest } = o as ResNetOptions;
    return { config: { model: 'resnet3d', options: rest }, dict, target: '' };
  }
  if (family === 'resnet2d') {
    const torchvision = conv.convention === 'torchvision-resnet' && isTorchvision(conv.resnet!, dict, '');
    if (torchvision) {
      const o = resnetOptions(conv.resnet!, dict, '', arch === 'mst' ? { ...options, numClasses: undefined } : options, false) as ResNet2DConfigOptions;
      if (arch === 'mst') {
        const encoder: SliceEncoderConfig = { model: 'resnet2d', options: { ...o, feedForward: false, numClasses: undefined } };
        const body: StateDict = Object.create(null);
        for (const [k, t] of Object.entries(dict)) if (!k.startsWith('fc.')) body[k] = t;
        const width = conv.resnet!.featureSize;
        return freshMst(encoder, width, width === 512 || width === 2048, body, options);
      }
      if (arch !== undefined && arch !== 'resnet2d') refuse('a torchvision ResNet');
      return { config: { model: 'resnet2d', options: o }, dict, target: '' };
    }
    if (arch !== undefined && arch !== 'resnet') refuse('a MONAI 2D ResNet');
    return { config: { model: 'resnet', options: resnetOptions(conv.resnet!, dict, '', options, true) as ResNetOptions }, dict, target: '' };
  }
  throw new Error(`no model for the weights of convention '${conv.convention}'`);
}

function checkNoClasses(options: FromPretrainedOptions, what: string): void {
  if (options.numClasses !== undefined) throw new Error(`numClasses ${options.numClasses} was given, but the file holds ${what}; use arch 'mst' to add a classifier`);
}

/** DINOv2 options from what the tensors tell plus what the caller says. */
function dinov2Options(d: Dinov2Config, options: FromPretrainedOptions, seed: number): DinoVisionTransformerOptions {
  const E = d.embedDim;
  const numHeads = options.numHeads ?? d.numHeads;
  if (numHeads === null || numHeads === undefined) {
    throw new Error(`the DINOv2 width ${E} is not a standard variant (384, 768, 1024, 1536 have 6, 12, 16, 24 heads), and tensors do not tell the number of attention heads: pass { numHeads } (the CLI's --num-heads)`);
  }
  if (!(Number.isInteger(numHeads) && numHeads > 0 && E % numHeads === 0)) throw new Error(`numHeads must divide the DINOv2 width ${E}, got ${numHeads}`);
  let mlpRatio: number;
  if (d.ffnLayer === 'swiglufused') {
    // DINOv2 sizes the fused SwiGLU from E * mlp_ratio; 4 is every published model's.
    if (swigluHiddenFeatures(E * 4) !== d.ffnHidden) throw new Error(`the SwiGLU hidden width ${d.ffnHidden} does not follow from mlp_ratio 4 at width ${E} (expected ${swigluHiddenFeatures(E * 4)})`);
    mlpRatio = 4;
  } else {
    mlpRatio = d.ffnHidden / E;
    if (Math.floor(E * mlpRatio) !== d.ffnHidden) throw new Error(`the MLP hidden width ${d.ffnHidden} is not a representable multiple of the width ${E}`);
  }
  const reg = d.numRegisterTokens > 0;
  return {
    embedDim: E,
    depth: d.depth,
    numHeads,
    imgSize: d.posGridSize * d.patchSize,
    patchSize: d.patchSize,
    inChannels: d.inChannels,
    mlpRatio,
    ffnLayer: d.ffnLayer === 'swiglufused' ? 'swiglu' : 'mlp',
    numRegisters: d.numRegisterTokens,
    layerScaleInit: d.layerScale ? 1 : 0,
    interpolateOffset: options.interpolateOffset ?? (reg ? 0 : 0.1),
    interpolateAntialias: options.interpolateAntialias ?? reg,
    eps: 1e-6,
    seed,
  };
}

/** Whether a 2D ResNet has torchvision's stem and shortcuts (7x7 RGB conv1, no shortcut bias). */
function isTorchvision(r: ResNetConfig, dict: StateDict, prefix: string): boolean {
  return r.spatialDims === 2 && r.inChannels === 3 && r.conv1Kernel.every((k) => k === 7) && !Object.keys(dict).some((k) => k.startsWith(prefix) && /downsample\.0\.bias$/.test(k));
}

/** ResNet options from the tensors (under `prefix`): stage widths, shortcut kind and bias, head. */
function resnetOptions(r: ResNetConfig, dict: StateDict, prefix: string, options: FromPretrainedOptions, monai: boolean): ResNetOptions | ResNet2DConfigOptions {
  const planes = [1, 2, 3, 4].map((s) => dict[`${prefix}layer${s}.0.conv1.weight`].shape[0]) as [number, number, number, number];
  const hasB = Object.keys(dict).some((k) => k.startsWith(prefix) && /^layer[2-4]\.0\.downsample\.0\.weight$/.test(k.slice(prefix.length)));
  const biasDownsample = Object.keys(dict).some((k) => k.startsWith(prefix) && /downsample\.0\.bias$/.test(k));
  const numClasses = r.numClasses;
  if (options.numClasses !== undefined && numClasses !== null && options.numClasses !== numClasses) {
    throw new Error(`numClasses ${options.numClasses} was given, but the file's fc has ${numClasses} classes`);
  }
  if (numClasses === null && options.numClasses !== undefined) throw new Error(`the file has no fc head; a fresh head of ${options.numClasses} classes is not supported for a plain ResNet, build one and load the file with strict: false`);
  const head = numClasses === null ? { feedForward: false } : { numClasses: numClasses as number, feedForward: true };
  const inplanes = planes.every((p, i) => p === [64, 128, 256, 512][i]) ? {} : { blockInplanes: planes };
  if (!monai) return { block: r.block, layers: r.layers, ...head, ...inplanes, seed: options.seed ?? 0 };
  return {
    block: r.block,
    layers: r.layers,
    spatialDims: r.spatialDims,
    nInputChannels: r.inChannels,
    conv1TSize: r.conv1Kernel,
    conv1TStride: options.conv1Stride ?? 1,
    noMaxPool: options.noMaxPool ?? false,
    shortcutType: hasB ? 'B' : 'A',
    biasDownsample,
    ...head,
    ...inplanes,
    seed: options.seed ?? 0,
  };
}

/** Heads of the slice transformer: given, or the authors' for a published width, or an error. */
function sliceHeads(options: FromPretrainedOptions, isDino: boolean, standard: boolean, width: number): number {
  const heads = options.sliceHeads ?? (standard ? (isDino ? 12 : 16) : undefined);
  if (heads === undefined) {
    throw new Error(
      `the slice transformer's width ${width} is not one of the published models' (DINOv2 S/B/L/g features: 12 heads, ResNet 512/2048: 16), and tensors do not tell the number of heads: pass { sliceHeads } (the CLI's --slice-heads)`,
    );
  }
  if (!(Number.isInteger(heads) && heads > 0 && width % heads === 0)) throw new Error(`sliceHeads must divide the slice-feature width ${width}, got ${heads}`);
  return heads;
}

/** The encoder of an inferred config as a registry component. */
function component(encoder: SliceEncoderConfig): ComponentConfig {
  return { name: encoder.model, options: encoder.options as unknown as ComponentOptions };
}

/** The MST config the authors' checkpoint describes (fusion, bottleneck, positional embedding, head). */
function mstConfig(encoder: SliceEncoderConfig, conv: ConvertedStateDict, options: FromPretrainedOptions, seed: number): ModelConfig {
  const dict = conv.stateDict;
  const isDino = encoder.model === 'dinov2';
  const featureSize = isDino ? conv.dinov2!.embedDim : conv.resnet!.featureSize;
  const standard = isDino ? STANDARD_DINOV2_WIDTHS.has(featureSize) : featureSize === 512 || featureSize === 2048;
  const bottleneck = !!dict['bottleneck.weight'];
  const width = bottleneck ? featureSize / 4 : featureSize;
  if (bottleneck) expect(dict, 'bottleneck.weight', [width, featureSize]);
  const lin = dict['linear.weight']?.shape;
  if (!lin || lin.length !== 2) throw new Error(`'linear.weight' expected [classes, features], got ${lin ? `[${lin}]` : 'nothing'}`);
  const numClasses = lin[0];
  if (options.numClasses !== undefined && options.numClasses !== numClasses) throw new Error(`numClasses ${options.numClasses} was given, but the file's head has ${numClasses} classes`);
  let fusion: ComponentConfig;
  if (dict.cls_token) {
    const layers = new Set(Object.keys(dict).map((k) => /^slice_fusion\.layers\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined)).size;
    if (layers !== 1) throw new Error(`the slice transformer has ${layers} layers; MST has 1`);
    expect(dict, 'slice_fusion.layers.0.linear1.weight', [width, width]);
    const fusionOptions: ComponentOptions = { heads: sliceHeads(options, isDino, standard, width) };
    if (dict['slice_pos_emb.weight']) {
      expect(dict, 'slice_pos_emb.weight', [256, width]);
      fusionOptions.positionalEmbedding = 'learned';
    }
    fusion = { name: 'transformer', options: fusionOptions };
  } else if (lin[1] === width) {
    fusion = { name: 'average', options: {} };
  } else if (lin[1] % width === 0) {
    fusion = { name: 'linear', options: { numSlices: lin[1] / width } };
  } else {
    throw new Error(`'linear.weight' [${lin}] fits neither average fusion (${width} features) nor linear fusion (a multiple of ${width})`);
  }
  return { model: 'mst', encoder: component(encoder), fusion, options: { numClasses, bottleneck, freezeEncoder: false, seed } };
}

/** An MST around a pretrained encoder, with fresh fusion and head. */
function freshMst(encoder: SliceEncoderConfig, width: number, standard: boolean, dict: StateDict, options: FromPretrainedOptions): Plan {
  const isDino = encoder.model === 'dinov2';
  return {
    config: {
      model: 'mst',
      encoder: component(encoder),
      fusion: { name: 'transformer', options: { heads: sliceHeads(options, isDino, standard, width) } },
      options: { numClasses: options.numClasses ?? 2, bottleneck: false, freezeEncoder: false, seed: options.seed ?? 0 },
    },
    dict,
    target: 'encoder',
  };
}

function expect(dict: StateDict, key: string, want: number[]): void {
  const got = dict[key]?.shape;
  if (!got || got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`'${key}' expected shape [${want.join(', ')}], got ${got ? `[${got.join(', ')}]` : 'nothing'}`);
  }
}

/**
 * The bundle JSON of a weights file as {@link fromPretrained} finds it (the `.json` beside the
 * path, else the safetensors metadata), checked; null for a checkpoint without one. Reads only
 * the JSON and the safetensors header, so callers can look at a file's architecture cheaply.
 *
 * @example
 * (await readSavedModelJson('runs/demo/model.safetensors'))?.arch; // 'mst-dinov2-tiny'
 */
export async function readSavedModelJson(pathOrBytes: string | Uint8Array): Promise<SavedModelJson | null> {
  return readSavedJson(pathOrBytes);
}
