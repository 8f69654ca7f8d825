import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { needs } from '../helpers';

// The WebAssembly kernels are embedded as base64 (src/kernels/sgemm_wasm_bytes.ts); this rebuilds
// them from native/*.c with Debian 12's clang 19 + lld 19 and fails when the embedded bytes differ.
// CI installs both, so there a missing compiler is a failure, not a skip.
const hasClang = spawnSync('clang-19', ['--version']).status === 0 && spawnSync('wasm-ld-19', ['--version']).status === 0;

describe('native WebAssembly kernels', () => {
  const run = needs(hasClang, 'clang-19 and wasm-ld-19', 'apt-get install clang-19 lld-19') ? it : it.skip;
  run('the embedded modules (plain and relaxed SIMD) equal a fresh build of native/*.c', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'native', 'build.mjs'), '--check'], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('sgemm.wasm is up to date');
    expect(r.status).toBe(0);
  });
});
