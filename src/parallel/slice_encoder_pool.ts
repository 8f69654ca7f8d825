import type { ComponentConfig } from '../models/component_registry';
import type { SliceEncoder } from '../models/slice_encoder';
import { encoderInitMessage, joinFeatures } from './encoder_init';
import { WorkerGroup } from './worker_group';

/** Options of {@link SliceEncoderPool.create}. */
export interface SliceEncoderPoolOptions {
  /**
   * How the workers rebuild the encoder (registered name and options); default: what the
   * encoder registry knows of `encoder`.
   */
  config?: ComponentConfig;
  /** Worker threads (default 2, this machine kind's cores). */
  workers?: number;
  /** tfjs backend of the workers (default 'wasm'). */
  backend?: string;
  /** Path of the worker script (default: `encoder_worker.js` of the build). */
  workerPath?: string;
  /**
   * Idle workers do not keep the process alive (default false: they do until {@link dispose}),
   * for pools a library starts on the user's behalf.
   */
  unrefWhenIdle?: boolean;
}

/**
 * A pool of `worker_threads`, each with its own tfjs backend (wasm: one core each) and a copy of a
 * slice encoder, that shares the per-slice encoder work of a volume between the cores. The
 * encoder is rebuilt in every worker from its registered name and options (an encoder of your
 * own: register it with a `module` the workers import) and the weights, which cross as
 * safetensors bytes. Use {@link predictWithPool} for MST inference; call
 * {@link dispose} to stop the workers (they keep the process alive otherwise).
 *
 * @example
 * const pool = await SliceEncoderPool.create(model.encoder, { workers: 2 });
 * const { probabilities } = await predictWithPool(model, pool, volume); // volume [D, H, W]
 * await pool.dispose();
 */
export class SliceEncoderPool {
  private constructor(
    private readonly group: WorkerGroup,
    /** Length of one slice's feature vector. */
    readonly featureSize: number,
  ) {}

  /** Starts the workers and loads `encoder`'s current weights into each (a copy: later changes to `encoder` are not seen). */
  static async create(encoder: SliceEncoder, options: SliceEncoderPoolOptions = {}): Promise<SliceEncoderPool> {
    const count = options.workers ?? 2;
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`SliceEncoderPool: workers must be a positive integer, got ${count}`);
    const init = await encoderInitMessage('SliceEncoderPool', encoder, options);
    try {
      return new SliceEncoderPool(await WorkerGroup.start(count, init, options.workerPath, options.unrefWhenIdle ?? false), encoder.featureSize);
    } catch (e) {
      throw new Error(`SliceEncoderPool: ${(e as Error).message}`);
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.group.size;
  }

  /**
   * Encodes `[N, H, W, C]` images (row-major float32; C = 1 gray is repeated to the encoder's
   * channels in the workers), split into one contiguous block per worker. Resolves to the
   * features `[N, featureSize]`, row-major.
   */
  async encode(data: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    const [n, h, w, c] = shape;
    if (data.length !== n * h * w * c) throw new Error(`SliceEncoderPool.encode: ${data.length} values do not fill shape [${shape.join(', ')}]`);
    const per = Math.ceil(n / this.group.size);
    const slice = h * w * c;
    const parts: Promise<Float32Array>[] = [];
    for (let i = 0, start = 0; start < n; i++, start += per) {
      const count = Math.min(per, n - start);
      const block = data.slice(start * slice, (start + count) * slice);
      parts.push(
        this.group.request(i, { type: 'encode', data: block, shape: [count, h, w, c] }, [block.buffer]).then((r) => {
          if (r.type !== 'result') throw new Error(`SliceEncoderPool: unexpected reply '${r.type}'`);
          return r.features;
        }),
      );
    }
    return joinFeatures(await Promise.all(parts), n * this.featureSize);
  }

  /** Stops the workers; pending requests are rejected. */
  async dispose(): Promise<void> {
    await this.group.terminate();
  }
}
