/**
 * `mst-ts predict --manifest`: a whole cohort, resumable and shardable. Each case's JSON is
 * written atomically when the case is finished, so a rerun skips what exists; a failing case is
 * reported and skipped; `--shard k/n` picks the cases whose id hashes to `k`.
 */
import * as fs from 'node:fs/promises';
import { writeFileAtomic } from '../io/files';
import { processCpuCount } from '../kernels/usable_cpus';
import type { ProgressStream } from '../train/progress';
import { finishedCase, sameModel, type CaseContext, type CaseRecord, type ModelStamp } from './cohort_case';
import { caseFiles, caseFileStems, readCohortManifest, shardOfId, summaryFile, type CohortCase, type Shard } from './cohort_plan';
import type { PredictorSpec } from './cohort_predictor';
import { CohortProgress } from './cohort_progress';
import { inProcessRunner, useBackend, workerRunners, type CaseRunner } from './cohort_runner';

/** Options of {@link runCohort}. */
export interface CohortOptions {
  /** Manifest CSV (`id, path`, optional `label`, `split`, ...). */
  manifest: string;
  /** Output folder, created if missing. */
  outDir: string;
  spec: PredictorSpec;
  /** tfjs backend (default: mst-ts's default, wasm in Node). */
  backend?: string;
  /** This process's shard (default: every case). */
  shard?: Shard;
  /** Keep only manifest rows of this split. */
  split?: string;
  /** Worker threads (default 1: the calling thread, no worker). */
  workers?: number;
  /** Put the slice attention in each JSON (default true). */
  sliceAttention?: boolean;
  /** Write each case's saliency volume (default false). */
  saliency?: boolean;
  /** Progress output (default: none). */
  progress?: ProgressStream;
  /** The worker script (default: the built `cli/cohort_worker.js`). */
  workerPath?: string;
}

/** What a run did: also written to the output folder as `_summary[.shard-k-of-n].json`. */
export interface CohortSummary {
  manifest: string;
  outDir: string;
  shard?: string;
  /** Cases in the manifest (after the split filter). */
  cohortSize: number;
  /** Cases of this shard. */
  cases: number;
  /** Predicted by this run. */
  done: number;
  /** Skipped: an earlier run had written them. */
  skipped: number;
  /** Failed and skipped, with the error. */
  failed: { id: string; error: string }[];
  /** Wall-clock seconds of the predictions (model loading included). */
  seconds: number;
  /** Wall-clock seconds per predicted case (NaN when none), the throughput of all workers. */
  secondsPerCase: number;
  /** Mean seconds one worker spent on a case. */
  workerSecondsPerCase: number;
  workers: number;
}

function describe(r: CaseRecord): string {
  const p = r.probabilities[r.prediction];
  return `class ${r.prediction} (p ${p.toFixed(3)}), ${r.seconds.toFixed(2)} s`;
}

/**
 * Predicts (and explains) the cases of a manifest that this shard owns and no earlier run
 * finished, on the calling thread or on `workers` worker threads, writing `<out>/<stem>.json` per
 * case (see {@link CaseRecord}) and the summary.
 *
 * @example
 * const s = await runCohort({ manifest: 'cases.csv', outDir: 'results', spec: { runtime: 'tfjs', arch: 'mst-dinov2-s', weights: 'w.safetensors' }, shard: { k: 0, n: 4 } });
 * s.failed; // [{ id, error }, ...]
 */
export async function runCohort(options: CohortOptions): Promise<CohortSummary> {
  const workers = options.workers ?? 1;
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`predict: --workers must be a positive integer, got ${workers}`);
  const all = await readCohortManifest(options.manifest, { numClasses: options.spec.numClasses, split: options.split });
  const stems = caseFileStems(all);
  const shard = options.shard;
  const mine = shard ? all.filter((c) => shardOfId(c.id, shard.n) === shard.k) : all;
  await fs.mkdir(options.outDir, { recursive: true });

  const stamp: ModelStamp = {
    runtime: options.spec.runtime,
    ...(options.spec.arch ? { arch: options.spec.arch } : {}),
    weights: options.spec.weights.split(/[\\/]/).pop() as string,
    ...(options.spec.runtime === 'tfjs' ? { numClasses: options.spec.numClasses ?? 2 } : {}),
  };
  const saliency = options.saliency ?? false;
  const todo: CohortCase[] = [];
  for (const c of mine) {
    const stem = stems.get(c.id) as string;
    const old = await finishedCase(options.outDir, c, stem, saliency);
    if (!old) {
      todo.push(c);
      continue;
    }
    if (!old.model || !sameModel(old.model, stamp)) {
      throw new Error(
        `predict: ${caseFiles(options.outDir, stem).json} was made by another model (${JSON.stringify(old.model)}, this run: ${JSON.stringify(stamp)}); ` +
          'use another --out, or remove the old results',
      );
    }
  }

  const ctx: CaseContext = {
    outDir: options.outDir,
    sliceAttention: options.sliceAttention ?? true,
    saliency,
    cohortSize: all.length,
    model: stamp,
    ...(shard ? { shard: `${shard.k}/${shard.n}` } : {}),
  };
  const started = Date.now();
  const failed: CohortSummary['failed'] = [];
  let done = 0;
  let workerSeconds = 0;
  const threads = Math.min(workers, todo.length);
  if (todo.length > 0) {
    let runners: CaseRunner[];
    if (threads <= 1) {
      await useBackend(options.backend);
      runners = [await inProcessRunner(options.spec, ctx)];
    } else {
      // ONNX Runtime sessions share the cores between the workers.
      const spec = options.spec.runtime === 'onnx' && options.spec.threads === undefined ? { ...options.spec, threads: Math.max(1, Math.floor(processCpuCount() / threads)) } : options.spec;
      runners = await workerRunners(threads, { backend: options.backend, spec, ctx }, options.workerPath);
    }
    const progress = options.progress ? new CohortProgress(options.progress, todo.length) : null;
    const queue = [...todo];
    const drain = async (runner: CaseRunner): Promise<void> => {
      while (runner.alive && queue.length > 0) {
        const c = queue.shift() as CohortCase;
        try {
          const record = await runner.run(c, stems.get(c.id) as string);
          done++;
          workerSeconds += record.seconds;
          progress?.caseDone(c.id, describe(record));
        } catch (e) {
          const error = (e as Error).message;
          failed.push({ id: c.id, error });
          progress?.caseFailed(c.id, error);
        }
      }
    };
    try {
      await Promise.all(runners.map(drain));
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
    for (const c of queue) {
      failed.push({ id: c.id, error: 'not run: every worker thread crashed' });
      progress?.caseFailed(c.id, 'not run: every worker thread crashed');
    }
    progress?.finish();
  }
  const seconds = (Date.now() - started) / 1000;
  const summary: CohortSummary = {
    manifest: options.manifest,
    outDir: options.outDir,
    ...(shard ? { shard: `${shard.k}/${shard.n}` } : {}),
    cohortSize: all.length,
    cases: mine.length,
    done,
    skipped: mine.length - todo.length,
    failed,
    seconds,
    secondsPerCase: done > 0 ? seconds / done : NaN,
    workerSecondsPerCase: done > 0 ? workerSeconds / done : NaN,
    workers: Math.max(threads, 1),
  };
  await writeFileAtomic(summaryFile(options.outDir, shard), `${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1)}\n`);
  return summary;
}

/** The summary as text: counts, failures with their errors, seconds per case. */
export function formatCohortSummary(s: CohortSummary): string {
  const scope = s.shard ? `shard ${s.shard}: ${s.cases} of ${s.cohortSize} cases` : `${s.cases} cases`;
  const speed = s.done > 0 ? `, ${s.secondsPerCase.toFixed(2)} s per case (${s.workers} worker${s.workers > 1 ? 's' : ''}, ${s.workerSecondsPerCase.toFixed(2)} s per case each)` : '';
  const lines = [
    `${s.manifest} (${scope}): done ${s.done}, skipped as already done ${s.skipped}, failed ${s.failed.length}; ${s.seconds.toFixed(1)} s${speed}`,
    ...s.failed.map((f) => `  failed: ${f.id}: ${f.error}`),
    `results in ${s.outDir}`,
  ];
  return `${lines.join('\n')}\n`;
}
