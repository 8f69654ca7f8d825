import type * as tf from '@tensorflow/tfjs';
import { encodeSafetensors } from '../io/safetensors';
import { writeFileAtomic } from '../io/files';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { configOf, type ModelConfig } from './model_config';

/** Version of the JSON written next to the weights; readers refuse newer ones. */
export const MODEL_FORMAT_VERSION = 1;

/** The JSON file {@link saveModel} writes next to the safetensors file. */
export interface SavedModelJson {
  /** Always 'mst-ts-model'. */
  format: 'mst-ts-model';
  formatVersion: number;
  /** Rebuilds the model (see `buildModel`). */
  config: ModelConfig;
  /** Prefix every safetensors key carries (`model.` for the authors' 3D `ResNet` wrapper), or ''. */
  keyPrefix: string;
  /** File name of the weights, beside this file. */
  weights: string;
}

/** Options of {@link saveModel} and {@link encodeModel}. */
export interface SaveModelOptions {
  /**
   * Prefix for every key: `'model.'` makes a ResNet3D file that the authors' Lightning `ResNet`
   * class (`self.model = monai resnet`) accepts in `load_state_dict`. Default ''.
   */
  keyPrefix?: string;
}

/** What {@link encodeModel} returns: the two files as bytes and text. */
export interface EncodedModel {
  /** safetensors bytes, PyTorch names and layouts, F32. */
  weights: Uint8Array;
  /** The {@link SavedModelJson} as text. */
  json: string;
}

/**
 * The state dict under the names of the PyTorch originals, plus the config that rebuilds it.
 * An MST over a ResNet2D is stored as the authors' `ResNetSliceTrans` (`model.*`, no `fc`, whose
 * `fc` is `nn.Identity`), an MST over DINOv2 as `DinoV2ClassifierSlice` (`encoder.*`); the config
 * says the same so `fromPretrained` rebuilds the matching key set. The caller disposes `dict`.
 *
 * @example
 * const { dict, config } = originalStateDict(model); // dict['encoder.blocks.0.attn.qkv.weight'], ...
 */
export function originalStateDict(model: Module): { dict: StateDict; config: ModelConfig } {
  const config = configOf(model);
  const dict = model.stateDict();
  if (config.model !== 'mst') return { dict, config };
  const encoderName = (config.options.encoderName ?? 'encoder') + '.';
  const authors = config.encoder.model === 'resnet2d' ? 'model.' : 'encoder.';
  const out: StateDict = {};
  for (const [k, t] of Object.entries(dict)) {
    if (!k.startsWith(encoderName)) {
      out[k] = t;
      continue;
    }
    const rest = k.slice(encoderName.length);
    // ResNetSliceTrans replaces the torchvision head by nn.Identity: no `fc` keys. Ours is unused by MST.
    if (authors === 'model.' && /^fc\./.test(rest)) t.dispose();
    else out[authors + rest] = t;
  }
  const encoder = config.encoder.model === 'resnet2d' ? { model: 'resnet2d' as const, options: { ...config.encoder.options, feedForward: false } } : config.encoder;
  return { dict: out, config: { ...config, encoder, options: { ...config.options, encoderName: authors.slice(0, -1) } } };
}

/**
 * Encodes a model as the pair {@link saveModel} writes: safetensors with the PyTorch originals'
 * keys (F32) and the JSON config. The safetensors `__metadata__` carries the same JSON under
 * `mst_ts_model`, so the weights file alone also rebuilds the model.
 *
 * @example
 * const { weights, json } = await encodeModel(resnet3d18({ numClasses: 2 }));
 */
export async function encodeModel(model: Module, options: SaveModelOptions = {}, weightsName = 'model.safetensors'): Promise<EncodedModel> {
  const keyPrefix = options.keyPrefix ?? '';
  const { dict, config } = originalStateDict(model);
  const prefixed: StateDict = {};
  for (const [k, t] of Object.entries(dict)) prefixed[keyPrefix + k] = t as tf.Tensor;
  const saved: SavedModelJson = { format: 'mst-ts-model', formatVersion: MODEL_FORMAT_VERSION, config, keyPrefix, weights: weightsName };
  const json = JSON.stringify(saved, null, 1);
  try {
    const weights = await encodeSafetensors(prefixed, { format: 'pt', mst_ts_model: JSON.stringify(saved) });
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
 * Saves a model as `<path>` (safetensors, the PyTorch originals' key names and layouts, F32) and
 * `<path without .safetensors>.json` (its {@link ModelConfig} and the format version), each
 * written atomically. `fromPretrained(path)` rebuilds it bit for bit; in PyTorch,
 * `model.load_state_dict(safetensors.torch.load_file(path))` loads it into the original classes:
 * the DINOv2 hub `DinoVisionTransformer`, MONAI `resnet*` / torchvision `resnet*`, the authors'
 * `DinoV2ClassifierSlice` and `ResNetSliceTrans`, and their 3D `ResNet` with `{ keyPrefix: 'model.' }`
 * (or `model.model.load_state_dict(...)` without it).
 *
 * @example
 * await saveModel(model, 'runs/mst.safetensors'); // also writes runs/mst.json
 * const again = await fromPretrained('runs/mst.safetensors');
 */
export async function saveModel(model: Module, path: string, options: SaveModelOptions = {}): Promise<void> {
  const name = path.split(/[\\/]/).pop() as string;
  const { weights, json } = await encodeModel(model, options, name);
  await writeFileAtomic(path, weights);
  await writeFileAtomic(configPathFor(path), json);
}
