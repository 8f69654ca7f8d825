// Issue 7's benchmark: mst-ts on its default Node backend side by side with PyTorch (Debian's
// python3-torch, torch.set_num_threads(2)) on the same shapes: MST-DINOv2-S inference on one
// 32x224x224 volume, one MST training step (batch 2, AdamW), ResNet3D-50 inference and training
// step. Each case runs in its own process (peak RSS is per process). PyTorch is skipped with a
// message where it is absent. MST_BENCH_REPEATS (default 3) sets the timed runs after one warm-up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runJson } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repeats = process.env.MST_BENCH_REPEATS ?? '3';
// This machine's clock (MST_BENCH_GHZ, else /proc/cpuinfo's, else 3.45): the fp32 peak is 32
// FLOP/cycle per core (two 256-bit FMA pipes, or AVX-512 split in two as on Zen 4), and
// WebAssembly SIMD128 without FMA does 16 (4 lanes, two multiplies and two adds per cycle).
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const GHZ = Number(process.env.MST_BENCH_GHZ ?? (Number(/cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1] ?? 3450) / 1000));
const PEAK_GFLOPS = 2 * 32 * GHZ;
const WASM_LIMIT_PER_CORE = Math.round(16 * GHZ);
// Model FLOPs (forward of MST-DINOv2-S on 32 x 224 x 224, of the 3D ResNet-50 on 32 x 224 x 224
// with conv1 stride [1, 2, 2]); a training step is ~3x forward per sample. `cores`: the wasm
// threads mst-ts runs the case on.
const CASES = [
  { name: 'mst-infer', gflop: 392, cores: 1 },
  // The same with the native kernels splitting every product over all cores of the one process.
  { name: 'mst-infer-threads', gflop: 392, torch: 'mst-infer', cores: 2 },
  // The same inference with the slice encoder on 2 worker threads (SliceEncoderPool).
  { name: 'mst-infer-pool', gflop: 392, torch: 'mst-infer', cores: 2 },
  { name: 'mst-train', gflop: 2350, cores: 1 },
  { name: 'mst-train-threads', gflop: 2350, torch: 'mst-train', cores: 2 },
  // The same step data-parallel over 2 worker threads (DataParallelGradients).
  { name: 'mst-train-pool', gflop: 2350, torch: 'mst-train', cores: 2 },
  { name: 'r3d50-infer', gflop: 124, cores: 1 },
  { name: 'r3d50-infer-threads', gflop: 124, torch: 'r3d50-infer', cores: 2 },
  { name: 'r3d50-train', gflop: 124 * 3 * 2, cores: 1 },
  { name: 'r3d50-train-threads', gflop: 124 * 3 * 2, torch: 'r3d50-train', cores: 2 },
  // Data-parallel over 2 worker threads: batch norm per volume (PyTorch's: the whole batch).
  { name: 'r3d50-train-pool', gflop: 124 * 3 * 2, torch: 'r3d50-train', cores: 2 },
];
const only = process.argv[2];
const torchResults = new Map();

const torchOk = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!torchOk) console.log('PyTorch (Debian python3-torch) not found: the PyTorch column is skipped.');
console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length} at ${GHZ.toFixed(2)} GHz, node ${process.version}, ${new Date().toISOString()}`);
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; mst-train uses slice checkpointing (checkpointedGradients, chunks of ${process.env.MST_BENCH_CHUNK ?? 4}), r3d50-train block checkpointing (resnetCheckpointedGradients); GFLOP/s counts the model's FLOPs, not the recomputation`);
console.log(`| case | mst-ts median s | PyTorch median s | ratio | mst-ts GFLOP/s (% fp32 peak of ${PEAK_GFLOPS.toFixed(0)}) | share of the wasm limit (${WASM_LIMIT_PER_CORE} GFLOP/s per core) | mst-ts CPU s (GFLOP per CPU s) | PyTorch CPU s | kernels | mst-ts peak MiB | PyTorch peak MiB |`);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of CASES.filter((x) => !only || x.name.includes(only))) {
  const ours = runJson(process.execPath, [join(here, 'cases', 'speed_case.mjs'), c.name, repeats]);
  const torchCase = c.torch ?? c.name;
  if (!torchResults.has(torchCase)) {
    torchResults.set(torchCase, torchOk ? runJson('/usr/bin/python3', [join(here, '..', 'tools', 'reference', 'bench_torch.py'), torchCase, repeats]) : { error: 'skipped' });
  }
  const ref = torchResults.get(torchCase);
  const t = ours.times ? median(ours.times) : NaN;
  const p = ref.times ? median(ref.times) : NaN;
  const gf = c.gflop / t;
  const cpu = ours.cpuTimes ? median(ours.cpuTimes) : NaN;
  const torchCpu = ref.cpuTimes ? median(ref.cpuTimes) : NaN;
  console.log(
    `| ${c.name} | ${ours.error ? `error: ${ours.error}` : t.toFixed(2)} | ${ref.error ? ref.error : p.toFixed(2)} | ${(t / p).toFixed(2)} | ${gf.toFixed(1)} (${((100 * gf) / PEAK_GFLOPS).toFixed(0)}%) | ${((100 * gf) / (WASM_LIMIT_PER_CORE * c.cores)).toFixed(0)}% of ${c.cores} x ${WASM_LIMIT_PER_CORE} | ${cpu.toFixed(1)} (${(c.gflop / cpu).toFixed(1)}) | ${torchCpu.toFixed(1)} | ${ours.kernels ?? '-'} | ${ours.peakRssMiB?.toFixed(0) ?? '-'} | ${ref.peakRssMiB?.toFixed(0) ?? '-'} |`,
  );
}
