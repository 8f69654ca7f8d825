import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel touches. */
interface WasmBackendInternals extends WasmHeapBackend {
  wasm: { HEAPF32: Float32Array };
}

/** The export of native/adamw.c. */
export interface AdamWExport {
  adamw(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number, constants: number): void;
}

/** Kernel name; registered on wasm only (src/train/adamw.ts composes tfjs ops elsewhere). */
export const ADAMW = 'MstAdamW';

let state: { exports: AdamWExport; constants: number } | null = null;

/**
 * Registers the fused AdamW update (native/adamw.c) on the wasm backend: inputs `p, g, m, v`, the
 * attribute `constants` (b1, 1 - b1, b2, 1 - b2, sqrt of the second bias correction, eps, the
 * weight-decay factor, the step size), outputs the new `p, m, v`, equal bit for bit to the tfjs
 * ops of src/train/adamw.ts. `constants` is an 8-float scratch in the wasm heap. Called by
 * installWasmMatMul, which owns the module.
 */
export function installWasmAdamW(exports: AdamWExport, constants: number): void {
  if (state) return;
  state = { exports, constants };
  tf.registerKernel({ kernelName: ADAMW, backendName: 'wasm', kernelFunc: adamw as unknown as tf.KernelFunc });
}

function adamw(args: { inputs: { p: tf.TensorInfo; g: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo }; backend: unknown; attrs: { constants: number[] } }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendInternals;
  const s = state as NonNullable<typeof state>;
  const { p, g, m, v } = args.inputs;
  const outs = [p, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
  const n = tf.util.sizeFromShape(p.shape);
  if (n === 0) return outs;
  // Written after makeOutput, which may grow the heap (a new HEAPF32 view).
  backend.wasm.HEAPF32.set(args.attrs.constants, s.constants / 4);
  const [pOut, mOut, vOut] = outs.map((t) => heapOffset(backend, t));
  s.exports.adamw(heapOffset(backend, p), heapOffset(backend, g), heapOffset(backend, m), heapOffset(backend, v), pOut, mOut, vOut, n, s.constants);
  return outs;
}

