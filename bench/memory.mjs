// Peak memory of one MST-DINOv2-S training step (batch 1, AdamW) against the slice count, plain
// (tf.variableGrads over the whole forward) and with slice checkpointing (checkpointedGradients):
// the checkpointed peak should stay flat while the plain one grows with the slices.
// usage: npm run build && node bench/memory.mjs [SIZE] [SLICES,...] [CHUNK] [modes]
//   defaults: 224 px, 32,256 slices, chunk 16, modes plain,checkpointed. Each run is its own process;
//   MST_DIST names another build folder (default dist).
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [sizeText, slicesText, chunkText, modesText] = process.argv.slice(2);
const size = sizeText ?? '224';
const slices = (slicesText ?? '32,256').split(',');
const chunk = chunkText ?? '16';
const modes = (modesText ?? 'plain,checkpointed').split(',');
console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log(`MST-DINOv2-S training step, batch 1, ${size}x${size} slices, chunk ${chunk}`);
console.log('| mode | slices | seconds | peak RSS MiB | wasm heap MiB (peak) |');
console.log('|---|---|---|---|---|');
for (const mode of modes) {
  for (const d of slices) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', join(here, 'cases', 'memory_case.mjs'), mode, d, size, chunk], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (r.status !== 0 || !line) {
      const lines = (r.stderr || 'failed').trim().split('\n');
      console.log(`| ${mode} | ${d} | error: ${lines.find((l) => /Error|abort|memory/i.test(l)) ?? lines.at(-1)} | | |`);
      continue;
    }
    const o = JSON.parse(line);
    console.log(`| ${mode} | ${d} | ${o.seconds.toFixed(1)} | ${o.peakRssMiB.toFixed(0)} | ${o.wasmHeapMiB?.toFixed(0) ?? '-'} |`);
  }
}
