import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend';
import type { ComponentConfig } from '../models/component_registry';
import type { SliceEncoder } from '../models/slice_encoder';
import type { EncodeMessage, InitMessage, WorkerReply } from './messages';
import { encoderFromInitMessage, encoderInitMessage, joinFeatures } from './encoder_init';
import { repeatChannels } from '../ops/repeat_channels';

/** The part of a browser `Worker` (or `DedicatedWorkerGlobalScope`) the pool uses. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate?(): void;
}

/** Options of {@link WebSliceEncoderPool.create}. */
export interface WebSliceEncoderPoolOptions {
  /**
   * How the workers rebuild the encoder (registered name and options); default: what the
   * encoder registry knows of `encoder`. An encoder of your own registers with a `module` URL
   * the workers import.
   */
  config?: ComponentConfig;
  /**
   * Starts one Web Worker running {@link serveSliceEncoder}; the page's bundler resolves the
   * script, e.g. `() => new Worker(new URL('./encoder_worker.ts', import.meta.url), { type: 'module' })`.
   */
  createWorker: () => WebWorkerLike;
  /** Workers (default `navigator.hardwareConcurrency`, at least 1). */
  workers?: number;
  /** tfjs backend of the workers (default 'wasm'). */
  backend?: string;
}

/**
 * {@link SliceEncoderPool} for the browser: Web Workers, each with its own tfjs wasm backend (one
 * core each) and a copy of the slice encoder, share the slices of a volume, so a page uses every
 * core without being cross-origin isolated (no SharedArrayBuffer needed: slices and features are
 * transferred). Pass it to {@link predictWithPool}; {@link dispose} stops the workers.
 *
 * @example
 * // encoder_worker.ts: import { serveSliceEncoder } from 'mst-ts'; serveSliceEncoder(self);
 * const pool = await WebSliceEncoderPool.create(model.encoder, {
 *   createWorker: () => new Worker(new URL('./encoder_worker.ts', import.meta.url), { type: 'module' }),
 * });
 * const { probabilities } = await predictWithPool(model, pool, volume);
 * pool.dispose();
 */
export class WebSliceEncoderPool {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(r: WorkerReply): void; reject(e: Error): void }>();

  private constructor(
    private readonly workers: WebWorkerLike[],
    /** Length of one slice's feature vector. */
    readonly featureSize: number,
  ) {
    for (const w of workers) {
      w.addEventListener('message', (e: MessageEvent) => this.onReply(e.data as WorkerReply));
      w.addEventListener('error', (e: ErrorEvent) => this.failAll(new Error(`a worker failed: ${e.message}`)));
    }
  }

  /** Starts the workers and loads `encoder`'s current weights into each (a copy). */
  static async create(encoder: SliceEncoder, options: WebSliceEncoderPoolOptions): Promise<WebSliceEncoderPool> {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
    const count = options.workers ?? Math.max(1, cores);
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`WebSliceEncoderPool: workers must be a positive integer, got ${count}`);
    if (typeof options.createWorker !== 'function') throw new Error('WebSliceEncoderPool: expected options.createWorker, a function returning a Web Worker that runs serveSliceEncoder');
    const init = await encoderInitMessage('WebSliceEncoderPool', encoder, options);
    const workers = Array.from({ length: count }, () => options.createWorker());
    try {
      await Promise.all(
        workers.map(
          (w, i) =>
            new Promise<void>((resolve, reject) => {
              w.addEventListener('message', (e: MessageEvent) => {
                const m = e.data as WorkerReply;
                if (m.type === 'ready') resolve();
                else if (m.type === 'error' && m.id === undefined) reject(new Error(`WebSliceEncoderPool: worker ${i} failed to start: ${m.message}`));
              });
              w.addEventListener('error', (e: ErrorEvent) => reject(new Error(`WebSliceEncoderPool: worker ${i} failed to start: ${e.message}`)));
              // Each worker gets its own copy of the weights (a transfer would leave the others none).
              w.postMessage(init);
            }),
        ),
      );
    } catch (e) {
      for (const w of workers) w.terminate?.();
      throw e;
    }
    return new WebSliceEncoderPool(workers, encoder.featureSize);
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Encodes `[N, H, W, C]` images (row-major float32; C = 1 gray is repeated to the encoder's
   * channels in the workers), one contiguous block of slices per worker. Resolves to the features
   * `[N, featureSize]`, row-major.
   */
  async encode(data: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    const [n, h, w, c] = shape;
    if (data.length !== n * h * w * c) throw new Error(`WebSliceEncoderPool.encode: ${data.length} values do not fill shape [${shape.join(', ')}]`);
    if (this.workers.length === 0) throw new Error('WebSliceEncoderPool.encode: the pool is disposed');
    const per = Math.ceil(n / this.workers.length);
    const slice = h * w * c;
    const parts: Promise<Float32Array>[] = [];
    for (let i = 0, start = 0; start < n; i++, start += per) {
      const count = Math.min(per, n - start);
      const block = data.slice(start * slice, (start + count) * slice);
      const id = this.nextId++;
      const message: EncodeMessage = { type: 'encode', id, data: block, shape: [count, h, w, c] };
      parts.push(
        new Promise<WorkerReply>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[i].postMessage(message, [block.buffer]);
        }).then((r) => {
          if (r.type !== 'result') throw new Error(`WebSliceEncoderPool: unexpected reply '${r.type}'`);
          return r.features;
        }),
      );
    }
    return joinFeatures(await Promise.all(parts), n * this.featureSize);
  }

  /** Stops the workers; pending requests are rejected. */
  dispose(): void {
    this.failAll(new Error('the worker pool is disposed'));
    for (const w of this.workers) w.terminate?.();
    this.workers.length = 0;
  }

  private onReply(m: WorkerReply): void {
    if (m.type === 'ready' || m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(new Error(`WebSliceEncoderPool: a worker failed: ${m.message}`));
    else p.resolve(m);
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/**
 * The worker side of {@link WebSliceEncoderPool}: call it in the Web Worker script with the
 * worker's global scope. It answers the pool's messages: builds the encoder on the requested
 * backend (set the backend's paths first where the page serves them elsewhere, e.g.
 * tfjs-backend-wasm's `setWasmPaths`), loads the weights and encodes slices.
 *
 * @example
 * // encoder_worker.ts
 * import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
 * import { serveSliceEncoder } from 'mst-ts';
 * setWasmPaths('/tfjs-wasm/');
 * serveSliceEncoder(self);
 */
export function serveSliceEncoder(scope: WebWorkerLike): void {
  let encoder: SliceEncoder | null = null;
  const reply = (m: WorkerReply, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
  const init = async (m: InitMessage): Promise<void> => {
    await setBackend(m.backend);
    tf.env().set('PROD', true);
    for (const url of m.modules) await import(/* webpackIgnore: true */ url);
    encoder = await encoderFromInitMessage(m);
  };
  const encode = async (m: EncodeMessage): Promise<void> => {
    const enc = encoder;
    if (!enc) throw new Error('serveSliceEncoder: encode before init');
    const [n, h, w, c] = m.shape;
    const features = tf.tidy(() => {
      const x = tf.tensor4d(m.data, [n, h, w, c]);
      return enc.encode((c === enc.inChannels ? x : repeatChannels(x as tf.Tensor4D, enc.inChannels)) as tf.Tensor4D).features;
    });
    const data = (await features.data()) as Float32Array;
    features.dispose();
    reply({ type: 'result', id: m.id, features: data, featureSize: enc.featureSize }, [data.buffer as ArrayBuffer]);
  };
  scope.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as InitMessage | EncodeMessage;
    const run = m.type === 'init' ? init(m).then(() => reply({ type: 'ready' })) : encode(m);
    run.catch((err: unknown) => reply({ type: 'error', id: m.type === 'encode' ? m.id : undefined, message: err instanceof Error ? err.message : String(err) }));
  });
}
