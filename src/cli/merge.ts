import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { writeFileAtomic } from '../io/files';
import type { CaseRecord } from './cohort_case';
import type { CohortSummary } from './cohort';
import { parseCommandArgs } from './args';
import { UsageError, type CliCommand } from './command';

const USAGE = `Usage: mst-ts merge <results dir or case .json>... [--out merged.csv]

Joins the per-case results of mst-ts predict --manifest (one folder, or the folders of the shards
of a job array; e.g. mst-ts merge results/*) into one CSV, ready for mst-ts stats:

  mst-ts merge results/shard-* --out merged.csv && mst-ts stats --csv merged.csv

Arguments are result folders (their <stem>.json files are read; _summary*.json are the runs'
summaries) or case .json files; other files (saliency volumes) are skipped. A case id found in two
different files is an error.

Options:
  --out <file>     write the CSV there (atomically); default: standard output
  -h, --help       this text

Columns, one row per case in manifest order:
  id               the case id
  GT               the manifest's label (when the cases have one)
  prediction       the predicted class (argmax of the probabilities)
  NN_pred          the probability of class 1, the positive class (two-class models)
  prob_0, prob_1.. every class's probability
  shard            k/n of the run that predicted the case (empty when not sharded)
GT and NN_pred are mst-ts stats' default --label and --score columns.
A note on standard error gives the cases merged, and those of the cohort that are missing (failed,
or in shards not run yet).`;

interface Loaded {
  record: CaseRecord;
  file: string;
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`merge: cannot read '${file}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`merge: '${file}' is not JSON: ${(e as Error).message}`);
  }
}

function checkRecord(x: unknown, file: string): CaseRecord {
  const r = x as Partial<CaseRecord> | null;
  const probs = r?.probabilities;
  if (!r || typeof r.id !== 'string' || !Array.isArray(probs) || probs.length === 0 || !probs.every((p) => typeof p === 'number')) {
    throw new Error(`merge: '${file}' is not a case result of mst-ts predict (expected "id" and "probabilities")`);
  }
  return r as CaseRecord;
}

/** The case and summary files named by the arguments (folders are listed, one level). */
async function collectFiles(inputs: string[]): Promise<{ cases: string[]; summaries: string[]; skipped: number }> {
  const cases: string[] = [];
  const summaries: string[] = [];
  let skipped = 0;
  const seen = new Set<string>();
  const add = async (file: string): Promise<void> => {
    const real = await fs.realpath(file);
    if (seen.has(real)) return;
    seen.add(real);
    const base = nodePath.basename(file);
    if (/^_summary.*\.json$/.test(base)) summaries.push(file);
    else if (base.endsWith('.json')) cases.push(file);
    else skipped++;
  };
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      throw new Error(`merge: no such file or folder '${input}'`);
    }
    if (stat.isDirectory()) {
      const names = (await fs.readdir(input)).sort();
      for (const name of names) if (name.endsWith('.json')) await add(nodePath.join(input, name));
    } else {
      await add(input);
    }
  }
  return { cases, summaries, skipped };
}

/**
 * Merges case records into CSV text (see the command's usage for the columns).
 *
 * @example
 * const csv = mergeRecords(records); // 'id,GT,prediction,NN_pred,prob_0,prob_1,shard\n...'
 */
export function mergeRecords(records: readonly CaseRecord[]): string {
  const k = records.length > 0 ? records[0].probabilities.length : 2;
  const bad = records.find((r) => r.probabilities.length !== k);
  if (bad) throw new Error(`merge: case '${bad.id}' has ${bad.probabilities.length} class probabilities, case '${records[0].id}' ${k}: results of different models`);
  const sorted = [...records].sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const withLabel = records.some((r) => r.label !== undefined);
  const header = ['id', ...(withLabel ? ['GT'] : []), 'prediction', ...(k === 2 ? ['NN_pred'] : []), ...Array.from({ length: k }, (_, c) => `prob_${c}`), 'shard'];
  const lines = [header.join(',')];
  for (const r of sorted) {
    const p = r.probabilities;
    const prediction = r.prediction ?? p.indexOf(Math.max(...p));
    lines.push(
      [csvField(r.id), ...(withLabel ? [r.label === undefined ? '' : String(r.label)] : []), String(prediction), ...(k === 2 ? [String(p[1])] : []), ...p.map(String), r.shard ?? ''].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `'; nothing from shard 1/3'` for shards of a job array never seen, or ''. */
function missingShards(labels: string[]): string {
  const seen = new Set(labels);
  const missing: string[] = [];
  for (const n of new Set(labels.map((l) => Number(l.split('/')[1])))) {
    for (let k = 0; k < n; k++) if (!seen.has(`${k}/${n}`)) missing.push(`${k}/${n}`);
  }
  return missing.length ? `; nothing from shard ${missing.join(', ')}` : '';
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('merge', USAGE, { args: argv, options: { out: { type: 'string' } }, allowPositionals: true });
  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError(`merge: name at least one results folder or case file\n\n${USAGE}`);
  const { cases, summaries, skipped } = await collectFiles(inputs);
  const byId = new Map<string, Loaded>();
  for (const file of cases) {
    const record = checkRecord(await readJson(file), file);
    const other = byId.get(record.id);
    if (other) throw new Error(`merge: case '${record.id}' is in both '${other.file}' and '${file}'`);
    byId.set(record.id, { record, file });
  }
  if (byId.size === 0) throw new Error(`merge: no case results in ${inputs.join(', ')}`);
  const records = [...byId.values()].map((l) => l.record);
  const csv = mergeRecords(records);
  const out = parsed.values.out;
  if (out) await writeFileAtomic(out, csv);
  else process.stdout.write(csv);

  const cohort = Math.max(...records.map((r) => r.cohortSize ?? 0));
  const shardLabels = records.map((r) => r.shard);
  let failed = 0;
  for (const file of summaries) {
    const s = (await readJson(file)) as Partial<CohortSummary>;
    failed += s.failed?.length ?? 0;
    shardLabels.push(s.shard);
  }
  const shards = [...new Set(shardLabels.filter((s): s is string => s !== undefined))].sort();
  const notes = [
    `merged ${records.length} cases from ${cases.length} files${shards.length ? ` (shards ${shards.join(', ')}${missingShards(shards)})` : ''}${out ? ` into ${out}` : ''}`,
    cohort > records.length ? `${cohort - records.length} of the cohort's ${cohort} cases are missing (failed, or in shards not run yet)` : '',
    failed > 0 ? `the runs' summaries list ${failed} failed case(s)` : '',
    skipped > 0 ? `skipped ${skipped} file(s) that are not .json` : '',
  ].filter(Boolean);
  process.stderr.write(`${notes.join('; ')}\n`);
  return 0;
}

/** `mst-ts merge`: the shards of a cohort prediction as one CSV for `mst-ts stats`. */
export const mergeCommand: CliCommand = {
  name: 'merge',
  summary: 'join the results of mst-ts predict --manifest (shard folders or case files) into one CSV for mst-ts stats',
  usage: USAGE,
  run,
};
