import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { installWasmMatMul, wasmKernelVariant } from '../../src/kernels/wasm_matmul';
import { relaxedSimdSupported } from '../../src/kernels/wasm_features';

// Node 20 has WebAssembly relaxed SIMD behind a flag (Node >= 22 by default), so the relaxed
// build is checked in a child process that has it; this process checks the choice between builds.
const major = Number(process.versions.node.split('.')[0]);
const flags = major < 22 ? ['--experimental-wasm-relaxed-simd'] : [];

interface CaseResult {
  name: string;
  worstOverBound: number;
  differing: number;
  total: number;
}

describe('relaxed-SIMD (fused multiply-add) kernels', () => {
  it('equal the plain SIMD128 kernels within float32 rounding on GEMMs and convolutions', () => {
    const r = spawnSync(process.execPath, [...flags, join(__dirname, 'relaxed_simd_child.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { relaxedSimd: boolean; results: CaseResult[] };
    expect(out.relaxedSimd).toBe(true);
    expect(out.results).toHaveLength(9);
    for (const c of out.results) {
      // Below the dot product's rounding bound k 2^-24 sum |a b|, element by element.
      expect({ name: c.name, ok: c.worstOverBound < 1 }).toEqual({ name: c.name, ok: true });
    }
  });

  it('the feature detection is false in a process without relaxed SIMD (Node 20, no flag)', () => {
    if (major >= 22) return;
    const r = spawnSync(process.execPath, [join(__dirname, 'relaxed_simd_child.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toEqual({ relaxedSimd: false, results: [] });
  });

  it('installWasmMatMul picks the build the engine supports and refuses relaxed SIMD where it is missing', async () => {
    if (tf.getBackend() !== 'wasm') return;
    await installWasmMatMul();
    expect(wasmKernelVariant()).toBe(relaxedSimdSupported() ? 'relaxed-simd' : 'simd');
    if (!relaxedSimdSupported()) await expect(installWasmMatMul({ relaxedSimd: true })).rejects.toThrow(/no WebAssembly relaxed SIMD/);
  });
});
