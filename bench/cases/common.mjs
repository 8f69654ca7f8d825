// Shared by the benchmark scripts: child-process results and medians.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a command and parses the last line of its stdout that starts with '{'; `{ error }` on failure. */
export function runJson(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    // The error line itself where there is one (a stack trace follows it), else the last lines.
    const lines = (r.stderr || r.error?.message || 'failed').trim().split('\n');
    return { error: lines.find((l) => /Error|abort/i.test(l)) ?? lines.slice(-3).join(' | ') };
  }
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return line ? JSON.parse(line) : { error: 'no result line' };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Writes an 88 MB DINOv2 ViT-S/14 checkpoint (hub names) as .pth and .safetensors into a new
 * temporary folder with Debian's PyTorch; null (after saying why) where PyTorch is missing.
 */
export function writeDinov2Checkpoints(torchScript, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pth = join(dir, 'dinov2_vits14.pth');
  const st = join(dir, 'dinov2_vits14.safetensors');
  const made = spawnSync('/usr/bin/python3', [torchScript, 'write', pth, st], { encoding: 'utf8' });
  if (made.status !== 0) {
    console.log(`PyTorch (Debian python3-torch) not found or failed: this benchmark needs it to write the checkpoint.\n${made.stderr ?? ''}`);
    return { dir, files: null };
  }
  return { dir, files: { pth, st } };
}
