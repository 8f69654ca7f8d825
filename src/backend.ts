import * as tf from '@tensorflow/tfjs';
import { withoutAddedProcessHandlers } from './kernels/process_handlers';
import { installWasmMatMul, preferWasmKernelOptions } from './kernels/wasm_matmul';
import { installWebGpuHighRankFixes } from './kernels/webgpu_high_rank';

/** Backends mst-ts knows how to bring up; any other registered tfjs backend works too. */
export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'webgl' | 'tensorflow' | (string & {});

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Options of {@link setBackend}. */
export interface SetBackendOptions {
  /**
   * Install mst-ts's own kernels where they beat the backend's (default true): on `wasm`, a
   * WebAssembly SIMD BatchMatMul, 5-20x faster on attention-shaped and transposed products.
   */
  fastKernels?: boolean;
  /**
   * On `wasm`, use the relaxed-SIMD (fused multiply-add) build of those kernels: default where the
   * engine supports it (in Node 20.16-21 after turning on V8's flag for it); `false` forces plain
   * SIMD128. See {@link installWasmMatMul}.
   */
  relaxedSimd?: boolean;
  /**
   * On `wasm` in Node, run matrix products and convolutions on mst-ts's native AVX2 + FMA kernels
   * where they load (default true; `MST_NATIVE_KERNELS=0` also opts out). See
   * {@link nativeKernelsInfo}.
   */
  nativeKernels?: boolean;
}

/**
 * Selects the tfjs backend all mst-ts computation runs on, loading its package on demand.
 * In Node the default, without any call, is `wasm` with mst-ts's kernels (the fastest backend
 * that installs offline, see `registerNodeDefaultBackend`); `cpu` is pure JS; `tensorflow` needs
 * the optional `@tensorflow/tfjs-node`.
 *
 * `webgpu` runs on the browser's `navigator.gpu`; in Node, where there is none, it is set up from
 * the optional `webgpu` package (Dawn: `npm i webgpu`), whose adapter needs a GPU driver Dawn can
 * use (Vulkan on Linux; without a GPU, Mesa's lavapipe >= 25). Results stay on the GPU until read:
 * read them with the async `data()` / `array()`, as `dataSync()` throws on `webgpu` in Node.
 *
 * @example
 * await setBackend('wasm');
 * await setBackend('webgpu'); // the same call in the browser and in Node
 */
export async function setBackend(name: BackendName, options: SetBackendOptions = {}): Promise<void> {
  if (activeBackendName() !== name) {
    if (name === 'webgpu') await prepareWebGpu();
    else if (tf.findBackendFactory(name) === null) await registerBackendPackage(name);
    // Node's default wasm factory installs the kernels as it creates the backend: tell it which build.
    if (name === 'wasm') preferWasmKernelOptions({ relaxedSimd: options.relaxedSimd, nativeKernels: options.nativeKernels });
    const ok = await withoutAddedProcessHandlers(() => tf.setBackend(name));
    if (!ok) throw new Error(`setBackend: the tfjs backend '${name}' failed to initialise`);
    await tf.ready();
  }
  if (name === 'wasm' && (options.fastKernels ?? true)) await installWasmMatMul({ relaxedSimd: options.relaxedSimd, nativeKernels: options.nativeKernels });
  // Not optional: without them 3D CNNs (rank-5 activations) compute zeros or throw on webgpu.
  if (name === 'webgpu') installWebGpuHighRankFixes();
}

/**
 * Makes sure some backend is ready: `wasm` in Node when nothing (or only tfjs's `cpu`) was chosen
 * yet, the tfjs default elsewhere. Called by the CLI; calling it twice is cheap.
 */
export async function useDefaultBackend(): Promise<string> {
  if (isNode && !backendChosenByUser()) await setBackend('wasm');
  await tf.ready();
  return tf.getBackend();
}

// tf.getBackend() would initialise tfjs's default (cpu) just to answer, and in Node that prints
// tfjs's "install the node backend" banner; the engine's field answers without side effects.
// The field is undefined (not null) until a backend is initialised.
function activeBackendName(): string | undefined {
  return (tf.engine() as unknown as { backendName?: string | null }).backendName ?? undefined;
}

function backendChosenByUser(): boolean {
  const name = activeBackendName();
  return name !== undefined && name !== 'cpu';
}

async function registerBackendPackage(name: string): Promise<void> {
  switch (name) {
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'tensorflow':
      try {
        await import(/* webpackIgnore: true */ '@tensorflow/tfjs-node' as string);
      } catch (e) {
        throw new Error(
          `setBackend('tensorflow') needs the optional package @tensorflow/tfjs-node (npm i @tensorflow/tfjs-node@4.22.0; its install downloads libtensorflow): ${(e as Error).message}`,
        );
      }
      return;
    case 'cpu':
    case 'webgl':
      return;
    default:
      throw new Error(`setBackend: unknown backend '${name}' and no factory registered for it`);
  }
}

/** The part of the `webgpu` package (Dawn for Node) that sets up WebGPU: `import * as dawn from 'webgpu'`. */
export interface DawnModule {
  /** A `GPU` object (what `navigator.gpu` is in a browser), given Dawn toggles such as `backend=vulkan`. */
  create(flags: string[]): unknown;
  /** The WebGPU classes and constants (`GPUBufferUsage`, ...) a browser has as globals. */
  globals: object;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<object | null>;
}

const LAVAPIPE_HINT =
  'On a machine without a GPU, install a software Vulkan driver Dawn accepts: Mesa lavapipe >= 25 ' +
  '(Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1; Debian 12\'s own Mesa 22.3 is refused)';

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu ?? undefined;
}

/**
 * What `setBackend('webgpu')` does in Node when `navigator.gpu` is missing, with the `webgpu` package
 * given: defines the WebGPU globals that are not defined yet and `navigator.gpu` (on the existing
 * `navigator` of Node 21+, or on a new one). Call it yourself where the package cannot be imported
 * dynamically, such as a CommonJS test runner (jest), with the package's native `dawn.node`.
 *
 * @param flags Dawn toggles for `create` (default none)
 * @example
 * import * as dawn from 'webgpu';
 * installWebGpuGlobals(dawn);
 * await setBackend('webgpu');
 */
export function installWebGpuGlobals(dawn: DawnModule, flags: string[] = []): void {
  if (typeof dawn?.create !== 'function' || typeof dawn.globals !== 'object') {
    throw new Error('installWebGpuGlobals: expected the webgpu package\'s exports { create, globals }');
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  const gpu = dawn.create(flags);
  const nav = g.navigator as object | undefined;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, enumerable: true, writable: true });
}

async function ensureNavigatorGpu(): Promise<GpuLike> {
  const present = navigatorGpu();
  if (present) return present;
  if (!isNode) {
    throw new Error("setBackend('webgpu'): this browser offers no WebGPU (navigator.gpu is missing: WebGPU needs a browser that ships it and a secure context, https or localhost); use 'wasm'");
  }
  // A variable specifier keeps bundlers from pulling the optional package into the build.
  const pkg = 'webgpu';
  let dawn: DawnModule;
  try {
    dawn = (await import(/* webpackIgnore: true */ pkg)) as DawnModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') {
      throw new Error("setBackend('webgpu') in Node needs the optional package webgpu (Dawn's WebGPU for Node): npm i webgpu");
    }
    throw new Error(
      `setBackend('webgpu'): the webgpu package failed to load (${err.message}); where it cannot be imported (a CommonJS sandbox such as jest), call installWebGpuGlobals with its dist/<platform>-<arch>/dawn.node first`,
    );
  }
  installWebGpuGlobals(dawn);
  return navigatorGpu() as GpuLike;
}

/**
 * Makes `setBackend('webgpu')` possible: `navigator.gpu` set up (Node), an adapter found (else a
 * clear error), the tfjs backend registered.
 */
async function prepareWebGpu(): Promise<void> {
  const gpu = await ensureNavigatorGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`setBackend('webgpu'): WebGPU found no adapter (no GPU driver it can use). ${LAVAPIPE_HINT}`);
  if (tf.findBackendFactory('webgpu') === null) {
    await import(/* webpackIgnore: true */ '@tensorflow/tfjs-backend-webgpu' as string);
    // The package registers its backend on import only if navigator.gpu existed by then.
    if (tf.findBackendFactory('webgpu') === null) {
      throw new Error("setBackend('webgpu'): @tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it registered no backend; call setBackend('webgpu') (or installWebGpuGlobals) before importing it");
    }
  }
}

/**
 * Whether `setBackend('webgpu')` can work here: WebGPU is present (in Node, set up from the
 * `webgpu` package as {@link setBackend} does) and offers an adapter. Never throws; switches no
 * backend. `setBackend('webgpu')`'s error says why when this is false.
 *
 * @example
 * await setBackend((await webgpuAvailable()) ? 'webgpu' : 'wasm');
 */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    await prepareWebGpu();
    return true;
  } catch {
    return false;
  }
}
