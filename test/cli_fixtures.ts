import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliCommand } from '../src/cli/command';
import { runCli } from '../src/cli/main';
import { encodeNifti } from '../src/io/nifti';

/** What one `mst-ts` invocation printed and its exit status. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mst-ts <argv>` in-process as the binary does (`runCli`: one error line, exit status 1 or
 * 2), capturing what the command writes to the process's streams as well.
 */
export async function cli(argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * Runs one command's `run(args)` directly (errors thrown, not turned into exit statuses),
 * capturing what it writes to the process's stdout and stderr.
 */
export async function runCommand(command: CliCommand, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    return { code: await command.run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * Trains the smallest model bundle `mst-ts train` makes (mst-dinov2-tiny, one epoch, a few
 * synthetic chest cases of 4x32x32 cropped to 4x16x16: its preprocessing resamples and crops) into
 * `dir`; returns the path of its `model.safetensors`.
 */
export async function trainTinyBundle(dir: string): Promise<string> {
  const args = ['train', '--task', 'synthetic-chest', '--epochs', '1', '--size', '4x32x32', '--crop', '4x16x16', '--n-train', '4', '--n-val', '4', '--n-test', '4'];
  const r = await cli([...args, '--batch-size', '4', '--replicates', '10', '--out', dir, '--json']);
  if (r.code !== 0) throw new Error(`trainTinyBundle: mst-ts train failed: ${r.stderr}`);
  return path.join(dir, 'model.safetensors');
}

/**
 * Writes a NIfTI scan `[4, 32, 32]` on the synthetic chest task's grid (16 x 5 x 5 mm, axial, in
 * mst-ts's canonical orientation, so a train bundle's preprocessing only crops it) with a bright
 * blob off centre; `value(d, h, w)` overrides the voxels.
 */
export function writeChestScan(file: string, value?: (d: number, h: number, w: number) => number): void {
  const data = new Float32Array(4 * 32 * 32);
  for (let d = 0; d < 4; d++) {
    for (let h = 0; h < 32; h++) {
      for (let w = 0; w < 32; w++) {
        data[(d * 32 + h) * 32 + w] = value ? value(d, h, w) : -800 + 1400 * Math.exp(-((d - 2) ** 2 + (h - 14) ** 2 / 9 + (w - 18) ** 2 / 9)) + 30 * Math.sin(h * 7 + w * 3 + d);
      }
    }
  }
  const affine = [[0, 0, -5, 0], [0, -5, 0, 0], [16, 0, 0, 0], [0, 0, 0, 1]];
  fs.writeFileSync(file, encodeNifti({ data, shape: [4, 32, 32], affine }));
}
