import * as tf from '@tensorflow/tfjs';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The exports of native/batch_norm.c (pointers into the wasm heap; 0 is "none"). */
export interface BatchNormExports {
  bn_moments(x: number, mean: number, variance: number, acc: number, rows: number, cols: number): void;
  bn_apply(x: number, residual: number, mean: number, invStd: number, weight: number, bias: number, y: number, rows: number, cols: number, relu: number): void;
  bn_grad_sums(dy: number, x: number, residual: number, mean: number, invStd: number, weight: number, bias: number, sumG: number, sumGX: number, acc: number, rows: number, cols: number, relu: number): void;
  bn_grad_input(
    dy: number, x: number, residual: number, mean: number, invStd: number, weight: number, bias: number,
    k: number, a: number, bc: number, dx: number, gOut: number, rows: number, cols: number, relu: number,
  ): void;
}

/**
 * Kernel names; registered on wasm only (src/layers/batch_norm.ts composes tfjs ops elsewhere).
 * Inputs are channels-last tensors `[..., C]` and per-channel vectors `[C]`.
 * - moments `{ x }` -> `[mean, variance]` (biased);
 * - apply `{ x, mean, invStd, weight, bias, residual? }`, `{ relu }` -> `relu?(xhat * weight + bias + residual?)`;
 * - grad sums `{ dy, x, mean, invStd, weight, bias, residual? }`, `{ relu }` -> `[sum(g), sum(g * xhat)]`,
 *   g being `dy` masked by the ReLU;
 * - grad input `{ ..., k, a, bc }`, `{ relu }` -> `[dx]`, with a residual `[dx, g]`.
 */
export const BN_MOMENTS = 'MstBatchNormMoments';
export const BN_APPLY = 'MstBatchNormApply';
export const BN_GRAD_SUMS = 'MstBatchNormGradSums';
export const BN_GRAD_INPUT = 'MstBatchNormGradInput';

let state: { exports: BatchNormExports; scratch: number; scratchFloats: number } | null = null;

/**
 * Registers native/batch_norm.c's training-mode batch norm kernels on the wasm backend for
 * float32: one pass over the input per step instead of tfjs's chains of element-wise kernels.
 * `scratch` is the sgemm work buffer (`scratchFloats` floats; one thread: never used by two
 * kernels at once), which holds the double channel sums. Called by installWasmMatMul, which owns
 * the module.
 */
export function installWasmBatchNorm(exports: BatchNormExports, scratch: number, scratchFloats: number): void {
  if (state) return;
  state = { exports, scratch, scratchFloats };
  const reg = (kernelName: string, kernelFunc: (args: never) => tf.TensorInfo | tf.TensorInfo[]): void =>
    void tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  reg(BN_MOMENTS, moments);
  reg(BN_APPLY, apply);
  reg(BN_GRAD_SUMS, gradSums);
  reg(BN_GRAD_INPUT, gradInput);
  tf.registerGradient({ kernelName: BN_APPLY, inputsToSave: ['x', 'mean', 'invStd', 'weight', 'bias'], outputsToSave: [true], gradFunc: applyGradient as unknown as tf.GradFunc });
}

/**
 * The gradient of the apply kernel where it is differentiated directly (batch norm in eval mode,
 * under Grad-CAM or frozen-statistics fine-tuning; the training op has its own). With `g` the
 * output gradient masked by the ReLU (the output is positive exactly where the pre-activation
 * is): dx = g * invStd * weight, dresidual = g, and channel sums for the per-channel inputs.
 */
function applyGradient(dy: tf.Tensor, saved: tf.Tensor[], attrs: { relu?: boolean }): Record<string, () => tf.Tensor> {
  const [x, mean, invStd, weight, , y] = saved;
  const c = x.shape[x.rank - 1];
  const g = attrs.relu ? tf.mul(dy, tf.step(y)) : dy;
  const sums = (t: tf.Tensor): tf.Tensor => tf.sum(tf.reshape(t, [-1, c]), 0);
  return {
    x: () => tf.mul(g, tf.mul(invStd, weight)),
    residual: () => tf.reshape(g, g.shape),
    mean: () => tf.neg(sums(tf.mul(g, tf.mul(invStd, weight)))),
    invStd: () => sums(tf.mul(tf.mul(g, tf.sub(x, mean)), weight)),
    weight: () => sums(tf.mul(g, tf.mul(tf.sub(x, mean), invStd))),
    bias: () => sums(g),
  };
}

type Args<I extends string> = { inputs: Record<I, tf.TensorInfo> & { residual?: tf.TensorInfo }; backend: unknown; attrs: { relu?: boolean } };
type Vectors = 'x' | 'mean' | 'invStd' | 'weight' | 'bias';


/** A tensor's heap offset, or 0 (the C kernels' "none") for an absent one. */
function optionalOffset(backend: WasmHeapBackend, t: tf.TensorInfo | undefined): number {
  return t ? heapOffset(backend, t) : 0;
}

/**
 * Rows and channels of a channels-last `x`, and the double scratch for `doubles` per channel.
 * The kernels read whole rows and vectors: every input-sized operand must have `x`'s shape and
 * every vector `C` values (no broadcasting).
 */
function geometry(x: tf.TensorInfo, doublesPerChannel: number, inputs: Record<string, tf.TensorInfo | undefined> = {}): { rows: number; cols: number; acc: number } {
  const s = state as NonNullable<typeof state>;
  const cols = x.shape[x.shape.length - 1] ?? 1;
  const rows = cols === 0 ? 0 : tf.util.sizeFromShape(x.shape) / cols;
  if (x.dtype !== 'float32') throw new Error(`wasm batch norm: x must be float32, got ${x.dtype}`);
  for (const [name, t] of Object.entries(inputs)) {
    if (!t) continue;
    const full = name === 'dy' || name === 'residual';
    const ok = t.dtype === 'float32' && (full ? tf.util.arraysEqual(t.shape, x.shape) : t.shape.length === 1 && t.shape[0] === cols);
    if (!ok) throw new Error(`wasm batch norm: ${name} must be float32 ${full ? `[${x.shape.join(', ')}]` : `[${cols}]`}, got ${t.dtype} [${t.shape.join(', ')}]`);
  }
  if (2 * doublesPerChannel * cols > s.scratchFloats) throw new Error(`wasm batch norm: ${cols} channels exceed the kernels' scratch`);
  return { rows, cols, acc: s.scratch };
}

function moments(args: Args<'x'>): tf.TensorInfo[] {
  const backend = args.backend as WasmHeapBackend;
  const { x } = args.inputs;
  const { rows, cols, acc } = geometry(x, 1);
  const mean = backend.makeOutput([cols], 'float32');
  const variance = backend.makeOutput([cols], 'float32');
  if (rows * cols > 0) (state as NonNullable<typeof state>).exports.bn_moments(heapOffset(backend, x), heapOffset(backend, mean), heapOffset(backend, variance), acc, rows, cols);
  return [mean, variance];
}

function apply(args: Args<Vectors>): tf.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const { x, mean, invStd, weight, bias, residual } = args.inputs;
  const { rows, cols } = geometry(x, 0, { mean, invStd, weight, bias, residual });
  const y = backend.makeOutput(x.shape, 'float32');
  if (rows * cols > 0) {
    (state as NonNullable<typeof state>).exports.bn_apply(
      heapOffset(backend, x), optionalOffset(backend, residual), heapOffset(backend, mean), heapOffset(backend, invStd),
      heapOffset(backend, weight), heapOffset(backend, bias), heapOffset(backend, y), rows, cols, args.attrs.relu ? 1 : 0,
    );
  }
  return y;
}

function gradSums(args: Args<Vectors | 'dy'>): tf.TensorInfo[] {
  const backend = args.backend as WasmHeapBackend;
  const { dy, x, mean, invStd, weight, bias, residual } = args.inputs;
  const { rows, cols, acc } = geometry(x, 2, { dy, mean, invStd, weight, bias, residual });
  const sumG = backend.makeOutput([cols], 'float32');
  const sumGX = backend.makeOutput([cols], 'float32');
  if (rows * cols > 0) {
    (state as NonNullable<typeof state>).exports.bn_grad_sums(
      heapOffset(backend, dy), heapOffset(backend, x), optionalOffset(backend, residual), heapOffset(backend, mean), heapOffset(backend, invStd),
      heapOffset(backend, weight), heapOffset(backend, bias), heapOffset(backend, sumG), heapOffset(backend, sumGX), acc, rows, cols, args.attrs.relu ? 1 : 0,
    );
  }
  return [sumG, sumGX];
}

function gradInput(args: Args<Vectors | 'dy' | 'k' | 'a' | 'bc'>): tf.TensorInfo[] {
  const backend = args.backend as WasmHeapBackend;
  const { dy, x, mean, invStd, weight, bias, residual, k, a, bc } = args.inputs;
  const { rows, cols } = geometry(x, 0, { dy, mean, invStd, weight, bias, residual, k, a, bc });
  const dx = backend.makeOutput(x.shape, 'float32');
  const g = residual ? backend.makeOutput(x.shape, 'float32') : undefined;
  if (rows * cols > 0) {
    (state as NonNullable<typeof state>).exports.bn_grad_input(
      heapOffset(backend, dy), heapOffset(backend, x), optionalOffset(backend, residual), heapOffset(backend, mean), heapOffset(backend, invStd),
      heapOffset(backend, weight), heapOffset(backend, bias), heapOffset(backend, k), heapOffset(backend, a), heapOffset(backend, bc),
      heapOffset(backend, dx), optionalOffset(backend, g), rows, cols, args.attrs.relu ? 1 : 0,
    );
  }
  return g ? [dx, g] : [dx];
}
