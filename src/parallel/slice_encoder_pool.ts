import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { encodeSafetensors } from '../io/safetensors';
import { disposeStateDict } from '../nn/module';
import type { SliceEncoder } from '../models/slice_encoder';
import type { EncoderSpec } from './encoder_spec';
import type { EncodeMessage, InitMessage, WorkerReply } from './messages';

/** Options of {@link SliceEncoderPool.create}. */
export interface SliceEncoderPoolOptions {
  /** How to rebuild the encoder in each worker (a built-in factory and its options). */
  encoder: EncoderSpec;
  /** Worker threads (default 2, this machine kind's cores). */
  workers?: number;
  /** tfjs backend of the workers (default 'wasm'). */
  backend?: string;
  /** Path of the worker script (default: `encoder_worker.js` next to the built module). */
  workerPath?: string;
}

interface Pending {
  resolve(features: Float32Array): void;
  reject(error: Error): void;
}

/** The folder of this module, in the ESM and CJS builds alike (tsup's shims provide `__dirname` in ESM). */
function moduleDir(): string {
  return __dirname;
}

/** `encoder_worker.{js,cjs}` of the build this module belongs to. */
export function defaultWorkerPath(): string {
  const dir = moduleDir();
  const candidates = ['encoder_worker.js', 'encoder_worker.cjs', join('parallel', 'encoder_worker.js'), join('parallel', 'encoder_worker.cjs')].map((f) => join(dir, f));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`SliceEncoderPool: no worker script found (looked for ${candidates.join(', ')}); run from the built package (npm run build) or pass options.workerPath`);
  }
  return found;
}

/**
 * A pool of `worker_threads`, each with its own tfjs backend (wasm: one core each) and a copy of a
 * slice encoder, that shares the per-slice encoder work of a volume between the cores. The
 * encoder is rebuilt in every worker from a serialisable {@link EncoderSpec} and the weights,
 * which cross as safetensors bytes. Use {@link predictWithPool} for MST inference; call
 * {@link dispose} to stop the workers (they keep the process alive otherwise).
 *
 * @example
 * const pool = await SliceEncoderPool.create(model.encoder, { encoder: { factory: 'dinov2_vits14', options: { imgSize: 224 } }, workers: 2 });
 * const { probabilities } = await predictWithPool(model, pool, volume); // volume [D, H, W]
 * await pool.dispose();
 */
export class SliceEncoderPool {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly workers: Worker[],
    /** Length of one slice's feature vector. */
    readonly featureSize: number,
  ) {
    for (const w of workers) {
      w.on('message', (m: WorkerReply) => this.onReply(m));
      w.on('error', (e: Error) => this.failAll(e));
    }
  }

  /** Starts the workers and loads `encoder`'s current weights into each (a copy: later changes to `encoder` are not seen). */
  static async create(encoder: SliceEncoder, options: SliceEncoderPoolOptions): Promise<SliceEncoderPool> {
    const count = options.workers ?? 2;
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`SliceEncoderPool: workers must be a positive integer, got ${count}`);
    if (!encoder || typeof encoder.encode !== 'function') throw new Error('SliceEncoderPool: expected a SliceEncoder (e.g. model.encoder)');
    const path = options.workerPath ?? defaultWorkerPath();
    const dict = encoder.stateDict();
    let weights: Uint8Array;
    try {
      weights = await encodeSafetensors(dict);
    } finally {
      disposeStateDict(dict);
    }
    const workers = Array.from({ length: count }, () => new Worker(path));
    const init: InitMessage = { type: 'init', spec: options.encoder, weights, backend: options.backend ?? 'wasm' };
    try {
      await Promise.all(
        workers.map(
          (w, i) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: WorkerReply): void => {
                w.off('error', reject);
                w.off('message', onMessage);
                if (m.type === 'ready') resolve();
                else reject(new Error(`SliceEncoderPool: worker ${i} failed to start: ${m.type === 'error' ? m.message : m.type}`));
              };
              w.on('message', onMessage);
              w.once('error', reject);
              w.postMessage(init);
            }),
        ),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new SliceEncoderPool(workers, encoder.featureSize);
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Encodes `[N, H, W, C]` images (row-major float32; C = 1 gray is repeated to the encoder's
   * channels in the workers), split into one contiguous block per worker. Resolves to the
   * features `[N, featureSize]`, row-major.
   */
  async encode(data: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    const [n, h, w, c] = shape;
    if (data.length !== n * h * w * c) throw new Error(`SliceEncoderPool.encode: ${data.length} values do not fill shape [${shape.join(', ')}]`);
    const per = Math.ceil(n / this.workers.length);
    const slice = h * w * c;
    const parts: Promise<Float32Array>[] = [];
    for (let i = 0, start = 0; start < n; i++, start += per) {
      const count = Math.min(per, n - start);
      const block = data.slice(start * slice, (start + count) * slice);
      parts.push(this.request(this.workers[i], { type: 'encode', id: this.nextId++, data: block, shape: [count, h, w, c] }));
    }
    const results = await Promise.all(parts);
    const out = new Float32Array(n * this.featureSize);
    let offset = 0;
    for (const r of results) {
      out.set(r, offset);
      offset += r.length;
    }
    return out;
  }

  /** Stops the workers; pending requests are rejected. */
  async dispose(): Promise<void> {
    this.failAll(new Error('SliceEncoderPool: disposed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private request(worker: Worker, message: EncodeMessage): Promise<Float32Array> {
    if (!worker) return Promise.reject(new Error('SliceEncoderPool: the pool is disposed'));
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      worker.postMessage(message, [message.data.buffer as ArrayBuffer]);
    });
  }

  private onReply(m: WorkerReply): void {
    if (m.type === 'ready' || m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'result') p.resolve(m.features);
    else p.reject(new Error(`SliceEncoderPool: a worker failed: ${m.message}`));
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
