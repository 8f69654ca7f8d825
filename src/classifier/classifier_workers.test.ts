import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createEncoder } from '../models/encoder_registry';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { bundleJson } from '../models/save_model';
import { Classifier } from './classifier';

// The pool's worker threads run JavaScript files, so the pooled classifier is tested through the
// BUILT package (npm run build first), in a child process of its own.
const root = join(__dirname, '..', '..');
const dist = join(root, process.env.MST_DIST_DIR ?? 'dist');
const built = existsSync(join(dist, 'index.cjs')) && existsSync(join(dist, 'parallel', 'encoder_worker.cjs'));
if (!built) console.warn(`Classifier worker tests skipped: no build at ${dist} (run npm run build)`);

const encoderOptions = { embedDim: 32, depth: 2, numHeads: 2, patchSize: 7, imgSize: 28, seed: 1 };

// Builds a classifier, predicts the same volume twice with `workers` (not disposing it: idle
// workers must not keep the process alive), and prints the results and the pool's size.
const SCRIPT = `
const tf = require('@tensorflow/tfjs');
const m = require(process.argv[1]);
(async () => {
  const workers = process.argv[2] === 'default' ? undefined : Number(process.argv[2]);
  const model = new m.MedicalSliceTransformer({ encoder: m.createEncoder('dinov2', ${JSON.stringify(encoderOptions)}), numClasses: 3, heads: 2, seed: 2 });
  model.eval();
  const clf = new m.Classifier(model, m.bundleJson(model), { workers });
  const volume = tf.randomNormal([9, 28, 28], 0, 1, 'float32', 3);
  const before = tf.memory().numTensors;
  const first = await clf.predict(volume);
  const second = await clf.predict(volume);
  const leaked = tf.memory().numTensors - before;
  process.stdout.write(JSON.stringify({ first, second, threads: await clf.workerThreads(), leaked }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exitCode = 1; });
`;

interface Run {
  first: { logits: number[]; probabilities: number[]; sliceAttention?: number[] };
  second: { logits: number[] };
  threads: number;
  leaked: number;
}

async function run(workers: string, env: Record<string, string> = {}): Promise<Run> {
  // The timeout is the check that the unreferenced, idle workers let the process end.
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', SCRIPT, join(dist, 'index.cjs'), workers], { cwd: root, timeout: 120_000, env: { ...process.env, ...env } });
  return JSON.parse(stdout) as Run;
}

(built ? describe : describe.skip)('Classifier on worker threads (built package)', () => {
  it('workers 2 and the default without native kernels (one per core) share the slices, equal the calling thread, are reused, and let the process exit; with native kernels on every core the default is the calling thread', async () => {
    const [one, two, auto, nativeAuto] = await Promise.all([run('1'), run('2'), run('default', { MST_NATIVE_KERNELS: '0' }), run('default')]);
    const cores: number = require('node:os').availableParallelism();
    const native = existsSync(join(dist, 'native', `mst_kernels-${process.platform}-${process.arch}.node`)) && /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    expect(one.threads).toBe(0);
    expect(two.threads).toBe(2);
    expect(auto.threads).toBe(cores > 1 ? cores : 0);
    expect(nativeAuto.threads).toBe(native || cores === 1 ? 0 : cores);
    expect(one.first.sliceAttention).toHaveLength(9);
    for (const r of [two, auto, nativeAuto]) {
      r.first.logits.forEach((l, i) => expect(l).toBeCloseTo(one.first.logits[i], 4));
      r.first.sliceAttention!.forEach((a, i) => expect(a).toBeCloseTo(one.first.sliceAttention![i], 5));
      expect(r.second.logits).toEqual(r.first.logits);
      expect(r.leaked).toBe(0);
    }
  }, 300_000);
});

describe('Classifier workers option', () => {
  const model = new MedicalSliceTransformer({ encoder: createEncoder('dinov2', encoderOptions), numClasses: 3, heads: 2, seed: 2 }).eval();
  afterAll(() => model.dispose());

  it('rejects a bad count', () => {
    expect(() => new Classifier(model, bundleJson(model), { workers: 0 })).toThrow(/workers must be a positive integer, got 0/);
  });

  it('from the TypeScript sources (no worker script) the default falls back to the calling thread, an explicit count fails', async () => {
    const volume = tf.randomNormal([4, 28, 28], 0, 1, 'float32', 5);
    const auto = new Classifier(model, bundleJson(model));
    const p = await auto.predict(volume);
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(await auto.workerThreads()).toBe(0);
    const two = new Classifier(model, bundleJson(model), { workers: 2 });
    await expect(two.predict(volume)).rejects.toThrow(/the slice-encoder pool of 2 workers did not start: .*worker script/);
    volume.dispose();
  });
});
