import * as tf from '@tensorflow/tfjs';
import { nodeRequire } from './node_require';
import { withoutAddedProcessHandlers } from './process_handlers';
import { installWasmKernelsSync } from './wasm_matmul';

/**
 * mst-ts's default tfjs backend in Node: `wasm` with mst-ts's kernels, registered when mst-ts is
 * imported and created by tfjs on the first tensor, so a script that never calls `setBackend`
 * runs on it rather than on tfjs's pure-JS `cpu` (which prints an "install tfjs-node" banner).
 *
 * tfjs's own wasm factory is asynchronous, and tfjs cannot use an asynchronous backend for a
 * synchronous first op (a model's constructor creates its weights synchronously), so this factory
 * instantiates the backend's WebAssembly synchronously, which Node allows.
 *
 * No static import of a Node module: browser bundles of the library load this file too.
 */

/** Above tfjs's webgl (2), which cannot start in Node; below tfjs-node's `tensorflow` (3). */
const PRIORITY = 2.5;

// The module of tfjs-backend-wasm 4.22's `WASM_HAS_SIMD_SUPPORT` check: one v128 instruction.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);

/** The emscripten module of tfjs-backend-wasm, as its glue code fills the config object in. */
interface EmscriptenModule {
  calledRun?: boolean;
  cwrap(name: string, returnType: string | null, argTypes: string[]): unknown;
  tfjs?: Record<string, unknown>;
}

type Factory = (config: object) => Promise<unknown>;

let registered = false;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** The backend tfjs is using, without initialising one (the engine's field, undefined until then). */
function activeBackendName(): string | undefined {
  return (tf.engine() as unknown as { backendName?: string | null }).backendName ?? undefined;
}

/**
 * Creates tfjs-backend-wasm's BackendWasm synchronously: its emscripten glue is given a
 * synchronously instantiated module (the `instantiateWasm` hook), so its runtime starts within the
 * call; then the calls tfjs's own `init` wraps, and mst-ts's kernels.
 */
function createWasmBackend(req: NodeJS.Require): tf.KernelBackend {
  const { BackendWasm } = req('@tensorflow/tfjs-backend-wasm') as { BackendWasm: new (module: object) => tf.KernelBackend };
  const glue = req('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js') as Factory;
  const fs = req('node:fs') as typeof import('node:fs');
  const path = req('node:path') as typeof import('node:path');
  const dist = path.join(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const binary = fs.readFileSync(path.join(dist, WebAssembly.validate(SIMD_PROBE) ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm'));
  const module = {
    instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
      const compiled = new WebAssembly.Module(binary);
      const instance = new WebAssembly.Instance(compiled, imports);
      receive(instance, compiled);
      return instance.exports;
    },
  } as unknown as EmscriptenModule;
  // Failures surface through calledRun below; the promise must not reject unhandled.
  withoutAddedProcessHandlers(() => glue(module)).catch(() => undefined);
  if (!module.calledRun) throw new Error("mst-ts: the 'wasm' backend's WebAssembly runtime did not start synchronously");
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  const backend = new BackendWasm(module);
  installWasmKernelsSync(backend);
  return backend;
}

/**
 * In Node, registers `wasm` with mst-ts's kernels as the backend tfjs starts on first use, unless
 * a backend is already in use. Nothing is loaded or started until the first tensor; an explicit
 * `setBackend` (mst-ts's or tfjs's) still chooses any other backend. Runs once when mst-ts is
 * imported; calling it again is a no-op. Elsewhere it does nothing.
 *
 * @example
 * registerNodeDefaultBackend();
 * tf.tensor([1, 2]); // created on 'wasm', without tfjs's "install tfjs-node" banner
 */
export function registerNodeDefaultBackend(): void {
  if (registered || !isNode() || activeBackendName() !== undefined) return;
  registered = true;
  const req = nodeRequire();
  if (!req) return;
  try {
    // Loading the package registers its kernels and its asynchronous factory, replaced here.
    req('@tensorflow/tfjs-backend-wasm');
  } catch {
    // Not resolvable from here (an unusual layout): tfjs's own default stays; setBackend still works.
    return;
  }
  if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => createWasmBackend(req), PRIORITY);
}

registerNodeDefaultBackend();
