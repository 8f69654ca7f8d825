import type { ComponentConfig } from '../models/component_registry';
import type { MstModelConfig } from '../models/medical_slice_transformer';
import type { ResNet3DModelConfig } from '../models/resnet3d';

/** Main thread -> worker: build an MST or a 3D ResNet for data-parallel training (the weights are shared before each step). */
export interface InitModelMessage {
  type: 'initModel';
  config: MstModelConfig | ResNet3DModelConfig;
  /** Modules that register the model's own encoder or fusion, imported first. */
  modules: string[];
  backend: string;
}

/** One tensor's place in a shared buffer: its module path, byte offset, shape and dtype. */
export interface SharedTensorSlot {
  name: string;
  offset: number;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/**
 * Main thread -> worker, once per model layout: the memory the steps share. `weights` holds the
 * parameters, then the buffers (written by the main thread before each step); `grads` has one
 * buffer per worker (this one's at `index`), with each parameter's gradient at the parameter's
 * offset.
 */
export interface ShareMemoryMessage {
  type: 'shareMemory';
  id: number;
  params: SharedTensorSlot[];
  buffers: SharedTensorSlot[];
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer[];
  index: number;
}

/**
 * Main thread -> worker, after every shard's gradients: the weighted sum of all workers' gradient
 * buffers over the floats [from, to), written over the first buffer. `weights[j]` null: worker
 * j's shard is left out.
 */
export interface ReduceMessage {
  type: 'reduce';
  id: number;
  weights: (number | null)[];
  from: number;
  to: number;
}

/** Main thread -> worker: the loss and gradients of a shard of the batch at the weights in shared memory. */
export interface GradsMessage {
  type: 'grads';
  id: number;
  /** `[B, D, H, W]` volumes, row-major. */
  data: Float32Array;
  shape: [number, number, number, number];
  labels: number[];
  /** Slice checkpointing chunk (0: plain gradients); for a 3D ResNet, > 0 checkpoints its blocks. */
  chunkSize: number;
  /** Cross-entropy class weights (torch's `weight`); absent: unweighted. */
  classWeights?: number[];
  /** Whether each shared parameter (in the layout's order) is trainable in the main thread's model now. */
  trainable: boolean[];
}

/** Main thread -> worker: build the encoder and load its weights. */
export interface InitMessage {
  type: 'init';
  /** The encoder by registered name and options. */
  encoder: ComponentConfig;
  /** Modules that register an encoder of your own, imported first. */
  modules: string[];
  /** The encoder's state dict as safetensors bytes (PyTorch layout). */
  weights: Uint8Array;
  /** tfjs backend of the worker (default 'wasm'). */
  backend: string;
}

/** Main thread -> worker: encode `[N, H, W, C]` images (C = 1 is repeated to the encoder's channels). */
export interface EncodeMessage {
  type: 'encode';
  id: number;
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Worker -> main thread. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; features: Float32Array; featureSize: number }
  /** The shared memory is mapped onto the worker's model, or a reduction is done. */
  | { type: 'shared' | 'reduced'; id: number }
  /** The gradients are in the worker's shared `grads` buffer; `names`: the parameters that have one (module paths). */
  | {
      type: 'grads';
      id: number;
      loss: number;
      names: string[];
      /** The model's batch-norm buffers after the step (running statistics from the shard). */
      buffers?: { names: string[]; values: (Float32Array | Int32Array)[] };
    }
  | { type: 'error'; id?: number; message: string };
