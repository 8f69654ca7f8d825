/**
 * Who runs a cohort's cases: the main thread, or worker threads (`cohort_worker`), each with its
 * own tfjs engine and backend (or ONNX Runtime session) and its own copy of the model.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setBackend, useDefaultBackend } from '../backend';
import type { CaseContext, CaseRecord } from './cohort_case';
import { processCase } from './cohort_case';
import type { CohortCase } from './cohort_plan';
import { loadVolumePredictor, type PredictorSpec } from './cohort_predictor';

/** Sent once to a worker: what to load and where to write. */
export interface CohortWorkerInit {
  type: 'init';
  /** tfjs backend name (default: mst-ts's default, wasm in Node). */
  backend?: string;
  spec: PredictorSpec;
  ctx: CaseContext;
}

/** One case for a worker. */
export interface CohortWorkerCase {
  type: 'case';
  case: CohortCase;
  stem: string;
}

/** A worker's answers: one per message, in order (one case is in flight per worker). */
export type CohortWorkerReply =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'done'; record: CaseRecord }
  | { type: 'failed'; message: string };

/** Runs cases one at a time. */
export interface CaseRunner {
  /** Predicts and writes one case; rejects with the case's error. */
  run(c: CohortCase, stem: string): Promise<CaseRecord>;
  /** False once the runner can take no more cases (its worker died). */
  readonly alive: boolean;
  close(): Promise<void>;
}

/** Sets the tfjs backend a run asked for, or mst-ts's default. */
export async function useBackend(name: string | undefined): Promise<void> {
  if (name) await setBackend(name);
  else await useDefaultBackend();
}

/** A runner on the calling thread (the backend must already be set). */
export async function inProcessRunner(spec: PredictorSpec, ctx: CaseContext): Promise<CaseRunner> {
  const predictor = await loadVolumePredictor(spec);
  return {
    alive: true,
    run: (c, stem) => processCase(predictor, c, stem, ctx),
    close: () => predictor.dispose(),
  };
}

/**
 * `cohort_worker.{js,cjs}` of the build the CLI runs from: `dist/cli/cohort_worker.js` next to
 * `dist/cli.js`. The folder is `__dirname` (CommonJS, or tsup's shims in ESM), else the folder of
 * the running script (the `mst-ts` bin link resolved).
 */
export function defaultCohortWorkerPath(): string {
  const base = typeof __dirname === 'string' ? __dirname : dirname(realpathSync(process.argv[1]));
  const candidates = [join('cli', 'cohort_worker.js'), join('cli', 'cohort_worker.cjs'), 'cohort_worker.js', 'cohort_worker.cjs'].map((f) => join(base, f));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`predict --workers: no worker script found (looked for ${candidates.join(', ')}); run the built CLI (npm run build)`);
  return found;
}

class WorkerRunner implements CaseRunner {
  alive = true;
  private pending: { resolve(r: CohortWorkerReply): void; reject(e: Error): void } | null = null;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: CohortWorkerReply) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(m);
    });
    worker.on('error', (e: Error) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`the worker thread exited (code ${code})`)));
  }

  private die(e: Error): void {
    this.alive = false;
    const p = this.pending;
    this.pending = null;
    p?.reject(new Error(`worker crashed: ${e.message}`));
  }

  request(message: CohortWorkerInit | CohortWorkerCase): Promise<CohortWorkerReply> {
    if (!this.alive) return Promise.reject(new Error('worker crashed earlier'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  async run(c: CohortCase, stem: string): Promise<CaseRecord> {
    const reply = await this.request({ type: 'case', case: c, stem });
    if (reply.type === 'done') return reply.record;
    throw new Error(reply.type === 'failed' || reply.type === 'error' ? reply.message : `unexpected worker reply '${reply.type}'`);
  }

  async close(): Promise<void> {
    this.alive = false;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Starts `count` worker threads and loads the model in each; resolves once all are ready, or
 * rejects with the first worker's error (all are stopped then).
 */
export async function workerRunners(count: number, init: Omit<CohortWorkerInit, 'type'>, workerPath = defaultCohortWorkerPath()): Promise<CaseRunner[]> {
  const runners = Array.from({ length: count }, () => new WorkerRunner(new Worker(workerPath)));
  try {
    const replies = await Promise.all(runners.map((r) => r.request({ type: 'init', ...init })));
    const bad = replies.find((r) => r.type !== 'ready');
    if (bad) throw new Error(`a worker failed to start: ${bad.type === 'error' ? bad.message : bad.type}`);
  } catch (e) {
    await Promise.all(runners.map((r) => r.close()));
    throw e;
  }
  return runners;
}
