import type { ComponentConfig } from '../models/component_registry';
import type { MstModelConfig } from '../models/medical_slice_transformer';

/** Main thread -> worker: build an MST for data-parallel training (weights come with each step). */
export interface InitModelMessage {
  type: 'initModel';
  config: MstModelConfig;
  /** Modules that register the model's own encoder or fusion, imported first. */
  modules: string[];
  backend: string;
}

/** Main thread -> worker: the loss and gradients of a shard of the batch at the given weights. */
export interface GradsMessage {
  type: 'grads';
  id: number;
  /** The model's full state dict as safetensors bytes. */
  weights: Uint8Array;
  /** `[B, D, H, W]` volumes, row-major. */
  data: Float32Array;
  shape: [number, number, number, number];
  labels: number[];
  /** Slice checkpointing chunk (0: plain gradients). */
  chunkSize: number;
  /** Cross-entropy class weights (torch's `weight`); absent: unweighted. */
  classWeights?: number[];
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
  /** Gradients in our layout, keyed by module path (parameters without a gradient absent). */
  | { type: 'grads'; id: number; loss: number; names: string[]; grads: Float32Array[] }
  | { type: 'error'; id?: number; message: string };
