// Issue 19's pretraining benchmark: `mst-ts pretrain --task synthetic-all` with the quick recipe
// (QUICK_DINO_RECIPE: 200 unlabelled volumes per task, 1024 slices per epoch in steps of 32, the
// k-NN probe every epoch) for MST_BENCH_PRETRAIN_EPOCHS epochs (default 3; 40 is the whole recipe),
// in one process. Prints the CPU seconds of the data, of each epoch's training and probe, and the
// whole recipe's CPU time extrapolated from the mean epoch (its target: 20 minutes). CPU time is
// what a quiet machine would take on one wasm thread; wall time stretches with the machine's load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const epochs = Number(process.env.MST_BENCH_PRETRAIN_EPOCHS ?? '3');
const recipeEpochs = 40;
const out = mkdtempSync(join(tmpdir(), 'mst-pretrain-bench-'));
try {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(here, '..', 'dist', 'cli.js'), 'pretrain', '--task', 'synthetic-all', '--epochs', String(epochs), '--out', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.log(`mst-ts pretrain failed (${r.status}): ${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const summary = JSON.parse(r.stdout.trim().split('\n').pop());
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const trained = log.filter((h) => h.epoch > 0);
  const perEpoch = trained.reduce((a, h) => a + h.cpuSeconds, 0) / trained.length;
  const probe = log[0].cpuSeconds;
  const setup = summary.cpuSeconds - summary.trainingCpuSeconds - probe;
  console.log(`${new Date().toISOString()}, node ${process.version}, ${epochs} of the quick recipe's ${recipeEpochs} epochs; wall ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log('| part | CPU s |');
  console.log('|---|---|');
  console.log(`| data (600 volumes + 900 probe volumes generated, slices pooled) and start-up | ${setup.toFixed(1)} |`);
  console.log(`| k-NN probe of the random encoder (epoch 0) | ${probe.toFixed(1)} |`);
  console.log(`| one epoch (32 steps of 32 slices, 2 global + 4 local crops each, and the k-NN probe), mean of ${trained.length} | ${perEpoch.toFixed(1)} |`);
  console.log(`| the quick recipe, ${recipeEpochs} epochs (extrapolated) | ${(setup + probe + recipeEpochs * perEpoch).toFixed(0)} |`);
  console.log(`k-NN accuracy after ${epochs} epochs (random -> pretrained): ${Object.entries(summary.knn).map(([t, k]) => `${t} ${(100 * k.random).toFixed(1)}% -> ${(100 * k.pretrained).toFixed(1)}%`).join(', ')}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
