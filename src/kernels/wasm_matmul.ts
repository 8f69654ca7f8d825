import * as tf from '@tensorflow/tfjs';
import { SGEMM_RELAXED_SHARED_WASM_BASE64, SGEMM_RELAXED_WASM_BASE64, SGEMM_SHARED_WASM_BASE64, SGEMM_WASM_BASE64 } from './sgemm_wasm_bytes';
import { enableNodeRelaxedSimd } from './wasm_features';
import { installWasmAdamW, type AdamWExport } from './wasm_adamw';
import { installWasmBatchNorm, type BatchNormExports } from './wasm_batch_norm';
import { installWasmColumnSum, type ColumnSumExport } from './wasm_column_sum';
import { installWasmConv2d, type Conv2dExports } from './wasm_conv2d';
import { installWasmDepthTaps, type DepthTapsExports } from './wasm_depth_taps';
import { installWasmLayoutKernels, type TransposeExport } from './wasm_layout';
import { installWasmMaxPool, type MaxPoolExports } from './wasm_max_pool';
import { installWasmNormGelu, type NormGeluExports } from './wasm_norm_gelu';
import { loadNativeKernels, markNativeKernelsActive, nativeThreads, type NativeKernelAddon } from './native_kernels';
import { heapOffset, type WasmHeapBackend } from './wasm_heap';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel touches. */
interface WasmBackendInternals extends WasmHeapBackend {
  wasm: {
    /** The module's exports; they hold the memory in the ordinary build. */
    asm: { memory?: WebAssembly.Memory };
    /** The memory of the threaded build (created in JavaScript, shared). */
    wasmMemory?: WebAssembly.Memory;
    HEAPF32: Float32Array;
    _malloc(bytes: number): number;
  };
}

interface SgemmExports extends TransposeExport, DepthTapsExports, MaxPoolExports, Conv2dExports, NormGeluExports, ColumnSumExport, AdamWExport, BatchNormExports {
  sgemm(
    a: number, b: number, c: number, batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number, strideC: number, work: number,
  ): void;
  sgemm_work_floats(): number;
}

type KernelArgs = { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: unknown; attrs: { transposeA: boolean; transposeB: boolean } };

const installed = new WeakMap<object, { exports: SgemmExports; work: number; variant: WasmKernelVariant }>();
let lastVariant: WasmKernelVariant | null = null;

/** Which build of mst-ts's WebAssembly kernels runs: relaxed SIMD (fused multiply-add) or plain SIMD128. */
export type WasmKernelVariant = 'relaxed-simd' | 'simd';

/** Options of {@link installWasmMatMul}. */
export interface WasmKernelOptions {
  /**
   * Use the relaxed-SIMD build, whose GEMM micro-kernel uses fused multiply-add (default: where
   * the engine supports it, turning it on first in Node 20-21 with {@link enableNodeRelaxedSimd},
   * unless the environment variable `MST_WASM_RELAXED_SIMD` is `0`).
   * `false` forces plain SIMD128 and sets no V8 flag; `true` where relaxed SIMD cannot be had
   * throws. Results of the two builds differ by float32 rounding only.
   */
  relaxedSimd?: boolean;
  /**
   * In Node, run the matrix products and convolutions on mst-ts's native AVX2 + FMA kernels
   * where they load (x86-64 with AVX2 and FMA; see {@link nativeKernelsInfo}), split over every
   * core; the other kernels stay WebAssembly (default true unless the environment variable
   * `MST_NATIVE_KERNELS` is `0`). Results differ from the WebAssembly kernels' by float32
   * rounding only.
   */
  nativeKernels?: boolean;
}
let fallback: ((args: KernelArgs) => tf.TensorInfo) | null = null;
let preferred: WasmKernelOptions = {};

/**
 * The options for the next backend {@link installWasmKernelsSync} sets up (Node's default wasm
 * factory, which `setBackend('wasm', { relaxedSimd, nativeKernels })` starts before it installs).
 */
export function preferWasmKernelOptions(options: WasmKernelOptions): void {
  preferred = { ...options };
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(text, 'base64'));
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Replaces the wasm backend's BatchMatMul with mst-ts's WebAssembly SIMD kernel
 * (native/sgemm.c). The stock kernel runs batched attention matmuls at ~1-2 GFLOP/s and
 * transposed operands at 0.4-2 GFLOP/s; ours packs operands (transposes are free) and runs a
 * 4x8 register-blocked micro-kernel. The module shares the backend's memory, so no tensor data
 * is copied. Shapes it does not cover (non-float32, general batch broadcasting) go to the stock
 * kernel. Also installs the module's Transpose, Unpack and Slice kernels (see installWasmLayoutKernels),
 * depth taps, 3D max pooling, 2D convolution, LayerNorm, GELU, leading-axis sums and the
 * AdamW update (installWasmDepthTaps, installWasmMaxPool, installWasmConv2d, installWasmNormGelu,
 * installWasmColumnSum, installWasmAdamW).
 * The module comes in two builds, picked here: relaxed SIMD (fused multiply-add, where the engine
 * has it: Chrome >= 114, Node >= 22, and Node 20.16+ after setting its V8 flag, see
 * {@link enableNodeRelaxedSimd}) and plain SIMD128, each also for the shared memory of tfjs-wasm's
 * threaded build (pages served cross-origin isolated).
 * Called by {@link setBackend} for 'wasm'; calling it again is a no-op.
 *
 * @example
 * await tf.setBackend('wasm');
 * await installWasmMatMul();
 * wasmKernelVariant(); // 'relaxed-simd' in Chrome and Node 20.16+, else 'simd'
 */
export async function installWasmMatMul(options: WasmKernelOptions = {}): Promise<void> {
  const backend = tf.findBackend('wasm') as unknown as WasmBackendInternals | null;
  if (!backend) throw new Error("installWasmMatMul: the 'wasm' backend is not initialised (await setBackend('wasm') first)");
  const supported = options.relaxedSimd === false || (options.relaxedSimd === undefined && plainSimdRequested()) ? false : enableNodeRelaxedSimd();
  if (options.relaxedSimd && !supported) {
    throw new Error('installWasmMatMul: relaxedSimd was requested but this engine has no WebAssembly relaxed SIMD (Chrome >= 114, Node >= 20.16)');
  }
  if (installed.has(backend)) return;
  const { bytes, memory, variant } = kernelBuild(backend, options, supported);
  const module = await WebAssembly.compile(decodeBase64(bytes));
  installInto(backend, await WebAssembly.instantiate(module, { env: { memory } }), variant, memory, options.nativeKernels);
}

/**
 * {@link installWasmMatMul} for a wasm backend instance at hand, compiled synchronously: for Node,
 * where mst-ts's default backend is created inside tfjs's synchronous backend factory (a browser's
 * main thread refuses synchronous compiles of modules this size). Picks the build as
 * installWasmMatMul does by default. Calling it again is a no-op.
 */
export function installWasmKernelsSync(backend: object): void {
  const b = backend as WasmBackendInternals;
  if (installed.has(b)) return;
  // tfjs sets the stock kernels up once the factory has returned; the ones replaced here would miss
  // their setup, which other stock kernels rely on (Sum calls the stock Transpose), so run it now.
  for (const kernel of tf.getKernelsForBackend('wasm')) kernel.setupFunc?.(backend as tf.KernelBackend);
  // Where relaxed SIMD is asked for but missing, installWasmMatMul's check reports it afterwards.
  const wanted = preferred.relaxedSimd ?? (plainSimdRequested() ? false : undefined);
  const { bytes, memory, variant } = kernelBuild(b, {}, wanted !== false && enableNodeRelaxedSimd());
  installInto(b, new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(bytes)), { env: { memory } }), variant, memory, preferred.nativeKernels);
}

/**
 * Whether tfjs runs on `wasm` with mst-ts's kernels installed (initialises no backend).
 *
 * @example
 * new MedicalSliceTransformer({ encoder, numClasses: 2 }); // the first tensors start Node's default
 * wasmKernelsInstalled(); // returns true in Node
 */
export function wasmKernelsInstalled(): boolean {
  const engine = tf.engine() as unknown as { backendName?: string | null; backendInstance?: object | null };
  return engine.backendName === 'wasm' && !!engine.backendInstance && installed.has(engine.backendInstance);
}

/**
 * Whether the environment variable `MST_WASM_RELAXED_SIMD=0` asks for the plain SIMD128 kernels by
 * default (Node): results in the summation order the PyTorch parity tolerances were set for.
 */
function plainSimdRequested(): boolean {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.MST_WASM_RELAXED_SIMD === '0';
}

/** The kernel build for this backend's memory (ordinary or shared) and the engine's features. */
function kernelBuild(backend: WasmBackendInternals, options: WasmKernelOptions, supported: boolean): { bytes: string; memory: WebAssembly.Memory; variant: WasmKernelVariant } {
  const variant: WasmKernelVariant = (options.relaxedSimd ?? supported) ? 'relaxed-simd' : 'simd';
  const memory = backend.wasm.asm.memory ?? backend.wasm.wasmMemory;
  if (!memory) throw new Error('installWasmMatMul: the wasm backend exposes no WebAssembly.Memory (an unsupported tfjs-backend-wasm build)');
  // tfjs-wasm's threaded build (cross-origin isolated pages) runs on a shared memory, which only a
  // module declaring a shared memory import may use.
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = variant === 'relaxed-simd' ? (shared ? SGEMM_RELAXED_SHARED_WASM_BASE64 : SGEMM_RELAXED_WASM_BASE64) : shared ? SGEMM_SHARED_WASM_BASE64 : SGEMM_WASM_BASE64;
  return { bytes, memory, variant };
}

function installInto(backend: WasmBackendInternals, instance: WebAssembly.Instance, variant: WasmKernelVariant, memory: WebAssembly.Memory, nativeKernels: boolean | undefined): void {
  const wasm = instance.exports as unknown as SgemmExports;
  // The addon reads an ArrayBuffer; the threaded build's shared memory stays on WebAssembly.
  const native = nativeKernels !== false && Object.prototype.toString.call(memory.buffer) === '[object ArrayBuffer]' ? loadNativeKernels() : null;
  const exports = native ? withNativeKernels(wasm, native.kernels, memory) : wasm;
  markNativeKernelsActive(!!native);
  const work = backend.wasm._malloc(exports.sgemm_work_floats() * 4 + 16);
  installed.set(backend, { exports, work: (work + 15) & ~15, variant });
  lastVariant = variant;
  // Transpose and Unpack share the module; their scratch sits after the sgemm work buffer.
  const params = backend.wasm._malloc(6 * 8 * 4 + 16);
  installWasmLayoutKernels(exports, (params + 15) & ~15);
  const tapParams = backend.wasm._malloc(10 * 4 + 16);
  installWasmDepthTaps(exports, (tapParams + 15) & ~15);
  const poolParams = backend.wasm._malloc(14 * 4 + 16);
  installWasmMaxPool(exports, (poolParams + 15) & ~15);
  installWasmConv2d(exports, (work + 15) & ~15);
  installWasmNormGelu(exports, (work + 15) & ~15, exports.sgemm_work_floats());
  installWasmColumnSum(exports);
  installWasmBatchNorm(exports, (work + 15) & ~15, exports.sgemm_work_floats());
  const adamwConstants = backend.wasm._malloc(8 * 4 + 16);
  installWasmAdamW(exports, (adamwConstants + 15) & ~15);
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  if (!stock) throw new Error('installWasmMatMul: the wasm backend has no BatchMatMul kernel to replace');
  fallback ??= stock.kernelFunc as unknown as (args: KernelArgs) => tf.TensorInfo;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul as unknown as tf.KernelFunc });
}

/**
 * The module's exports with the GEMM, the convolutions, GELU and LayerNorm replaced by the native addon's, which
 * compute on the same heap (read afresh each call: it is replaced when the memory grows).
 */
function withNativeKernels(wasm: SgemmExports, native: NativeKernelAddon, memory: WebAssembly.Memory): SgemmExports {
  const heap = () => memory.buffer as ArrayBuffer;
  return {
    ...wasm,
    sgemm: (a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC) =>
      native.sgemm(heap(), a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, nativeThreads()),
    conv2d_forward: (x, w, y, n, hi, wi, ci, co, kh, kw, sh, sw) => native.conv2dForward(heap(), x, w, y, n, hi, wi, ci, co, kh, kw, sh, sw, nativeThreads()),
    conv2d_filter_grad: (x, dy, dw, n, hi, wi, ci, co, kh, kw, sh, sw) => native.conv2dFilterGrad(heap(), x, dy, dw, n, hi, wi, ci, co, kh, kw, sh, sw, nativeThreads()),
    gelu: (x, y, n) => native.gelu(heap(), x, y, n, nativeThreads()),
    gelu_grad: (x, dy, dx, n) => native.geluGrad(heap(), x, dy, dx, n, nativeThreads()),
    layer_norm: (x, w, b, y, rows, c, eps) => native.layerNorm(heap(), x, w, b, y, rows, c, eps, nativeThreads()),
  };
}

/**
 * The build of mst-ts's WebAssembly kernels that {@link installWasmMatMul} installed on the wasm
 * backend, or null before it ran.
 *
 * @example
 * await setBackend('wasm');
 * console.log(wasmKernelVariant()); // 'simd' or 'relaxed-simd'
 */
export function wasmKernelVariant(): WasmKernelVariant | null {
  return lastVariant;
}

/**
 * Whether `tf.matMul`'s transpose flags cost nothing on the active backend: true on wasm with
 * mst-ts's BatchMatMul, which packs either operand layout at the same speed, so gradients may pass
 * flags instead of copying a transpose first (the stock wasm kernel runs flagged products 10-60x
 * slower, and other backends keep the explicit transposes they were tested with).
 */
export function transposeFlagsAreFree(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.findBackend('wasm');
  return !!backend && installed.has(backend);
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs;
  const backend = args.backend as WasmBackendInternals;
  const state = installed.get(backend);
  const ar = a.shape.length;
  const br = b.shape.length;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const simpleBatch = batchA === batchB || batchA === 1 || batchB === 1;
  if (!state || a.dtype !== 'float32' || b.dtype !== 'float32' || !simpleBatch) return (fallback as (x: KernelArgs) => tf.TensorInfo)(args);
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kB = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (k !== kB) {
    throw new Error(`matMul: inner sizes ${k} and ${kB} of shapes [${a.shape}] and [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB}) differ`);
  }
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const size = tf.util.sizeFromShape(out.shape);
  if (size === 0) return out;
  const outOffset = heapOffset(backend, out);
  if (k === 0) {
    backend.wasm.HEAPF32.fill(0, outOffset / 4, outOffset / 4 + size);
    return out;
  }
  state.exports.sgemm(
    heapOffset(backend, a), heapOffset(backend, b), outOffset, Math.max(batchA, batchB), m, n, k,
    transposeA ? 1 : 0, transposeB ? 1 : 0, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, m * n, state.work,
  );
  return out;
}

