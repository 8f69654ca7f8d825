import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels touch. */
interface WasmBackendInternals extends WasmHeapBackend {
  wasm: { HEAP32: Int32Array };
}

/** The exports of native/depth_taps.c. */
export interface DepthTapsExports {
  depth_taps(x: number, out: number, params: number): void;
  depth_taps_grad(dy: number, dx: number, params: number): void;
}

/** Attributes of the depth-tap kernels: the kernel depth, depth stride and padding `[pd, ph, pw]`. */
export interface DepthTapsAttrs {
  kd: number;
  sd: number;
  padding: [number, number, number];
  /** The input's shape `[B, D, H, W, C]` (for the gradient kernel, whose input is dy). */
  xShape: [number, number, number, number, number];
}

/** Kernel names; registered on wasm only (src/ops/depth_taps.ts composes tfjs ops elsewhere). */
export const DEPTH_TAPS = 'MstDepthTaps';
export const DEPTH_TAPS_GRAD = 'MstDepthTapsGrad';

let state: { exports: DepthTapsExports; params: number } | null = null;

/**
 * Registers the native depth-tap rearrangement and its adjoint (native/depth_taps.c) on the wasm
 * backend: one pass over memory instead of tfjs-wasm's Pad, Slice and Concat, which took ~30% of
 * a 3D ResNet-50 forward. `params` is a 16-byte aligned scratch of 10 ints in the wasm heap.
 * Called by installWasmMatMul, which owns the module.
 */
export function installWasmDepthTaps(exports: DepthTapsExports, params: number): void {
  if (state) return;
  state = { exports, params };
  tf.registerKernel({ kernelName: DEPTH_TAPS, backendName: 'wasm', kernelFunc: ((args: KernelArgs) => run(args, 'forward')) as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: DEPTH_TAPS_GRAD, backendName: 'wasm', kernelFunc: ((args: KernelArgs) => run(args, 'grad')) as unknown as tf.KernelFunc });
}

type KernelArgs = { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: DepthTapsAttrs };

function run(args: KernelArgs, which: 'forward' | 'grad'): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const { kd, sd, padding, xShape } = args.attrs;
  const [b, d, h, w, c] = xShape;
  const [pd, ph, pw] = padding;
  const dOut = Math.floor((d + 2 * pd - kd) / sd) + 1;
  const outShape = which === 'forward' ? [b * dOut, h + 2 * ph, w + 2 * pw, kd * c] : [...xShape];
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0 || !state) return out;
  backend.wasm.HEAP32.set([b, d, h, w, c, kd, sd, pd, ph, pw], state.params / 4);
  const src = heapOffset(backend, args.inputs.x);
  const dst = heapOffset(backend, out);
  if (which === 'forward') state.exports.depth_taps(src, dst, state.params);
  else state.exports.depth_taps_grad(src, dst, state.params);
  return out;
}

