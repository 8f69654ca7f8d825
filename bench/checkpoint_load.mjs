// Issue 3's checkpoint benchmark: loading an 88 MB DINOv2 ViT-S/14 checkpoint (hub names, 518 px
// positional grid; generated here, not committed) into a ready model, as torch.save (.pth) and as
// safetensors, against torch.load + load_state_dict's copies on the same file (Debian
// python3-torch; skipped where absent). Targets: under 1 s, under 2x the file size in extra memory.
// MST_BENCH_REPEATS (default 3) sets the timed runs after one warm-up.
import { rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runJson, writeDinov2Checkpoints } from './cases/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repeats = process.env.MST_BENCH_REPEATS ?? '3';
const torchScript = join(here, '..', 'tools', 'reference', 'bench_checkpoint_torch.py');
const { dir, files } = writeDinov2Checkpoints(torchScript, 'mst-ckpt-bench-');

try {
  if (!files) process.exit(0);
  const { pth, st } = files;
  console.log(`${new Date().toISOString()}, node ${process.version}; file sizes: .pth ${(statSync(pth).size / 2 ** 20).toFixed(1)} MiB, .safetensors ${(statSync(st).size / 2 ** 20).toFixed(1)} MiB`);
  console.log('| file | mst-ts cold s | mst-ts warm median s | extra MiB, cold (x file) | into model | torch.load + copy median s | ratio (warm) |');
  console.log('|---|---|---|---|---|---|---|');
  const ref = runJson('/usr/bin/python3', [torchScript, 'load', pth, repeats]);
  for (const f of [pth, st]) {
    const ours = runJson(process.execPath, ['--expose-gc', join(here, 'cases', 'checkpoint_case.mjs'), f, repeats]);
    const size = statSync(f).size / 2 ** 20;
    const t = ours.times ? median(ours.times) : NaN;
    const p = ref.times ? median(ref.times) : NaN;
    const name = f.endsWith('.pth') ? '.pth (torch.save)' : '.safetensors';
    if (ours.error) {
      console.log(`| ${name} | error: ${ours.error} | | | | | |`);
      continue;
    }
    console.log(`| ${name} | ${ours.cold.toFixed(3)} | ${t.toFixed(3)} | ${ours.extraMiB.toFixed(0)} (${(ours.extraMiB / size).toFixed(2)}x) | ${ours.intoModel ? 'yes' : 'no (no DINOv2 in this build)'} | ${ref.error ? ref.error : p.toFixed(3)} | ${(t / p).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
