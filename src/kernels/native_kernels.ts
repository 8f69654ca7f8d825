import { nodeRequire } from './node_require';
import { processCpuCount } from './usable_cpus';

/**
 * The Node addon built from native/node/*.c (`npm run build` writes
 * dist/native/mst_kernels-<platform>-<arch>.node): AVX2 + FMA versions of the WebAssembly GEMM and
 * 2D convolutions, and its GELU and LayerNorm on threads, computing in place on tfjs-wasm's heap. Every offset is a byte offset into
 * `heap`, as for the WebAssembly kernels; the last argument is the thread count.
 */
export interface NativeKernelAddon {
  /** 'avx2-fma', or null where the CPU lacks either (then the kernels below are absent). */
  isa: string | null;
  sgemm(
    heap: ArrayBuffer, a: number, b: number, c: number, batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number, strideC: number, threads: number,
  ): void;
  conv2dForward(heap: ArrayBuffer, x: number, w: number, y: number, n: number, hi: number, wi: number, ci: number, co: number, kh: number, kw: number, sh: number, sw: number, threads: number): void;
  conv2dFilterGrad(heap: ArrayBuffer, x: number, dy: number, dw: number, n: number, hi: number, wi: number, ci: number, co: number, kh: number, kw: number, sh: number, sw: number, threads: number): void;
  /** native/norm_gelu.c's GELU, gradient and LayerNorm: the WebAssembly kernels' values, on threads. */
  gelu(heap: ArrayBuffer, x: number, y: number, n: number, threads: number): void;
  geluGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, n: number, threads: number): void;
  layerNorm(heap: ArrayBuffer, x: number, w: number, b: number, y: number, rows: number, c: number, eps: number, threads: number): void;
}

/** What {@link nativeKernelsInfo} reports. */
export interface NativeKernelsInfo {
  /** The instruction set the kernels use. */
  isa: string;
  /** Threads one product or convolution is split over (see {@link setNativeThreads}). */
  threads: number;
  /** The addon's file. */
  path: string;
}

/** The addon's thread pool size limit (native/node/thread_pool.h). */
const MAX_THREADS = 64;

let addon: { kernels: NativeKernelAddon; path: string } | null | undefined;
let threads: number | undefined;
let active = false;

/**
 * Loads the native kernels once: null outside Node, where `MST_NATIVE_KERNELS=0`, where no addon
 * was built for this platform (the package ships x86-64 Linux; `npm run build` builds the host's
 * where a C compiler is present), where it fails to load (another platform's or C library's
 * build, a damaged file) or where the CPU lacks AVX2/FMA. `MST_NATIVE_KERNELS_PATH` names another
 * build of the addon; with `MST_NATIVE_KERNELS=1` a missing or unloadable addon makes the wasm
 * backend fail to start with an error that says why, instead of running the WebAssembly kernels.
 */
export function loadNativeKernels(): { kernels: NativeKernelAddon; path: string } | null {
  if (addon !== undefined) return addon;
  addon = null;
  const req = nodeRequire();
  const mode = req ? process.env.MST_NATIVE_KERNELS : undefined;
  if (!req || mode === '0') return addon;
  const path = req('node:path') as typeof import('node:path');
  const fs = req('node:fs') as typeof import('node:fs');
  const file = `mst_kernels-${process.platform}-${process.arch}.node`;
  // dist/*.js and dist/<subpath>/*.js of the build; src/kernels/ when tests run the sources.
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = process.env.MST_NATIVE_KERNELS_PATH
    ? [path.resolve(process.env.MST_NATIVE_KERNELS_PATH)]
    : [path.join(here, 'native', file), path.join(here, '..', 'native', file), path.join(here, '..', '..', 'dist', 'native', file)];
  const found = candidates.find((p) => fs.existsSync(p));
  const required = (why: string) => {
    if (mode === '1') {
      // Not cached: every later backend must fail the same way.
      addon = undefined;
      throw new Error(`mst-ts: MST_NATIVE_KERNELS=1 but ${why}`);
    }
    return null;
  };
  if (!found) return required(`no native kernels were found (${candidates[0]}; npm run build makes them where a C compiler is present)`);
  let kernels: NativeKernelAddon;
  try {
    kernels = req(found) as NativeKernelAddon;
  } catch (e) {
    return required(`the native kernels ${found} did not load: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!kernels.isa) return required('this CPU lacks AVX2 or FMA');
  addon = { kernels, path: found };
  return addon;
}

/** Threads per native kernel call: all cores on the main thread, one in worker threads (pools split the work themselves). */
export function nativeThreads(): number {
  if (threads === undefined) {
    const req = nodeRequire();
    const fromEnv = Number(process.env.MST_NATIVE_THREADS);
    if (Number.isInteger(fromEnv) && fromEnv >= 1) threads = Math.min(fromEnv, MAX_THREADS);
    else if (!req) threads = 1;
    else {
      const { isMainThread } = req('node:worker_threads') as typeof import('node:worker_threads');
      threads = isMainThread ? Math.min(processCpuCount(), MAX_THREADS) : 1;
    }
  }
  return threads;
}

/**
 * Sets how many threads each native GEMM or convolution splits over (at most 64; default: every core on
 * Node's main thread, one in a worker thread; or the environment variable `MST_NATIVE_THREADS`).
 *
 * @example
 * setNativeThreads(1); // leave the other cores to something else
 */
export function setNativeThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`setNativeThreads: count must be a positive integer, got ${count}`);
  threads = Math.min(count, MAX_THREADS);
}

/** Records whether the wasm backend installWasmMatMul set up last runs the native kernels. */
export function markNativeKernelsActive(on: boolean): void {
  active = on;
}

/**
 * The native kernels the wasm backend runs its matrix products and convolutions on, or null where
 * it runs mst-ts's WebAssembly kernels (browsers, platforms without the addon, CPUs without
 * AVX2/FMA, `MST_NATIVE_KERNELS=0`, `setBackend('wasm', { nativeKernels: false })`).
 *
 * @example
 * await setBackend('wasm');
 * nativeKernelsInfo(); // { isa: 'avx2-fma', threads: 2, path: '.../dist/native/mst_kernels-linux-x64.node' } on x86-64 Linux
 */
export function nativeKernelsInfo(): NativeKernelsInfo | null {
  const loaded = active ? loadNativeKernels() : null;
  return loaded && loaded.kernels.isa ? { isa: loaded.kernels.isa, threads: nativeThreads(), path: loaded.path } : null;
}
