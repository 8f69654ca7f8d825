import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The exports of native/norm_gelu.c. */
export interface NormGeluExports {
  layer_norm(x: number, w: number, b: number, y: number, rows: number, c: number, eps: number): void;
  layer_norm_grad(x: number, w: number, dy: number, dx: number, dw: number, db: number, rows: number, c: number, eps: number, scratch: number): void;
  gelu(x: number, y: number, n: number): void;
  gelu_grad(x: number, dy: number, dx: number, n: number): void;
}

/** Kernel names; registered on wasm only (src/ops/layer_norm.ts and gelu.ts compose tfjs ops elsewhere). */
export const LAYER_NORM = 'MstLayerNorm';
export const LAYER_NORM_GRAD = 'MstLayerNormGrad';
export const GELU = 'MstGelu';
export const GELU_GRAD = 'MstGeluGrad';

let state: { exports: NormGeluExports; scratch: number; scratchFloats: number } | null = null;

/**
 * Registers native LayerNorm and exact GELU with their gradients (native/norm_gelu.c) on the wasm
 * backend for float32: one pass each instead of tfjs's chains of element-wise kernels. `scratch`
 * is the sgemm work buffer (`scratchFloats` floats; one thread: never used by two kernels at
 * once). Called by installWasmMatMul, which owns the module.
 */
export function installWasmNormGelu(exports: NormGeluExports, scratch: number, scratchFloats: number): void {
  if (state) return;
  state = { exports, scratch, scratchFloats };
  const reg = (kernelName: string, kernelFunc: (args: never) => tf.TensorInfo | tf.TensorInfo[]): void =>
    void tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  reg(LAYER_NORM, layerNorm);
  reg(LAYER_NORM_GRAD, layerNormGrad);
  reg(GELU, gelu);
  reg(GELU_GRAD, geluGrad);
}

type Args<I extends string> = { inputs: Record<I, tf.TensorInfo>; backend: unknown; attrs: { eps?: number } };


function layerNorm(args: Args<'x' | 'weight' | 'bias'>): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x, weight, bias } = args.inputs;
  const c = x.shape[x.shape.length - 1];
  const out = backend.makeOutput(x.shape, 'float32');
  const rows = tf.util.sizeFromShape(x.shape) / Math.max(1, c);
  if (rows * c === 0 || !state) return out;
  state.exports.layer_norm(heapOffset(backend, x), heapOffset(backend, weight), heapOffset(backend, bias), heapOffset(backend, out), rows, c, args.attrs.eps as number);
  return out;
}

function layerNormGrad(args: Args<'x' | 'weight' | 'dy'>): tf.TensorInfo[] {
  const backend = args.backend as WasmHeapBackend;
  const { x, weight, dy } = args.inputs;
  const c = x.shape[x.shape.length - 1];
  const dx = backend.makeOutput(x.shape, 'float32');
  const dw = backend.makeOutput([c], 'float32');
  const db = backend.makeOutput([c], 'float32');
  const rows = tf.util.sizeFromShape(x.shape) / Math.max(1, c);
  if (!state) return [dx, dw, db];
  if (c > state.scratchFloats) throw new Error(`wasm layer norm gradient: rows of ${c} exceed the kernel's scratch of ${state.scratchFloats} floats`);
  state.exports.layer_norm_grad(
    heapOffset(backend, x), heapOffset(backend, weight), heapOffset(backend, dy), heapOffset(backend, dx), heapOffset(backend, dw), heapOffset(backend, db),
    rows, c, args.attrs.eps as number, state.scratch,
  );
  return [dx, dw, db];
}

function gelu(args: Args<'x'>): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x } = args.inputs;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0 && state) state.exports.gelu(heapOffset(backend, x), heapOffset(backend, out), n);
  return out;
}

function geluGrad(args: Args<'x' | 'dy'>): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x, dy } = args.inputs;
  const out = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0 && state) state.exports.gelu_grad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), n);
  return out;
}
