/**
 * The page's Web Worker: brings up the fastest tfjs backend this browser has (WebGPU, else WebGL,
 * else WebAssembly), reads the scan and the model from the bytes it is given, and runs the
 * analysis, so the page stays responsive. Nothing leaves the browser: the only fetches are of
 * files served with the page (the bundled demo).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installWasmMatMul } from '../../../src/kernels/wasm_matmul';
import { installWebGpuHighRankFixes } from '../../../src/kernels/webgpu_high_rank';
import type { Volume } from '../../../src/io/volume';
import type { Classifier } from '../../../src/classifier/classifier';
import type { FileRef, WorkerReply, WorkerRequest } from './messages';
import { analyse, readModel, readScan } from './pipeline';

const scope = self as unknown as { postMessage(message: WorkerReply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null };
const post = (message: WorkerReply, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

const BACKENDS = ['webgpu', 'webgl', 'wasm'];
let backendReady: Promise<string> | null = null;
let cachedModel: { key: string; model: Classifier } | null = null;
let cachedScan: { key: string; volume: Volume } | null = null;
// One run at a time: a run reuses the scan and model the previous one cached.
let queue: Promise<void> = Promise.resolve();

async function initBackend(wasmBase: string, forced: string | null): Promise<string> {
  setWasmPaths(wasmBase);
  const order = forced ? [forced] : BACKENDS;
  const tried: string[] = [];
  for (const name of order) {
    tried.push(name);
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        // mst-ts's WebAssembly SIMD matmul; the stock kernel stays where it cannot load.
        if (name === 'wasm') await installWasmMatMul().catch(() => undefined);
        // tfjs-webgpu 4.22 returns zeros for some rank-5 ops (3D CNNs) without these.
        if (name === 'webgpu') installWebGpuHighRankFixes();
        tf.env().set('PROD', true);
        post({ type: 'backend', name, tried });
        return name;
      }
    } catch {
      // This backend is unavailable here (no adapter, no WebGL context): try the next one.
    }
  }
  throw new Error(`no tfjs backend could start (tried ${tried.join(', ')})`);
}

/** Identity of a set of files, to reuse a parsed scan or a loaded model. */
function keyOf(refs: FileRef[]): string {
  return refs.map((r) => (r.file ? `${r.name}:${r.file.size}:${r.file.lastModified}` : `${r.name}@${r.url}`)).join('|');
}

async function bytesFiles(refs: FileRef[]): Promise<{ name: string; path: string; arrayBuffer(): Promise<ArrayBuffer> }[]> {
  return Promise.all(
    refs.map(async (r) => {
      let buffer: ArrayBuffer;
      if (r.file) buffer = await r.file.arrayBuffer();
      else {
        const res = await fetch(r.url as string);
        if (!res.ok) throw new Error(`could not load the bundled file '${r.name}' (HTTP ${res.status})`);
        buffer = await res.arrayBuffer();
      }
      return { name: r.name.split('/').pop() as string, path: r.name, arrayBuffer: async () => buffer };
    }),
  );
}

async function run(request: Extract<WorkerRequest, { type: 'run' }>): Promise<void> {
  const { id } = request;
  let stage = 'starting the backend';
  const progress = (name: string, fraction: number): void => {
    stage = name;
    post({ type: 'progress', id, stage: name, fraction });
  };
  const start = performance.now();
  try {
    progress('starting the backend', 0.02);
    await (backendReady ?? Promise.reject(new Error('the worker was not initialised')));
    progress('reading the scan', 0.05);
    const scanKey = keyOf(request.scan);
    if (cachedScan?.key !== scanKey) {
      cachedScan = null;
      cachedScan = { key: scanKey, volume: await readScan(await bytesFiles(request.scan)) };
    }
    progress('loading the model', 0.2);
    const modelKey = keyOf(request.model);
    if (cachedModel?.key !== modelKey) {
      cachedModel?.model.dispose();
      cachedModel = null;
      cachedModel = { key: modelKey, model: await readModel(await bytesFiles(request.model)) };
    }
    const volume = cachedScan.volume;
    const fractions: Record<string, number> = { preprocessing: 0.35, model: 0.45, saliency: 0.9 };
    const labels: Record<string, string> = { preprocessing: 'preprocessing', model: 'running the model and its attention', saliency: 'upsampling the saliency' };
    const analysis = await analyse(cachedModel.model, volume, request.options, (s) => progress(labels[s], fractions[s]));
    const scan = {
      data: volume.data.slice(),
      shape: volume.shape,
      affine: volume.affine,
      spacing: volume.spacing,
      orientation: volume.orientation,
      source: volume.source,
      format: String(volume.meta.format ?? ''),
    };
    const modelName = request.model.map((r) => r.name.split('/').pop()).join(' + ');
    post({ type: 'result', id, analysis, scan, modelName, seconds: (performance.now() - start) / 1000 }, [scan.data.buffer, analysis.saliency.buffer]);
  } catch (err) {
    post({ type: 'error', id, stage, message: err instanceof Error ? err.message : String(err) });
  }
}

scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const msg = e.data;
  if (msg.type === 'init') {
    backendReady = initBackend(msg.wasmBase, msg.backend);
    backendReady.catch((err: Error) => post({ type: 'error', id: -1, stage: 'starting the backend', message: err.message }));
  } else if (msg.type === 'run') {
    queue = queue.then(() => run(msg));
  }
};
