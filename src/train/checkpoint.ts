import * as tf from '@tensorflow/tfjs';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { readBytes } from '../io/files';
import { decodeSafetensorsEntry, parseSafetensorsHeader, saveSafetensors } from '../io/safetensors';
import type { AdamW } from './adamw';

/** Where training stands after an epoch: what a resumed run needs besides tensors. */
export interface TrainingState {
  /** Epochs completed (1-based count; 0 before the first). */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Best validation AUC so far (NaN before the first validation). */
  bestAuc: number;
  /** Epoch that reached {@link bestAuc} (0 when none). */
  bestEpoch: number;
  /** Epochs since the last improvement, for early stopping. */
  epochsWithoutImprovement: number;
  /** Cases skipped because loading them failed, over the whole run. */
  skippedCases: number;
  /** Whether early stopping ended the run. */
  stopped: boolean;
  /** The run's seed; a resume with another seed is refused. */
  seed: number;
}

const FORMAT = 'mst-ts-training-checkpoint';
const VERSION = '1';

/**
 * Writes a resumable checkpoint as ONE safetensors file, atomically (temporary file, then rename),
 * so a crash leaves the previous checkpoint intact: the model's state dict (PyTorch layout) under
 * `model.`, the AdamW moments under `optimizer.` (tfjs layout) and the {@link TrainingState} as
 * JSON in the header metadata.
 *
 * @example
 * await saveTrainingCheckpoint('run/last.safetensors', model, optimizer, state);
 */
export async function saveTrainingCheckpoint(path: string, model: Module, optimizer: AdamW, state: TrainingState): Promise<void> {
  const modelDict = model.stateDict();
  const opt = optimizer.stateDict();
  const dict: StateDict = {};
  for (const [k, t] of Object.entries(modelDict)) dict[`model.${k}`] = t;
  for (const [k, t] of Object.entries(opt.tensors)) dict[`optimizer.${k}`] = t;
  try {
    await saveSafetensors(dict, path, {
      format: FORMAT,
      version: VERSION,
      optimizer_step: String(opt.step),
      state: JSON.stringify(state, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    });
  } finally {
    disposeStateDict(dict);
  }
}

/**
 * Restores a checkpoint written by {@link saveTrainingCheckpoint} into `model` and `optimizer`
 * (both must have the same architecture) and returns the training state.
 */
export async function loadTrainingCheckpoint(path: string, model: Module, optimizer: AdamW): Promise<TrainingState> {
  const { tensors, metadata } = await readSafetensorsWithMetadata(path);
  try {
    if (metadata.format !== FORMAT) {
      throw new Error(`loadTrainingCheckpoint: '${path}' is not an mst-ts training checkpoint (format '${metadata.format ?? 'none'}')`);
    }
    const modelDict: StateDict = Object.create(null);
    const optTensors: Record<string, tf.Tensor> = Object.create(null);
    for (const [k, t] of Object.entries(tensors)) {
      if (k.startsWith('model.')) modelDict[k.slice('model.'.length)] = t;
      else if (k.startsWith('optimizer.')) optTensors[k.slice('optimizer.'.length)] = t;
    }
    model.loadStateDict(modelDict);
    optimizer.loadStateDict({ tensors: optTensors, step: Number(metadata.optimizer_step) });
    return JSON.parse(metadata.state, (_k, v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v)) as TrainingState;
  } finally {
    disposeStateDict(tensors);
  }
}

/** Reads every tensor of a safetensors file together with its header metadata. */
export async function readSafetensorsWithMetadata(path: string): Promise<{ tensors: StateDict; metadata: Record<string, string> }> {
  const bytes = await readBytes(path);
  const header = parseSafetensorsHeader(bytes, path);
  const tensors: StateDict = Object.create(null);
  for (const [key, e] of Object.entries(header.entries)) {
    const data = decodeSafetensorsEntry(bytes, header, key);
    tensors[key] = tf.tensor(data, e.shape, data instanceof Float32Array ? 'float32' : 'int32');
  }
  return { tensors, metadata: header.metadata };
}
