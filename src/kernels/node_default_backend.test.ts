import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';

// A fresh Node process that imports mst-ts (bundled from src, as ESM and as CommonJS) and never
// calls setBackend: it must compute on wasm with mst-ts's kernels and print no tfjs banner.
const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'node_modules', '.cache', `mst-ts-default-backend-${process.pid}`);

const SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer, MedicalSliceTransformer, setBackend } from './src/index';
import { wasmKernelsInstalled } from './src/kernels/wasm_matmul';

async function main(): Promise<void> {
  const first = process.argv[2];
  if (first === 'tensor') tf.tensor([1, 2, 3]).dispose();
  if (first === 'cpu') await tf.setBackend('cpu');
  if (first === 'explicit') await setBackend('wasm');
  const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, imgSize: 28, patchSize: 14, seed: 1 }), numClasses: 2, heads: 2, seed: 2 }).eval();
  const volume = tf.randomUniform([3, 28, 28], -1, 1, 'float32', 4);
  const p = await model.predict(volume);
  process.stdout.write(JSON.stringify({ backend: tf.getBackend(), kernels: wasmKernelsInstalled(), probabilities: p.probabilities }));
  // The user's own bug, after the backend started: Node's normal report must follow.
  if (process.argv[3] === 'throw') setTimeout(() => { throw new Error('my own bug'); }, 5);
  if (process.argv[3] === 'reject') setTimeout(() => void Promise.reject(new Error('my own rejection')), 5);
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exitCode = 1;
});
`;

function bundle(format: 'esm' | 'cjs'): string {
  const file = path.join(dir, format === 'esm' ? 'probe.mjs' : 'probe.cjs');
  buildSync({
    stdin: { contents: SCRIPT, resolveDir: root, loader: 'ts', sourcefile: 'probe.ts' },
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    outfile: file,
    external: ['@tensorflow/*'],
    // tsup's shim in the package's ESM build.
    banner: format === 'esm' ? { js: "import { fileURLToPath as __toPath } from 'node:url'; const __filename = __toPath(import.meta.url);" } : undefined,
    logLevel: 'silent',
  });
  return file;
}

async function run(file: string, first = ''): Promise<{ out: { backend: string; kernels: boolean; probabilities: number[] }; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [file, first], { cwd: root });
  return { out: JSON.parse(stdout), stderr };
}

describe("Node's default backend", () => {
  const files: Record<string, string> = {};
  beforeAll(() => {
    fs.mkdirSync(dir, { recursive: true });
    files.esm = bundle('esm');
    files.cjs = bundle('cjs');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['esm', 'cjs'])('%s: a model built and run without setBackend computes on wasm with mst-ts kernels, no banner', async (format) => {
    const { out, stderr } = await run(files[format]);
    expect(out.backend).toBe('wasm');
    expect(out.kernels).toBe(true);
    expect(out.probabilities).toHaveLength(2);
    expect(out.probabilities[0] + out.probabilities[1]).toBeCloseTo(1, 6);
    expect(stderr).not.toMatch(/looks like you are running TensorFlow\.js in Node/);
    expect(stderr).toBe('');
  });

  it('an ES module given to `node --input-type=module -e` (where `module` is a global) starts wasm too', async () => {
    const script = `await import(${JSON.stringify(pathToFileURL(files.esm).href)});`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout).backend).toBe('wasm');
    expect(stderr).toBe('');
  });

  it('a plain tfjs tensor as the first op starts wasm too, and gives the same numbers', async () => {
    const a = await run(files.cjs);
    const b = await run(files.cjs, 'tensor');
    expect(b.out.backend).toBe('wasm');
    expect(b.stderr).toBe('');
    expect(b.out.probabilities).toEqual(a.out.probabilities);
  });

  it('an explicit setBackend still chooses another backend', async () => {
    const { out } = await run(files.esm, 'cpu');
    expect(out.backend).toBe('cpu');
    expect(out.kernels).toBe(false);
  });

  it.each([
    ['esm', '', 'throw', 'my own bug'],
    ['cjs', '', 'reject', 'my own rejection'],
    ['esm', 'explicit', 'throw', 'my own bug'],
  ])("%s (%s): the user's own uncaught %s gets Node's normal report and exit code 1, not the wasm glue's", async (format, first, how, message) => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [files[format], first, how], { cwd: root }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr.length).toBeLessThan(4000);
    expect(r.stderr).not.toMatch(/tfjs-backend-wasm\.js/);
  });
});
