/**
 * Runs fuzz inputs in a child process with a time and a memory budget: the child's resident
 * memory is polled (Linux /proc) and V8's heap is capped, and an input that overruns either, or
 * kills the process, is reported as such. The child is a bundle of test/fuzz/child.ts built with esbuild
 * from the sources, so fuzzing needs no prior build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (found upwards, as this file also runs bundled under node_modules/.cache). */
export const ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'mst-ts') return dir;
    if (path.dirname(dir) === dir) throw new Error(`fuzz: no mst-ts package.json above ${__dirname}`);
  }
})();

/** What running one input gave. */
export type Outcome =
  | { status: 'accepted'; summary: Record<string, unknown>; leaked: number; rss: number; ms: number }
  | { status: 'rejected'; name: string; message: string; stack: string; leaked: number; rss: number; ms: number }
  | { status: 'timeout' | 'memory' | 'crash'; detail: string; ms: number };

/** Budgets of one input. */
export interface Budget {
  /** Wall-clock milliseconds. */
  timeMs: number;
  /** Resident memory of the child in MiB (the V8 heap is capped at the same). */
  memoryMiB: number;
}

let bundled: string | undefined;

/** Bundles test/fuzz/child.ts once per process (tfjs, optional native packages and WebAssembly codecs stay external). */
export function childBundle(): string {
  if (bundled) return bundled;
  // Under node_modules so that the external packages resolve from the repository.
  const out = path.join(ROOT, 'node_modules', '.cache', 'mst-fuzz', `child-${process.pid}.cjs`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(ROOT, 'test', 'fuzz', 'child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    // The DICOM codecs' emscripten glue finds its .wasm beside itself: left in node_modules.
    external: ['@tensorflow/*', 'onnxruntime-node', 'webgpu', 'fake-indexeddb', '@cornerstonejs/*'],
    logLevel: 'error',
  });
  bundled = out;
  process.on('exit', () => fs.rmSync(out, { force: true }));
  return out;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** One fuzz child; restarted after every input that kills it or that it overran. */
export class FuzzChild {
  private child: ChildProcess | null = null;
  private stderr = '';
  private nextId = 0;

  constructor(
    private readonly budget: Budget,
    private readonly init: { dicomSeries: string[]; bundleWeights: string | null },
  ) {}

  private async start(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [`--max-old-space-size=${this.budget.memoryMiB}`, childBundle()], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], cwd: ROOT });
    this.stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean }): void => {
        if (m.ready) {
          child.off('message', onMsg);
          resolve();
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`fuzz child exited during start (code ${code}): ${this.stderr}`)));
      child.send({ init: this.init });
    });
    child.removeAllListeners('exit');
    this.child = child;
    return child;
  }

  /** Runs `target` on `bytes` within the budget. */
  async run(target: string, bytes: Uint8Array): Promise<Outcome> {
    const child = this.child ?? (await this.start());
    const id = this.nextId++;
    const t0 = Date.now();
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (o: Outcome, kill: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        child.off('message', onMsg);
        child.off('exit', onExit);
        if (kill) {
          child.kill('SIGKILL');
          this.child = null;
        }
        resolve(o);
      };
      const onMsg = (m: Outcome & { id: number }): void => {
        if (m.id === id) finish({ ...m, ms: Date.now() - t0 } as Outcome, false);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        this.child = null;
        const oom = /heap out of memory|Allocation failed|Array buffer allocation failed/i.test(this.stderr);
        finish({ status: oom ? 'memory' : 'crash', detail: `child died (code ${code}, signal ${signal}): ${this.stderr.trim().split('\n').slice(-6).join(' | ')}`, ms: Date.now() - t0 }, false);
      };
      const timer = setTimeout(() => finish({ status: 'timeout', detail: `no answer within ${this.budget.timeMs} ms`, ms: Date.now() - t0 }, true), this.budget.timeMs);
      const poll = setInterval(() => {
        const rss = rssMiB(child.pid!);
        if (rss > this.budget.memoryMiB) finish({ status: 'memory', detail: `resident memory ${rss.toFixed(0)} MiB passed the budget of ${this.budget.memoryMiB} MiB`, ms: Date.now() - t0 }, true);
      }, 25);
      child.on('message', onMsg);
      child.on('exit', onExit);
      child.send({ id, target, bytes: Buffer.from(bytes).toString('base64') });
    });
  }

  /** Ends the child. */
  close(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}
