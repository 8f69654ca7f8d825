// Builds native/node/*.c into dist/native/mst_kernels-<platform>-<arch>.node, the AVX2 + FMA
// kernels Node uses in place of the WebAssembly GEMM and convolutions (src/kernels/native_kernels.ts).
// Run by `npm run build` after tsup (which empties dist/). x86-64 Linux and macOS only, with a C
// compiler (clang, else `cc`; MST_CC names another); elsewhere, or without a compiler, it says so and exits 0: the library
// then runs the WebAssembly kernels. Node-API headers come from the node-api-headers package.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'node');
const target = join(root, 'dist', 'native', `mst_kernels-${process.platform}-${process.arch}.node`);
// clang vectorises norm_gelu.c's GELU (gcc leaves its branches scalar); any C compiler builds it.
const onPath = (name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
const cc = process.env.MST_CC ?? ['clang-19', 'clang', 'cc'].find(onPath) ?? 'cc';

if (process.arch !== 'x64' || !['linux', 'darwin'].includes(process.platform)) {
  console.log(`native/build_node.mjs: no native kernels for ${process.platform}-${process.arch}; the WebAssembly kernels run`);
  process.exit(0);
}
const include = dirname(createRequire(import.meta.url).resolve('node-api-headers/include/node_api.h'));
const dir = mkdtempSync(join(tmpdir(), 'mst-native-node-'));
const common = ['-O3', '-fPIC', '-std=gnu11', '-pthread', '-fvisibility=hidden', '-Wall', '-Werror', `-I${include}`];
const objects = [
  ['addon.c', []],
  ['thread_pool.c', []],
  ['gemm_avx2.c', ['-mavx2', '-mfma']],
  ['elementwise.c', []],
  // The WebAssembly build's GELU and LayerNorm, the same source: no contraction into fused
  // multiply-adds, so every element equals the WebAssembly kernel's.
  [join('..', 'norm_gelu.c'), ['-mavx2', '-ffp-contract=off', '-fno-math-errno']],
].map(([file, flags]) => {
  const out = join(dir, file.replace(/^.*[\\/]/, '').replace(/\.c$/, '.o'));
  try {
    execFileSync(cc, [...common, ...flags, '-c', join(src, file), '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    if (e.code === 'ENOENT') {
      console.log(`native/build_node.mjs: no C compiler (${cc}); the WebAssembly kernels run (Debian: apt-get install gcc)`);
      process.exit(0);
    }
    throw e;
  }
  return out;
});
// Never unloaded: Node unloads an addon that only a worker thread loaded when that worker exits,
// while the kernels' threads and per-thread destructors still point into it (addon.c does the
// same on macOS at load time).
const linkFlags = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared', '-Wl,-z,nodelete'];
mkdirSync(dirname(target), { recursive: true });
const tmp = join(dir, 'mst_kernels.node');
execFileSync(cc, [...linkFlags, '-pthread', '-o', tmp, ...objects], { stdio: ['ignore', 'inherit', 'inherit'] });
// Copied beside the target first: /tmp may be another file system, and a rename is atomic.
copyFileSync(tmp, `${target}.tmp`);
renameSync(`${target}.tmp`, target);
console.log(`native/build_node.mjs: wrote ${target}`);
