/**
 * `npm run fuzz`: a fuzzing campaign over every reader, as long as asked.
 *
 *   npm run fuzz -- --duration 3600 --targets nifti,dicom --seed 7 --time-ms 20000 --memory-mib 1536
 *
 * Minimised failures are saved under test/fixtures/fuzz/cases/ (`npm test` replays them); the
 * differential oracle (nibabel, pydicom, NumPy, torch) runs where Debian's python3 has them
 * (`--no-oracle` turns it off), and Debian's nibabel and pydicom test files join the seeds.
 */
import * as path from 'node:path';
import { ALL_TARGETS, runCampaign } from './campaign';
import { makeSeeds } from './make_seeds';
import { Oracle } from './oracle';
import { ROOT } from './pool';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function main(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log('npm run fuzz -- [--duration SECONDS (600)] [--targets a,b] [--seed N] [--time-ms 20000] [--memory-mib 1536] [--no-oracle] [--no-save] [--make-seeds]');
    console.log(`targets: ${ALL_TARGETS.join(', ')}`);
    return 0;
  }
  if (args.includes('--make-seeds')) {
    await makeSeeds(ROOT);
    console.log('seeds written to test/fixtures/fuzz/seeds/');
    return 0;
  }
  const durationMs = 1000 * Number(flag(args, 'duration') ?? 600);
  const targets = (flag(args, 'targets') ?? ALL_TARGETS.join(',')).split(',');
  const unknown = targets.filter((t) => !ALL_TARGETS.includes(t));
  if (unknown.length) throw new Error(`unknown fuzz target(s) ${unknown.join(', ')}; expected some of ${ALL_TARGETS.join(', ')}`);
  const seed = Number(flag(args, 'seed') ?? Math.floor(Math.random() * 2 ** 31));
  const budget = { timeMs: Number(flag(args, 'time-ms') ?? 20000), memoryMiB: Number(flag(args, 'memory-mib') ?? 1536) };
  const { oracle, reason } = args.includes('--no-oracle') ? { oracle: null, reason: '--no-oracle' } : Oracle.open();
  console.log(`fuzzing ${targets.join(', ')} for ${durationMs / 1000} s, seed ${seed}, ${budget.timeMs} ms and ${budget.memoryMiB} MiB per input, oracle ${oracle ? 'on' : `off (${reason})`}`);
  const saveDir = args.includes('--no-save') ? null : path.join(ROOT, 'test', 'fixtures', 'fuzz', 'cases');
  const result = await runCampaign({ targets, durationMs, seed, budget, systemSeeds: true, oracle, saveDir, log: (l) => console.log(l) });
  oracle?.close();
  for (const n of result.notes.values()) console.log(`note: ${n}`);
  for (const d of result.disagreements.values()) console.log(`differs: ${d}`);
  const real = result.findings.filter((f) => !f.pending);
  const pending = result.findings.filter((f) => f.pending);
  console.log(`${real.length} failure(s), ${pending.length} in targets pending config validation, ${result.notes.size} error(s) not naming the file`);
  return real.length ? 1 : 0;
}
