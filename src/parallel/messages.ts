import type { EncoderSpec } from './encoder_spec';

/** Main thread -> worker: build the encoder and load its weights. */
export interface InitMessage {
  type: 'init';
  spec: EncoderSpec;
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
  | { type: 'error'; id?: number; message: string };
