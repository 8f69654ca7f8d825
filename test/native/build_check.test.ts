import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { needs } from '../helpers';

// The WebAssembly kernels are embedded as base64 (src/kernels/sgemm_wasm_bytes.ts); this rebuilds
// them from native/*.c with Debian's clang + lld and fails when the embedded bytes differ. CI
// installs clang and lld, so there a missing compiler is a failure, not a skip.
const hasClang = spawnSync('clang', ['--version']).status === 0 && spawnSync('wasm-ld', ['--version']).status === 0;

describe('native WebAssembly kernels', () => {
  const run = needs(hasClang, 'clang and wasm-ld', 'apt-get install clang lld') ? it : it.skip;
  run('the embedded module equals a fresh build of native/*.c', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'native', 'build.mjs'), '--check'], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('sgemm.wasm is up to date');
    expect(r.status).toBe(0);
  });
});
