import * as tf from '@tensorflow/tfjs';
import { installWasmMatMul } from './kernels/wasm_matmul';

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
}

/**
 * Selects the tfjs backend all mst-ts computation runs on, loading its package on demand.
 * In Node the default (see {@link useDefaultBackend}) is `wasm`, the fastest backend that installs
 * offline; `cpu` is pure JS; `webgpu` needs `navigator.gpu` (in Node, the `webgpu` package);
 * `tensorflow` needs the optional `@tensorflow/tfjs-node`.
 *
 * @example
 * await setBackend('wasm');
 */
export async function setBackend(name: BackendName, options: SetBackendOptions = {}): Promise<void> {
  if (activeBackendName() !== name) {
    if (tf.findBackendFactory(name) === null) await registerBackendPackage(name);
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`setBackend: the tfjs backend '${name}' failed to initialise`);
    await tf.ready();
  }
  if (name === 'wasm' && (options.fastKernels ?? true)) await installWasmMatMul();
}

/**
 * Makes sure some backend is ready: `wasm` in Node when nothing was chosen yet, the tfjs default
 * elsewhere. Called by the CLI and by entry points that read results; calling it twice is cheap.
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
    case 'webgpu':
      await import(/* webpackIgnore: true */ '@tensorflow/tfjs-backend-webgpu' as string);
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
