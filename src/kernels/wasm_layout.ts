import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels touch. */
interface WasmBackendInternals extends WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array; HEAP32: Int32Array };
  incRef(dataId: object): void;
}

/** The export of native/transpose.c. */
export interface TransposeExport {
  transpose(input: number, output: number, rank: number, params: number): void;
}

type Stock = (args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }) => tf.TensorInfo | tf.TensorInfo[];

const MAX_RANK = 8;
const stock: Record<string, Stock> = {};
let state: { exports: TransposeExport; params: number } | null = null;

/**
 * Replaces the wasm backend's Transpose, Unpack and Slice kernels (for 4-byte dtypes) with ours:
 * the stock ones run the 5-D permutation and the unstack of an attention layer's packed q, k, v at
 * ~20-30 MB/s (a second per ViT-S block on 8 slices of 224x224), and the stock Slice copies the
 * whole input out of the heap into a fresh JavaScript array before taking its part (30 ms for one
 * 768 KiB tap of a 7 MiB filter). Transpose runs native/transpose.c after dropping size-1 axes and
 * merging axes that stay adjacent; Unpack and Slice are one memory copy per contiguous run.
 * Identity (`tf.clone`, and every tensor a custom gradient saves for its backward pass) shares
 * the input's memory, as on the cpu backend, instead of copying it: tensors are immutable, so a
 * copy only costs time and heap (a linear layer's saved input and weight, each step).
 * `params` is a 16-byte aligned scratch of `6 * 8` ints in the wasm heap. Called by
 * installWasmMatMul, which owns the module.
 */
export function installWasmLayoutKernels(exports: TransposeExport, params: number): void {
  if (state) return;
  state = { exports, params };
  for (const [name, kernelFunc] of [
    ['Transpose', transposeKernel],
    ['Unpack', unpackKernel],
    ['Slice', sliceKernel],
    ['Identity', identityKernel],
  ] as const) {
    const k = tf.getKernel(name, 'wasm');
    if (!k) continue;
    stock[name] = k.kernelFunc as unknown as Stock;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

const fourBytes = (dtype: tf.DataType): boolean => dtype === 'float32' || dtype === 'int32';


/** Drops size-1 axes and merges input axes that stay adjacent: `{ shape, perm }` of rank <= the input's. */
export function simplifyPermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const rankOf = new Map(kept.map((a, i) => [a, i]));
  const p = perm.filter((a) => shape[a] !== 1).map((a) => rankOf.get(a) as number);
  const sh = kept.map((a) => shape[a]);
  // Runs of consecutive input axes in output order become one axis each.
  const runs: number[][] = [];
  for (const a of p) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else runs.push([a]);
  }
  const byInput = [...runs].sort((x, y) => x[0] - y[0]);
  return {
    shape: byInput.map((r) => r.reduce((s, a) => s * sh[a], 1)),
    perm: runs.map((r) => byInput.indexOf(r)),
  };
}

function transposeKernel(args: { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: { perm: number[] } }): tf.TensorInfo {
  const { x } = args.inputs;
  const { perm } = args.attrs;
  const backend = args.backend as WasmBackendInternals;
  if (!state || !fourBytes(x.dtype) || x.shape.length > MAX_RANK) return stock.Transpose(args as never) as tf.TensorInfo;
  const out = backend.makeOutput(perm.map((a) => x.shape[a]), x.dtype);
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return out;
  const src = heapOffset(backend, x);
  const dst = heapOffset(backend, out);
  const s = simplifyPermutation(x.shape, perm);
  if (s.shape.length <= 1) {
    backend.wasm.HEAPU8.copyWithin(dst, src, src + size * 4);
    return out;
  }
  const heap = backend.wasm.HEAP32;
  const p = state.params / 4;
  heap.set(s.shape, p);
  heap.set(s.perm, p + MAX_RANK);
  state.exports.transpose(src, dst, s.shape.length, state.params);
  return out;
}

function identityKernel(args: { inputs: { x: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return stock.Identity(args as never) as tf.TensorInfo;
  (args.backend as WasmBackendInternals).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function unpackKernel(args: { inputs: { value: tf.TensorInfo }; backend: unknown; attrs: { axis: number } }): tf.TensorInfo[] {
  const { value } = args.inputs;
  const backend = args.backend as WasmBackendInternals;
  const shape = value.shape;
  const axis = args.attrs.axis < 0 ? args.attrs.axis + shape.length : args.attrs.axis;
  if (!state || !fourBytes(value.dtype)) return stock.Unpack(args as never) as tf.TensorInfo[];
  const n = shape[axis];
  const outer = tf.util.sizeFromShape(shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(shape.slice(axis + 1));
  const outShape = shape.filter((_, i) => i !== axis);
  const outs = Array.from({ length: n }, () => backend.makeOutput(outShape, value.dtype));
  if (outer * inner === 0) return outs;
  // Offsets after every makeOutput: allocation may grow (and move) the heap view.
  const src = heapOffset(backend, value);
  const heap = backend.wasm.HEAPU8;
  const bytes = inner * 4;
  outs.forEach((o, k) => {
    const dst = heapOffset(backend, o);
    for (let i = 0; i < outer; i++) {
      const from = src + (i * n + k) * bytes;
      heap.copyWithin(dst + i * bytes, from, from + bytes);
    }
  });
  return outs;
}

function sliceKernel(args: { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: { begin: number | number[]; size?: number | number[] } }): tf.TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendInternals;
  if (!state || !fourBytes(x.dtype) || x.shape.length === 0) return stock.Slice(args as never) as tf.TensorInfo;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin, args.attrs.size);
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const shape = x.shape;
  const rank = shape.length;
  // Trailing axes taken whole merge into one contiguous run per index of the leading axes.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const strides = [...tf.util.computeStrides(shape), 1];
  const runBytes = 4 * size[inner] * strides[inner];
  const src = heapOffset(backend, x);
  const dst = heapOffset(backend, out);
  const heap = backend.wasm.HEAPU8;
  const idx = new Array<number>(inner).fill(0);
  for (let o = dst; ; o += runBytes) {
    let from = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) from += (begin[d] + idx[d]) * strides[d];
    heap.copyWithin(o, src + 4 * from, src + 4 * from + runBytes);
    let d = inner - 1;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) return out;
  }
}
