import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The export of native/column_sum.c. */
export interface ColumnSumExport {
  column_sum(x: number, out: number, rows: number, cols: number): void;
}

type SumArgs = { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: { axis: number | number[]; keepDims: boolean } };

let state: { exports: ColumnSumExport; stock: (args: SumArgs) => tf.TensorInfo } | null = null;

/**
 * Replaces the wasm backend's Sum for float32 sums over leading axes (`[0, .., p)`, what bias
 * gradients and batch reductions ask for) with native/column_sum.c, which adds rows in order
 * without the whole-tensor transpose tfjs-wasm makes first (the same summation order, so the same
 * values). Every other Sum goes to the stock kernel. Called by installWasmMatMul, which owns the
 * module.
 */
export function installWasmColumnSum(exports: ColumnSumExport): void {
  if (state) return;
  const stock = tf.getKernel('Sum', 'wasm');
  if (!stock) throw new Error('installWasmMatMul: the wasm backend has no Sum kernel to replace');
  state = { exports, stock: stock.kernelFunc as unknown as (args: SumArgs) => tf.TensorInfo };
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: sum as unknown as tf.KernelFunc });
}

function sum(args: SumArgs): tf.TensorInfo {
  const s = state as NonNullable<typeof state>;
  const { x } = args.inputs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return s.stock(args);
  const backend = args.backend as WasmHeapBackend;
  const kept = x.shape.slice(axes.length);
  const outShape = args.attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
  const out = backend.makeOutput(outShape, 'float32');
  const cols = tf.util.sizeFromShape(kept);
  if (cols === 0) return out;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  s.exports.column_sum(heapOffset(backend, x), heapOffset(backend, out), rows, cols);
  return out;
}

