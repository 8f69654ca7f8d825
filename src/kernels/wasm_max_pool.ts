import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels touch. */
interface WasmBackendInternals extends WasmHeapBackend {
  wasm: { HEAP32: Int32Array };
}

/** The exports of native/max_pool.c. */
export interface MaxPoolExports {
  max_pool3d(x: number, y: number, params: number): void;
  max_pool3d_grad(x: number, dy: number, dx: number, params: number): void;
}

/** Window `[kd, kh, kw]`, stride and padding of the max-pool kernels (padding at most half the window). */
export interface MaxPool3dAttrs {
  kernel: [number, number, number];
  stride: [number, number, number];
  padding: [number, number, number];
}

/** Kernel names, registered on wasm only (src/layers/max_pool.ts composes tfjs ops elsewhere). */
export const MAX_POOL_3D = 'MstMaxPool3D';
export const MAX_POOL_3D_GRAD = 'MstMaxPool3DGrad';

let state: { exports: MaxPoolExports; params: number } | null = null;

/**
 * Registers native 3D max pooling and its gradient (native/max_pool.c) on the wasm backend, for
 * float32 `[B, D, H, W, C]`. `params` is a 16-byte aligned scratch of 14 ints in the wasm heap.
 * Called by installWasmMatMul, which owns the module.
 */
export function installWasmMaxPool(exports: MaxPoolExports, params: number): void {
  if (state) return;
  state = { exports, params };
  tf.registerKernel({ kernelName: MAX_POOL_3D, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: MAX_POOL_3D_GRAD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc });
}

function setParams(backend: WasmBackendInternals, shape: number[], a: MaxPool3dAttrs): number[] {
  const [, d, h, w] = shape;
  backend.wasm.HEAP32.set([...shape, ...a.kernel, ...a.stride, ...a.padding], (state as { params: number }).params / 4);
  const out = [d, h, w].map((n, i) => Math.floor((n + 2 * a.padding[i] - a.kernel[i]) / a.stride[i]) + 1);
  return [shape[0], ...out, shape[4]];
}

function forward(args: { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: MaxPool3dAttrs }): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const { x } = args.inputs;
  const outShape = setParams(backend, x.shape, args.attrs);
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0 || !state) return out;
  // makeOutput may have grown the heap: the parameters are written again through the new view.
  setParams(backend, x.shape, args.attrs);
  state.exports.max_pool3d(heapOffset(backend, x), heapOffset(backend, out), state.params);
  return out;
}

function backward(args: { inputs: { x: tf.TensorInfo; dy: tf.TensorInfo }; backend: unknown; attrs: MaxPool3dAttrs }): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const { x, dy } = args.inputs;
  const out = backend.makeOutput([...x.shape], 'float32');
  if (tf.util.sizeFromShape(x.shape) === 0 || !state) return out;
  setParams(backend, x.shape, args.attrs);
  state.exports.max_pool3d_grad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), state.params);
  return out;
}

