import type * as tf from '@tensorflow/tfjs';
import type { StateDict } from '../nn/module';
import { withByteSource, type ByteSource } from './byte_source';
import type { RawDtype } from './raw_dtypes';
import { readSafetensorsHeader, loadSafetensors } from './safetensors';
import { findStateDict, openTorchCheckpoint, plainConverter, topLevelKeys, type TorchCheckpointOptions } from './torch_checkpoint';

/** Checkpoint container formats {@link loadCheckpoint} reads. */
export type CheckpointFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

/** Options of {@link loadCheckpoint} and {@link inspectCheckpoint}. */
export interface LoadCheckpointOptions extends TorchCheckpointOptions {
  /**
   * Dotted path of the state dict inside a torch checkpoint (default: the root when it holds
   * tensors, else `state_dict`, `model_state_dict`, `model`, `module`, `net`, `teacher`).
   */
  key?: string;
}

/** Type and shape of one tensor of a checkpoint, read without loading its data. */
export interface CheckpointTensorInfo {
  dtype: RawDtype;
  shape: number[];
}

/** What {@link inspectCheckpoint} reports. */
export interface CheckpointInfo {
  format: CheckpointFormat;
  /** Where the state dict was found in a torch checkpoint (`state_dict` for Lightning), or null for the root. */
  stateDictKey: string | null;
  /** Every tensor of the state dict, in file order. */
  tensors: Record<string, CheckpointTensorInfo>;
  /** Top-level keys of a torch checkpoint (`epoch`, `hyper_parameters`, ...). */
  topLevelKeys: string[];
  /** Safetensors `__metadata__`, or a torch checkpoint's non-tensor top-level values as plain JSON. */
  metadata: Record<string, unknown>;
}

/**
 * The format of a checkpoint from its first bytes: `PK` is a zip (torch >= 1.6), a pickle
 * protocol marker is a legacy torch file, and an 8-byte length followed by `{` is safetensors.
 */
export function detectCheckpointFormat(head: Uint8Array, source = 'checkpoint'): CheckpointFormat {
  if (head.byteLength >= 2 && head[0] === 0x50 && head[1] === 0x4b) return 'torch-zip';
  if (head.byteLength >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'torch-legacy';
  if (head.byteLength >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0) return 'safetensors';
  const hex = Array.from(head.subarray(0, 9), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`${source}: unknown checkpoint format (first bytes ${hex || '(empty)'}); expected safetensors, a torch.save zip or a legacy torch.save file`);
}

async function formatOf(src: ByteSource): Promise<CheckpointFormat> {
  return detectCheckpointFormat(await src.read(0, Math.min(9, src.size)), src.name);
}

/**
 * Loads a state dict from safetensors, a `torch.save` file (`.pth`, `.pt`, `.bin`; zip or legacy
 * format) or a PyTorch Lightning `.ckpt` (weights under `state_dict`), detecting the format by its
 * magic bytes. Keys are returned as stored; map them with {@link toOurConvention}. Floats become
 * float32 tensors, integers int32. Torch pickles are read by a restricted unpickler that never
 * runs code and refuses anything but tensors and containers.
 *
 * @example
 * const sd = await loadCheckpoint('dinov2_vits14_pretrain.pth');
 * model.loadStateDict(toOurConvention(sd).stateDict);
 */
export async function loadCheckpoint(pathOrBytes: string | Uint8Array, options: LoadCheckpointOptions = {}): Promise<StateDict> {
  return withByteSource(pathOrBytes, async (src) => {
    const format = await formatOf(src);
    if (format === 'safetensors') return loadSafetensors(pathOrBytes);
    const ckpt = await openTorchCheckpoint(src, options);
    const { tensors } = findStateDict(ckpt.root, options.key, src.name);
    // Null-prototype: a tensor named `__proto__` is a key like any other, never a prototype.
    const out: StateDict = Object.create(null);
    try {
      for (const [name, ref] of tensors) {
        if (name in out) throw new Error(`${src.name}: the state dict names '${name}' twice`);
        out[name] = await ckpt.tensor(ref, name);
      }
    } catch (err) {
      for (const t of Object.values(out)) (t as tf.Tensor).dispose();
      throw err;
    }
    return out;
  }, 'checkpoint');
}

/**
 * Lists a checkpoint's tensors (names, dtypes, shapes) and metadata without reading tensor data:
 * a safetensors header, or a torch checkpoint's pickle.
 *
 * @example
 * const info = await inspectCheckpoint('epoch=12.ckpt');
 * info.stateDictKey; // 'state_dict'
 */
export async function inspectCheckpoint(pathOrBytes: string | Uint8Array, options: LoadCheckpointOptions = {}): Promise<CheckpointInfo> {
  return withByteSource(pathOrBytes, async (src) => {
    const format = await formatOf(src);
    if (format === 'safetensors') {
      const header = await readSafetensorsHeader(src);
      const tensors: Record<string, CheckpointTensorInfo> = Object.create(null);
      const ordered = Object.entries(header.entries).sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
      for (const [k, e] of ordered) tensors[k] = { dtype: e.dtype, shape: e.shape };
      return { format, stateDictKey: null, tensors, topLevelKeys: [], metadata: header.metadata };
    }
    const ckpt = await openTorchCheckpoint(src, options);
    const found = findStateDict(ckpt.root, options.key, src.name);
    const tensors: Record<string, CheckpointTensorInfo> = Object.create(null);
    for (const [k, ref] of found.tensors) tensors[k] = { dtype: ref.storage.dtype, shape: ref.shape };
    const metadata: Record<string, unknown> = Object.create(null);
    if (ckpt.root instanceof Map && found.key !== null) {
      const plain = plainConverter();
      for (const [k, v] of ckpt.root) if (String(k) !== found.key) metadata[String(k)] = plain(v, String(k));
    }
    return { format: ckpt.format, stateDictKey: found.key, tensors, topLevelKeys: topLevelKeys(ckpt.root), metadata };
  }, 'checkpoint');
}
