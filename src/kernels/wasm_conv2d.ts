import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

type Conv2dFn = (x: number, w: number, y: number, n: number, hi: number, wi: number, ci: number, co: number, kh: number, kw: number, sh: number, sw: number, work: number) => void;

/** The exports of native/conv2d.c. */
export interface Conv2dExports {
  conv2d_forward: Conv2dFn;
  conv2d_filter_grad: Conv2dFn;
}

/** Kernel names: the forward shares src/ops/conv2d.ts's name; the filter gradient is wasm-only. */
export const CONV2D = 'MstConv2D';
export const CONV2D_FILTER_GRAD = 'MstConv2DFilterGrad';

let state: { exports: Conv2dExports; work: number } | null = null;

/**
 * Registers the native unpadded 2D convolution and its filter gradient (native/conv2d.c: GEMMs on
 * our SIMD micro-kernel with the image gathered while packing) on the wasm backend for float32.
 * On a 3D ResNet's shapes (depth taps stacked on channels) the forward runs at 41-46 GFLOP/s
 * against XNNPACK's 24-39, and the filter gradient, which tfjs-wasm lacks (it was a convolution
 * with a feature-map-sized kernel), needs no image-sized copy. `work` is the sgemm work buffer (one thread: never
 * used by two kernels at once). Called by installWasmMatMul, which owns the module.
 */
export function installWasmConv2d(exports: Conv2dExports, work: number): void {
  if (state) return;
  state = { exports, work };
  if (tf.getKernel(CONV2D, 'wasm')) tf.unregisterKernel(CONV2D, 'wasm');
  tf.registerKernel({ kernelName: CONV2D, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: CONV2D_FILTER_GRAD, backendName: 'wasm', kernelFunc: filterGrad as unknown as tf.KernelFunc });
}

type Strides = { strides: [number, number] };

function forward(args: { inputs: { x: tf.TensorInfo; filter: tf.TensorInfo }; backend: unknown; attrs: Strides }): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x, filter } = args.inputs;
  const [n, hi, wi, ci] = x.shape;
  const [kh, kw, , co] = filter.shape;
  const [sh, sw] = args.attrs.strides;
  const out = backend.makeOutput([n, Math.floor((hi - kh) / sh) + 1, Math.floor((wi - kw) / sw) + 1, co], 'float32');
  if (tf.util.sizeFromShape(out.shape) === 0 || !state) return out;
  state.exports.conv2d_forward(heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out), n, hi, wi, ci, co, kh, kw, sh, sw, state.work);
  return out;
}

function filterGrad(args: { inputs: { x: tf.TensorInfo; dy: tf.TensorInfo }; backend: unknown; attrs: Strides & { filterShape: [number, number, number, number] } }): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x, dy } = args.inputs;
  const [n, hi, wi, ci] = x.shape;
  const [kh, kw, , co] = args.attrs.filterShape;
  const [sh, sw] = args.attrs.strides;
  const out = backend.makeOutput([...args.attrs.filterShape], 'float32');
  if (tf.util.sizeFromShape(out.shape) === 0 || !state) return out;
  state.exports.conv2d_filter_grad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), n, hi, wi, ci, co, kh, kw, sh, sw, state.work);
  return out;
}

