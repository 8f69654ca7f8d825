import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

// Node 20 has WebAssembly relaxed SIMD behind a V8 flag (Node >= 22 by default): the builds are
// compared in a child process started with the flag; fresh processes check which build is installed.
const major = Number(process.versions.node.split('.')[0]);
const flags = major < 22 ? ['--experimental-wasm-relaxed-simd'] : [];

interface CaseResult {
  name: string;
  worstOverBound: number;
  differing: number;
  total: number;
}

describe('relaxed-SIMD (fused multiply-add) kernels', () => {
  it('equal the plain SIMD128 kernels within float32 rounding on GEMMs and convolutions; the shared-memory builds equal theirs', () => {
    const r = spawnSync(process.execPath, [...flags, join(__dirname, 'relaxed_simd_child.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { relaxedSimd: boolean; results: CaseResult[]; shared: unknown[] };
    expect(out.relaxedSimd).toBe(true);
    // The shared-memory builds (threaded tfjs-wasm) instantiate on a shared memory and compute the same.
    expect(out.shared).toEqual([
      { name: 'simd', identical: true },
      { name: 'relaxed-simd', identical: true },
    ]);
    expect(out.results).toHaveLength(9);
    for (const c of out.results) {
      // Below the dot product's rounding bound k 2^-24 sum |a b|, element by element.
      expect({ name: c.name, ok: c.worstOverBound < 1 }).toEqual({ name: c.name, ok: true });
    }
  });

  it('the feature detection is false in Node 20 without the flag, true once enableNodeRelaxedSimd set it', () => {
    if (major >= 22) return;
    const child = (args: string[]): unknown => {
      const r = spawnSync(process.execPath, [join(__dirname, 'relaxed_simd_child.mjs'), ...args], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout.trim().split('\n').pop() as string);
    };
    expect(child([])).toEqual({ relaxedSimd: false, results: [], shared: [{ name: 'simd', identical: true }] });
    const enabled = child(['enable']) as { relaxedSimd: boolean; results: CaseResult[] };
    expect(enabled.relaxedSimd).toBe(true);
    expect(enabled.results.every((c) => c.worstOverBound < 1)).toBe(true);
  });

  it("Node's default backend installs the relaxed-SIMD build (Node >= 20.16 turns it on); MST_WASM_RELAXED_SIMD=0 and setBackend's relaxedSimd: false the plain one", () => {
    // A fresh process each: the pick happens once, when the first tensor starts the backend.
    const probe = buildSync({
      stdin: {
        contents:
          "import * as tf from '@tensorflow/tfjs'; import { setBackend, wasmKernelVariant } from './src/index';" +
          "(async () => { if (process.argv[2] === 'plain') await setBackend('wasm', { relaxedSimd: false }); tf.tensor([1, 2]).dispose();" +
          'process.stdout.write(JSON.stringify({ backend: tf.getBackend(), variant: wasmKernelVariant() })); })();',
        resolveDir: join(__dirname, '..', '..'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['@tensorflow/*'],
      write: false,
      logLevel: 'silent',
    }).outputFiles[0].text;
    const run = (env: Record<string, string>, arg = '') => {
      const r = spawnSync(process.execPath, ['-', arg], { input: probe, encoding: 'utf8', cwd: join(__dirname, '..', '..'), env: { ...process.env, ...env } });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { backend: string; variant: string };
    };
    expect(run({ MST_WASM_RELAXED_SIMD: '' })).toEqual({ backend: 'wasm', variant: 'relaxed-simd' });
    expect(run({ MST_WASM_RELAXED_SIMD: '0' })).toEqual({ backend: 'wasm', variant: 'simd' });
    // The option, as the first call: the default factory creating the backend takes it.
    expect(run({ MST_WASM_RELAXED_SIMD: '' }, 'plain')).toEqual({ backend: 'wasm', variant: 'simd' });
  });
});
