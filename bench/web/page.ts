// The benchmark page (bench/web/run.mjs serves and drives it): one engine per page load, chosen by
// the query string, times MST-DINOv2-S on the 32 x 224 x 224 volume of volume.mjs:
//   engine=mst-wasm    mst-ts on tfjs-wasm with its kernels; workers=N: the slice encoder on N Web
//                      Workers; threads=N: tfjs-wasm's own thread pool (cross-origin isolated pages)
//   engine=mst-webgl   mst-ts on tfjs-webgl
//   engine=ort-wasm    onnxruntime-web (wasm, SIMD; threads=N needs cross-origin isolation) on
//                      mst-ts's ONNX export of the same weights
// Cold: from navigation start (fetching and compiling included) to the first prediction; warm:
// each further prediction. The result lands in window.__bench.
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { setBackend } from '../../src/backend';
import { wasmKernelVariant } from '../../src/kernels/wasm_matmul';
import { loadSafetensors } from '../../src/io/safetensors';
import { createModel } from '../../src/models/registry';
import type { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { disposeStateDict } from '../../src/nn/module';
import { predictWithPool } from '../../src/parallel/predict_with_pool';
import { WebSliceEncoderPool } from '../../src/parallel/web_pool';
import { SHAPE, benchVolume } from './volume.mjs';

interface BenchResult {
  engine: string;
  coldMs?: number;
  warmMs?: number[];
  phasesMs?: Record<string, number>;
  logits?: number[];
  info?: Record<string, unknown>;
  error?: string;
}

const q = new URLSearchParams(location.search);
const engine = q.get('engine') ?? 'mst-wasm';
const workers = Number(q.get('workers') ?? 0);
const threads = Number(q.get('threads') ?? 1);
const repeats = Number(q.get('repeats') ?? 2);
const weightsFile = q.get('weights') ?? 'mst.safetensors';
// The first `slices` slices of the volume (default all 32): software WebGL cannot finish 32.
const slices = Number(q.get('slices') ?? SHAPE[0]);
const volumeShape: [number, number, number] = [slices, SHAPE[1], SHAPE[2]];
const volumeData = (): Float32Array => benchVolume().subarray(0, slices * SHAPE[1] * SHAPE[2]);
const log = (text: string): void => {
  (document.getElementById('log') as HTMLElement).textContent += `\n${text}`;
};

async function fetchBytes(file: string): Promise<Uint8Array> {
  const res = await fetch(file);
  if (!res.ok) throw new Error(`fetch ${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function timed(predict: () => Promise<number[]>, phases: Record<string, number>): Promise<BenchResult> {
  let logits = await predict();
  const coldMs = performance.now();
  phases.firstPrediction = coldMs - (phases.ready ?? 0);
  const warmMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    logits = await predict();
    warmMs.push(performance.now() - t0);
    log(`warm ${r + 1}: ${warmMs[r].toFixed(0)} ms`);
  }
  return { engine, coldMs, warmMs, phasesMs: phases, logits };
}

async function runMst(): Promise<BenchResult> {
  const phases: Record<string, number> = {};
  setWasmPaths(new URL('./tfjs-wasm/', location.href).href);
  if (threads > 1) setThreadsCount(threads);
  await setBackend(engine === 'mst-webgl' ? 'webgl' : 'wasm');
  phases.backend = performance.now();
  const bytes = await fetchBytes(weightsFile);
  phases.fetched = performance.now();
  const model = createModel('mst-dinov2-s', { numClasses: 2 }) as MedicalSliceTransformer;
  const dict = await loadSafetensors(bytes);
  model.loadStateDict(dict);
  disposeStateDict(dict);
  model.eval();
  const pool =
    workers > 0
      ? await WebSliceEncoderPool.create(model.encoder, {
          workers,
          createWorker: () => new Worker(new URL('./encoder_worker.js', location.href), { type: 'module' }),
        })
      : null;
  phases.ready = performance.now();
  const volume = tf.tensor3d(volumeData(), volumeShape);
  const result = await timed(async () => (pool ? await predictWithPool(model, pool, volume) : await model.predict(volume)).logits, phases);
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  result.info = {
    backend: tf.getBackend(),
    kernels: engine === 'mst-wasm' ? wasmKernelVariant() : null,
    workers,
    tfjsWasmThreads: threads,
    crossOriginIsolated: self.crossOriginIsolated,
    slices,
    wasmHeapMiB: backend.wasm ? backend.wasm.HEAPU8.length / 2 ** 20 : null,
    weightsMiB: bytes.byteLength / 2 ** 20,
  };
  pool?.dispose();
  return result;
}

async function runOrt(): Promise<BenchResult> {
  const phases: Record<string, number> = {};
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  ort.env.wasm.numThreads = threads;
  const bytes = await fetchBytes('mst.onnx');
  phases.fetched = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  phases.ready = performance.now();
  const input = new ort.Tensor('float32', volumeData(), [1, ...volumeShape]);
  const result = await timed(async () => Array.from((await session.run({ volume: input })).logits.data as Float32Array), phases);
  result.info = { ortThreads: threads, crossOriginIsolated: self.crossOriginIsolated, onnxMiB: bytes.byteLength / 2 ** 20, ortVersion: ort.env.versions?.web };
  await session.release();
  return result;
}

(window as unknown as { __bench?: BenchResult }).__bench = undefined;
(engine.startsWith('ort') ? runOrt() : runMst())
  .then((r) => {
    log(`done: cold ${r.coldMs?.toFixed(0)} ms`);
    (window as unknown as { __bench?: BenchResult }).__bench = r;
  })
  .catch((e: unknown) => {
    const error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    log(`error: ${error}`);
    (window as unknown as { __bench?: BenchResult }).__bench = { engine, error };
  });
