import type * as tf from '@tensorflow/tfjs';
import type { PreprocessingSpec } from '../data/preprocessing';
import { encodeSafetensors, type WeightDtype } from '../io/safetensors';
import { writeFileAtomic } from '../io/files';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { configOf, type ModelConfig } from './model_config';
import { archOf } from './registry';

/** Version of the JSON written next to the weights; readers refuse newer ones and upgrade older ones. */
export const MODEL_FORMAT_VERSION = 2;

/** How a bundle's model is explained by default (`mst-ts explain`, `loadClassifier().explain`). */
export interface ExplainDefaults {
  /** Method name (`attention`, `rollout`, `gradcam`, `gradcam++`, ...). */
  method?: string;
  /** Grad-CAM layer (`layer4`). */
  layer?: string;
  /** Plane attention with the first patch zeroed, as the authors' code. */
  zeroFirstPatch?: boolean;
  /** Montage colour clip as quantiles of the map, `[low, high]`. */
  clip?: [number, number];
}

/**
 * A model bundle: the JSON file {@link saveModel} writes next to the safetensors weights (and
 * into their metadata), holding everything needed to run the model on a raw scan.
 */
export interface SavedModelJson {
  /** Always 'mst-ts-model'. */
  format: 'mst-ts-model';
  formatVersion: number;
  /** The registry architecture it was created as (`mst-dinov2-tiny-conv`), or the config's kind (`mst`). */
  arch: string;
  /** Rebuilds the model (see `buildModel`). */
  config: ModelConfig;
  /** Prefix every safetensors key carries (`model.` for the authors' 3D `ResNet` wrapper), or ''. */
  keyPrefix: string;
  /** File name of the weights, beside this file. */
  weights: string;
  /** Class names, index = class (default `['0', '1', ...]`). */
  classNames: string[];
  /** How raw scans were prepared for training; null when the input must already be prepared. */
  preprocessing: PreprocessingSpec | null;
  /** Explanation defaults; null for the model's own default method. */
  explain: ExplainDefaults | null;
}

/** What a bundle says about its model besides the architecture: for {@link saveModel}. */
export interface BundleInfo {
  /** Class names, index = class (default `['0', '1', ...]`). */
  classNames?: string[];
  /** The preprocessing the model was trained with (what `mst-ts train` applied). */
  preprocessing?: PreprocessingSpec | null;
  /** Explanation defaults. */
  explain?: ExplainDefaults | null;
  /** The architecture name to record (default: the registry name it was created as). */
  arch?: string;
}

/** Options of {@link saveModel} and {@link encodeModel}. */
export interface SaveModelOptions extends BundleInfo {
  /**
   * Prefix for every key: `'model.'` makes a ResNet3D file that the authors' Lightning `ResNet`
   * class (`self.model = monai resnet`) accepts in `load_state_dict`. Default ''.
   */
  keyPrefix?: string;
  /**
   * Storage of the weight matrices (rank >= 2): `float32` (default), `float16` or `bfloat16` (half
   * the bytes, e.g. for a web page's download), `int8` (a quarter; inference only). Readers
   * convert them back to float32; biases and norms stay float32 (see `encodeSafetensors`).
   */
  dtype?: WeightDtype;
}

/** What {@link encodeModel} returns: the two files as bytes and text. */
export interface EncodedModel {
  /** safetensors bytes, PyTorch names and layouts, F32 (or the `dtype` asked for). */
  weights: Uint8Array;
  /** The {@link SavedModelJson} as text. */
  json: string;
}

/**
 * The bundle JSON of a model (no weights): config, architecture, class names, preprocessing.
 *
 * @example
 * bundleJson(model, { classNames: ['benign', 'malignant'] }).config.model; // 'mst'
 */
export function bundleJson(model: Module, options: SaveModelOptions = {}, weightsName = 'model.safetensors'): SavedModelJson {
  const config = configOf(model);
  const numClasses = 'numClasses' in config.options ? (config.options.numClasses as number | undefined) : undefined;
  const classNames = options.classNames ?? (numClasses ? Array.from({ length: numClasses }, (_, i) => String(i)) : []);
  if (numClasses !== undefined && classNames.length !== numClasses) {
    throw new Error(`saveModel: ${classNames.length} class names for a model of ${numClasses} classes`);
  }
  return {
    format: 'mst-ts-model',
    formatVersion: MODEL_FORMAT_VERSION,
    arch: options.arch ?? archOf(model) ?? config.model,
    config,
    keyPrefix: options.keyPrefix ?? '',
    weights: weightsName,
    classNames,
    preprocessing: options.preprocessing ?? null,
    explain: options.explain ?? null,
  };
}

/**
 * Encodes a model as the pair {@link saveModel} writes: safetensors with the PyTorch originals'
 * keys (F32) and the bundle JSON. The safetensors `__metadata__` carries the same JSON under
 * `mst_ts_model`, so the weights file alone also rebuilds the model.
 *
 * @example
 * const { weights, json } = await encodeModel(resnet3d18({ numClasses: 2 }));
 */
export async function encodeModel(model: Module, options: SaveModelOptions = {}, weightsName = 'model.safetensors'): Promise<EncodedModel> {
  const saved = bundleJson(model, options, weightsName);
  const dict = model.stateDict();
  const prefixed: StateDict = {};
  for (const [k, t] of Object.entries(dict)) prefixed[saved.keyPrefix + k] = t as tf.Tensor;
  const json = JSON.stringify(saved, null, 1);
  try {
    const weights = await encodeSafetensors(prefixed, { format: 'pt', mst_ts_model: JSON.stringify(saved) }, { dtype: options.dtype });
    return { weights, json: `${json}\n` };
  } finally {
    disposeStateDict(prefixed);
  }
}

/** The JSON path saved beside a weights path: `model.safetensors` -> `model.json`. */
export function configPathFor(weightsPath: string): string {
  return weightsPath.endsWith('.safetensors') ? `${weightsPath.slice(0, -'.safetensors'.length)}.json` : `${weightsPath}.json`;
}

/**
 * Saves a model bundle: `<path>` (safetensors, the PyTorch originals' key names and layouts, F32)
 * and `<path without .safetensors>.json` (architecture, config, class names, preprocessing,
 * explanation defaults, format version), each written atomically (the folder is created).
 * `fromPretrained(path)` and `loadClassifier(path)` rebuild it bit for bit; in PyTorch,
 * `model.load_state_dict(safetensors.torch.load_file(path))` loads it into the original classes:
 * the DINOv2 hub `DinoVisionTransformer`, MONAI `resnet*` / torchvision `resnet*`, the authors'
 * `DinoV2ClassifierSlice` and `ResNetSliceTrans`, and their 3D `ResNet` with `{ keyPrefix: 'model.' }`.
 *
 * @example
 * await saveModel(model, 'runs/mst.safetensors', { classNames: ['benign', 'malignant'], preprocessing });
 * const again = await fromPretrained('runs/mst.safetensors');
 * await saveModel(model, 'web/mst.safetensors', { dtype: 'float16' }); // half the download
 */
export async function saveModel(model: Module, path: string, options: SaveModelOptions = {}): Promise<void> {
  const name = path.split(/[\\/]/).pop() as string;
  const { weights, json } = await encodeModel(model, options, name);
  await writeFileAtomic(path, weights);
  await writeFileAtomic(configPathFor(path), json);
}
