// Issue 3's "ready model" benchmark through the one-call API: fromPretrained on an 88 MB DINOv2
// ViT-S/14 checkpoint (hub names, 518 px grid; written here by tools/reference/bench_checkpoint_torch.py
// into os.tmpdir(), not committed), as .pth and as safetensors, against torch.load + load_state_dict's
// copies (Debian python3-torch; skipped where absent). Targets: under 1 s, under 2x the file in
// extra memory. fromPretrained's time includes building the model (architecture inferred from the
// tensors); the build alone is reported too. MST_BENCH_REPEATS (default 3) sets the warm runs.
import { rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runJson, writeDinov2Checkpoints } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repeats = process.env.MST_BENCH_REPEATS ?? '3';
const torchScript = join(here, '..', 'tools', 'reference', 'bench_checkpoint_torch.py');
const { dir, files } = writeDinov2Checkpoints(torchScript, 'mst-from-pretrained-bench-');

try {
  if (!files) process.exit(0);
  const { pth, st } = files;
  console.log(`${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; .pth ${(statSync(pth).size / 2 ** 20).toFixed(1)} MiB, .safetensors ${(statSync(st).size / 2 ** 20).toFixed(1)} MiB`);
  const ref = runJson('/usr/bin/python3', [torchScript, 'load', pth, repeats]);
  const p = ref.times ? median(ref.times) : NaN;
  console.log('| file | fromPretrained cold s | warm median s | build with random init s (not in fromPretrained) | extra RSS MiB, cold (x file) | external MiB | torch.load + copy median s | ratio (warm) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const f of [pth, st]) {
    const ours = runJson(process.execPath, ['--expose-gc', join(here, 'cases', 'from_pretrained_case.mjs'), f, repeats]);
    const size = statSync(f).size / 2 ** 20;
    const name = f.endsWith('.pth') ? '.pth (torch.save)' : '.safetensors';
    if (ours.error) {
      console.log(`| ${name} | error: ${ours.error} | | | | | | |`);
      continue;
    }
    const t = median(ours.times);
    console.log(`| ${name} | ${ours.cold.toFixed(3)} | ${t.toFixed(3)} | ${ours.buildSeconds.toFixed(3)} | ${ours.extraMiB.toFixed(0)} (${(ours.extraMiB / size).toFixed(2)}x) | ${ours.externalMiB.toFixed(0)} | ${ref.error ? ref.error : p.toFixed(3)} | ${(t / p).toFixed(2)} |`);
    if (f === pth) console.log(`<!-- ${ours.arch}, backend ${ours.backend} -->`);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
