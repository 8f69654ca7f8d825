// Benchmark of mst-ts/stats against R's pROC, side by side (run `npm run build` first):
//   node bench/stats.mjs [--n 1000000] [--boot-n 1000] [--replicates 1000] [--repeats 5] [--module dist/stats/index.js]
// Targets: AUC + paired DeLong test on n = 10^6 under 1 s; 1000 bootstrap replicates of the AUC on
// n = 1000 under 0.5 s. Where `Rscript` with pROC is installed, the same computations run in R on
// the same data and the ratio pROC / mst-ts is printed; otherwise R is skipped with a message.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { median } from './cases/common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    module: { type: 'string', default: path.join(root, 'dist', 'stats', 'index.js') },
    n: { type: 'string', default: '1000000' },
    'boot-n': { type: 'string', default: '1000' },
    replicates: { type: 'string', default: '1000' },
    repeats: { type: 'string', default: '5' },
  },
});
const statsPath = path.resolve(values.module);
if (!fs.existsSync(statsPath)) {
  console.error(`bench/stats.mjs: ${statsPath} not found; run \`npm run build\` first`);
  process.exit(1);
}
const { auc, delongTest, bootstrapAuc } = await import(statsPath);
const N = Number(values.n);
const BOOT_N = Number(values['boot-n']);
const REPLICATES = Number(values.replicates);
const REPEATS = Number(values.repeats);

/** Deterministic data: labels with prevalence 0.3 and two correlated scores rounded to 1e-4 (ties). */
function makeData(n, seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const labels = new Uint8Array(n);
  const s1 = new Float64Array(n);
  const s2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l = next() < 0.3 ? 1 : 0;
    const common = next() + next();
    labels[i] = l;
    s1[i] = Math.round((common + next() + 0.8 * l) * 1e4) / 1e4;
    s2[i] = Math.round((common + next() + 0.5 * l) * 1e4) / 1e4;
  }
  return { labels, s1, s2 };
}

/** Median wall and CPU milliseconds after one warm-up call (CPU time is less sensitive to a busy machine). */
function time(fn, repeats) {
  fn(); // warm-up (JIT)
  const wall = [];
  const cpu = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const big = makeData(N, 1);
const small = makeData(BOOT_N, 2);
let check = {};
const delongMs = time(() => {
  const a = auc(big.labels, big.s1);
  const t = delongTest(big.labels, big.s1, big.s2);
  check = { auc: a, auc2: t.auc2, z: t.z, p: t.p };
}, REPEATS);
let bootStd = 0;
const bootMs = time(() => {
  bootStd = bootstrapAuc(small.labels, small.s1, { replicates: REPLICATES, seed: 0 }).std;
}, Math.max(REPEATS, 10));

console.log(`node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, load average ${os.loadavg()[0].toFixed(1)}`);
console.log(`mst-ts: AUC + paired DeLong, n = ${N}: ${delongMs.wall.toFixed(1)} ms wall, ${delongMs.cpu.toFixed(1)} ms CPU (medians of ${REPEATS}; target < 1000 ms)`);
console.log(`        auc ${check.auc}, auc2 ${check.auc2}, z ${check.z}, p ${check.p}`);
console.log(`mst-ts: ${REPLICATES} bootstrap replicates, n = ${BOOT_N}: ${bootMs.wall.toFixed(1)} ms wall, ${bootMs.cpu.toFixed(1)} ms CPU (medians; target < 500 ms), std ${bootStd}`);

const hasR = spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages(library(pROC))'], { stdio: 'ignore' }).status === 0;
if (!hasR) {
  console.log('pROC: skipped (Rscript with the pROC package is not installed; on Debian: apt-get install r-cran-proc)');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-bench-'));
const writeCsv = (file, d) => {
  const lines = ['label,s1,s2'];
  for (let i = 0; i < d.labels.length; i++) lines.push(`${d.labels[i]},${d.s1[i]},${d.s2[i]}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
};
writeCsv(path.join(dir, 'big.csv'), big);
writeCsv(path.join(dir, 'small.csv'), small);
const rScript = `
suppressPackageStartupMessages(library(pROC))
args <- commandArgs(trailingOnly = TRUE)
big <- read.csv(file.path(args[1], "big.csv"))
small <- read.csv(file.path(args[1], "small.csv"))
reps <- as.integer(args[2]); boot_n <- as.integer(args[3])
med <- function(f, k) {
  w <- numeric(k); c <- numeric(k)
  for (i in 1:k) { s <- system.time(f()); w[i] <- s[["elapsed"]]; c[i] <- s[["user.self"]] + s[["sys.self"]] }
  c(median(w), median(c)) * 1000
}
res <- NULL
d_ms <- med(function() {
  r1 <- roc(big$label, big$s1, levels = c(0, 1), direction = "<", quiet = TRUE)
  r2 <- roc(big$label, big$s2, levels = c(0, 1), direction = "<", quiet = TRUE)
  res <<- roc.test(r1, r2, method = "delong", paired = TRUE)
}, reps)
rs <- roc(small$label, small$s1, levels = c(0, 1), direction = "<", quiet = TRUE)
set.seed(0)
b_ms <- med(function() ci.auc(rs, method = "bootstrap", boot.n = boot_n), max(reps, 3))
cat(sprintf("%.3f %.3f %.3f %.3f %.17g %.17g\\n", d_ms[1], d_ms[2], b_ms[1], b_ms[2], res$statistic, res$p.value))
`;
fs.writeFileSync(path.join(dir, 'bench.R'), rScript);
const out = execFileSync('Rscript', [path.join(dir, 'bench.R'), dir, String(Math.min(REPEATS, 3)), String(REPLICATES)], { encoding: 'utf8' });
fs.rmSync(dir, { recursive: true, force: true });
const [rDelongWall, rDelongCpu, rBootWall, rBootCpu, rz, rp] = out.trim().split(/\s+/).map(Number);
const ratio = (r, ours) => `${(r.wall / ours.wall).toFixed(1)}x wall, ${(r.cpu / ours.cpu).toFixed(1)}x CPU`;
console.log(
  `pROC:   roc x2 + roc.test(delong), n = ${N}: ${rDelongWall.toFixed(1)} ms wall, ${rDelongCpu.toFixed(1)} ms CPU -> pROC / mst-ts = ${ratio({ wall: rDelongWall, cpu: rDelongCpu }, delongMs)}`,
);
console.log(`        z ${rz} (|diff| ${Math.abs(rz - check.z).toExponential(1)}), p ${rp}`);
console.log(
  `pROC:   ci.auc(bootstrap, boot.n = ${REPLICATES}), n = ${BOOT_N}: ${rBootWall.toFixed(1)} ms wall, ${rBootCpu.toFixed(1)} ms CPU -> pROC / mst-ts = ${ratio({ wall: rBootWall, cpu: rBootCpu }, bootMs)}`,
);
