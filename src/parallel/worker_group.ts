// Namespace imports: a browser bundle of the library (which reaches this file through
// Classifier's lazy import, never run there) resolves node:* to empty modules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as threads from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import type { WorkerReply } from './messages';

/** `encoder_worker.{js,cjs}` of the build this module belongs to (tsup's shims give `__dirname` in ESM). */
export function defaultWorkerPath(): string {
  const candidates = ['encoder_worker.js', 'encoder_worker.cjs', path.join('parallel', 'encoder_worker.js'), path.join('parallel', 'encoder_worker.cjs')].map((f) => path.join(__dirname, f));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`mst-ts parallel: no worker script found (looked for ${candidates.join(', ')}); run from the built package (npm run build) or pass options.workerPath`);
  }
  return found;
}

type Reply = Exclude<WorkerReply, { type: 'ready' } | { type: 'error' }>;

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  worker: Worker;
}

/** Worker threads running encoder_worker, with request/response matching by id. */
export class WorkerGroup {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** Requests in flight per worker, counted where idle workers must not keep the process alive. */
  private readonly inFlight = new Map<Worker, number>();

  private constructor(
    private readonly workers: Worker[],
    private readonly unrefWhenIdle: boolean,
  ) {
    for (const w of workers) {
      if (unrefWhenIdle) w.unref();
      w.on('message', (m: WorkerReply) => this.onReply(m));
      w.on('error', (e: Error) => this.failAll(e));
    }
  }

  /**
   * Starts `count` workers and sends each `init`; resolves once all reply 'ready'. With
   * `unrefWhenIdle`, a worker keeps the process alive only while a request to it is in flight (a
   * pool started behind the user's back must not hold a finished script open).
   */
  static async start(count: number, init: object, workerPath?: string, unrefWhenIdle = false): Promise<WorkerGroup> {
    const script = workerPath ?? defaultWorkerPath();
    const workers = Array.from({ length: count }, () => new threads.Worker(script));
    try {
      await Promise.all(
        workers.map(
          (w, i) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: WorkerReply): void => {
                w.off('error', reject);
                w.off('message', onMessage);
                if (m.type === 'ready') resolve();
                else reject(new Error(`worker ${i} failed to start: ${m.type === 'error' ? m.message : m.type}`));
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
    return new WorkerGroup(workers, unrefWhenIdle);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends `message` (given a fresh `id`) to worker `i` and resolves with its reply. */
  request(i: number, message: { type: string } & Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.workers[i];
    if (!worker) return Promise.reject(new Error('the worker pool is disposed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      if (this.unrefWhenIdle) {
        this.inFlight.set(worker, (this.inFlight.get(worker) ?? 0) + 1);
        worker.ref();
      }
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Stops the workers; pending requests are rejected. */
  async terminate(): Promise<void> {
    this.failAll(new Error('the worker pool is disposed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private onReply(m: WorkerReply): void {
    if (m.type === 'ready' || m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.settled(p.worker);
    if (m.type === 'error') p.reject(new Error(`a worker failed: ${m.message}`));
    else p.resolve(m);
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) {
      this.settled(p.worker);
      p.reject(error);
    }
    this.pending.clear();
  }

  private settled(worker: Worker): void {
    if (!this.unrefWhenIdle) return;
    const left = (this.inFlight.get(worker) ?? 1) - 1;
    this.inFlight.set(worker, left);
    if (left === 0) worker.unref();
  }
}
