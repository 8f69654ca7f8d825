// Benchmark of mst-ts/stats against R (pROC, boot, stats), side by side (run `npm run build` first):
//   node bench/stats.mjs [--n 1000000] [--boot-n 1000] [--replicates 1000] [--repeats 5] [--module dist/stats/index.js] [--no-r]
// Targets: every statistic on n = 10^6 cases under 1 s (AUC + paired DeLong, partial AUC,
// coordinates, four-model DeLong with the chi-square test, the BCa jackknife, one Venkatraman
// permutation, power from pilot data, calibration, decision curve); bootstrap loops of 1000
// replicates on n = 1000 under 0.5 s. Where `Rscript` with pROC and boot is installed, the same
// computations run in R on the same data and the ratio R / mst-ts is printed (R's Venkatraman
// statistic is O(n^2), so R runs it on the bootstrap-sized data); otherwise R is skipped with a
// message.
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
    'no-r': { type: 'boolean', default: false },
  },
});
const statsPath = path.resolve(values.module);
if (!fs.existsSync(statsPath)) {
  console.error(`bench/stats.mjs: ${statsPath} not found; run \`npm run build\` first`);
  process.exit(1);
}
const S = await import(statsPath);
const N = Number(values.n);
const BOOT_N = Number(values['boot-n']);
const REPLICATES = Number(values.replicates);
const REPEATS = Number(values.repeats);

/** Deterministic data: prevalence 0.3, four correlated scores rounded to 1e-4 (ties), probabilities. */
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
  const scores = [0, 1, 2, 3].map(() => new Float64Array(n));
  const shifts = [0.8, 0.5, 0.7, 0.6];
  const prob = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l = next() < 0.3 ? 1 : 0;
    const common = next() + next();
    labels[i] = l;
    for (let j = 0; j < 4; j++) scores[j][i] = Math.round((common + next() + shifts[j] * l) * 1e4) / 1e4;
    prob[i] = Math.round((1 / (1 + Math.exp(-3 * (scores[0][i] - 1.75)))) * 1e6) / 1e6;
  }
  return { labels, s1: scores[0], s2: scores[1], s3: scores[2], s4: scores[3], prob };
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
const checks = {};
// [key, label, size, function]; the R script below has the same keys.
const cases = [
  ['delong', 'AUC + paired DeLong', N, () => {
    const t = S.delongTest(big.labels, big.s1, big.s2);
    checks.delong = { auc: S.auc(big.labels, big.s1), z: t.z, p: t.p };
  }],
  ['partial', 'partial AUC (sp 0.8-1, McClish)', N, () => {
    checks.partial = S.partialAuc(big.labels, big.s1, { range: [0.8, 1], correct: true });
  }],
  ['coords', 'sensitivity at specificity 0.9', N, () => {
    checks.coords = S.sensitivityAtSpecificity(big.labels, big.s1, 0.9);
  }],
  ['multi', 'four models: all pairs (Holm, BH) + chi-square', N, () => {
    const r = S.delongMulti(big.labels, [big.s1, big.s2, big.s3, big.s4]);
    checks.multi = { chi2: r.global.chi2, pHolm01: r.pairwise[0].pHolm };
  }],
  ['bca', 'BCa acceleration (jackknife of the AUC)', N, () => {
    const b = S.bootstrapAuc(small.labels, small.s1, { replicates: 10, seed: 0 });
    checks.bca = S.bootstrapInterval(b.estimate, b.replicates, { type: 'bca', influence: S.aucJackknifeInfluence(big.labels, big.s1) })[0];
  }],
  ['venkatraman', 'Venkatraman paired: E + 1 permutation', N, () => {
    checks.venkatraman = S.venkatramanTest(big.labels, big.s1, big.s2, { permutations: 1, seed: 0 }).statistic;
  }],
  ['power', 'power of two AUCs from pilot data (DeLong)', N, () => {
    checks.power = S.powerRocTestPaired(big.labels, big.s1, big.s2).power;
  }],
  ['calibration', 'calibration (ECE, Brier, slope, intercept)', N, () => {
    const c = S.calibration(big.labels, big.prob);
    checks.calibration = { ece: c.ece, slope: c.slope, intercept: c.intercept };
  }],
  ['decision', 'decision curve (99 thresholds)', N, () => {
    checks.decision = S.decisionCurve(big.labels, big.prob).netBenefit[19];
  }],
  ['boot', `${REPLICATES} bootstrap AUC replicates`, BOOT_N, () => {
    checks.boot = S.bootstrapAuc(small.labels, small.s1, { replicates: REPLICATES, seed: 0 }).std;
  }],
  ['bootBca', `${REPLICATES} bootstrap replicates + BCa interval`, BOOT_N, () => {
    checks.bootBca = S.bootstrapAuc(small.labels, small.s1, { replicates: REPLICATES, seed: 0, ciType: 'bca' }).ci;
  }],
  ['bootPartial', `${REPLICATES} bootstrap partial AUC replicates`, BOOT_N, () => {
    checks.bootPartial = S.bootstrapPartialAuc(small.labels, small.s1, { range: [0.8, 1] }, { replicates: REPLICATES, seed: 0 }).ci;
  }],
  ['ciSe', `${REPLICATES} bootstrap replicates of se at sp 0.9`, BOOT_N, () => {
    checks.ciSe = S.ciSensitivity(small.labels, small.s1, [0.9], { replicates: REPLICATES, seed: 0 }).ci[0];
  }],
  ['venkatramanSmall', `Venkatraman paired, ${REPLICATES} permutations`, BOOT_N, () => {
    checks.venkatramanSmall = S.venkatramanTest(small.labels, small.s1, small.s2, { permutations: REPLICATES, seed: 0 }).p;
  }],
];

console.log(`node ${process.version}, ${os.cpus()[0].model} x${os.cpus().length}, load average ${os.loadavg()[0].toFixed(1)}`);
const ours = {};
for (const [key, label, size, fn] of cases) {
  ours[key] = time(fn, size === N ? REPEATS : Math.max(REPEATS, 3));
  const target = size === N ? 1000 : 500;
  console.log(`mst-ts: ${label}, n = ${size}: ${ours[key].wall.toFixed(1)} ms wall, ${ours[key].cpu.toFixed(1)} ms CPU (target < ${target} ms)`);
}
const f32 = new Float32Array(big.s1);
ours.float32 = time(() => {
  checks.float32 = S.auc(big.labels, f32);
}, REPEATS);
console.log(`mst-ts: AUC of float32 scores, n = ${N}: ${ours.float32.wall.toFixed(1)} ms wall (counts and sums in float64)`);
console.log(`        checks ${JSON.stringify(checks)}`);

const hasR = !values['no-r'] && spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages({library(pROC); library(boot)})'], { stdio: 'ignore' }).status === 0;
if (!hasR) {
  console.log('R: skipped (Rscript with pROC and boot is not installed; on Debian: apt-get install r-cran-proc r-cran-boot)');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-bench-'));
const writeCsv = (file, d) => {
  const lines = ['label,s1,s2,s3,s4,prob'];
  for (let i = 0; i < d.labels.length; i++) lines.push(`${d.labels[i]},${d.s1[i]},${d.s2[i]},${d.s3[i]},${d.s4[i]},${d.prob[i]}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
};
writeCsv(path.join(dir, 'big.csv'), big);
writeCsv(path.join(dir, 'small.csv'), small);
const rScript = `
suppressPackageStartupMessages({ library(pROC); library(boot) })
args <- commandArgs(trailingOnly = TRUE)
big <- read.csv(file.path(args[1], "big.csv"))
small <- read.csv(file.path(args[1], "small.csv"))
reps <- as.integer(args[2]); boot_n <- as.integer(args[3])
med <- function(f, k) {
  w <- numeric(k); c <- numeric(k)
  for (i in 1:k) { s <- system.time(f()); w[i] <- s[["elapsed"]]; c[i] <- s[["user.self"]] + s[["sys.self"]] }
  c(median(w), median(c)) * 1000
}
mk <- function(d, col) roc(d$label, d[[col]], levels = c(0, 1), direction = "<", quiet = TRUE)
out <- list()
out$delong <- med(function() roc.test(mk(big, "s1"), mk(big, "s2"), method = "delong", paired = TRUE), reps)
# Each R timing starts from the raw columns, as mst-ts does (roc() is where pROC sorts).
out$partial <- med(function() auc(mk(big, "s1"), partial.auc = c(1, 0.8), partial.auc.correct = TRUE), reps)
out$coords <- med(function() coords(mk(big, "s1"), 0.9, input = "specificity", ret = "sensitivity"), reps)
out$multi <- med(function() {
  rs <- lapply(c("s1", "s2", "s3", "s4"), function(c) mk(big, c))
  S <- matrix(0, 4, 4); p <- c()
  for (a in 1:4) for (b in 1:4) S[a, b] <- if (a == b) var(rs[[a]]) else suppressMessages(cov(rs[[a]], rs[[b]]))
  for (a in 1:3) for (b in (a + 1):4) p <- c(p, roc.test(rs[[a]], rs[[b]], method = "delong", paired = TRUE)$p.value)
  L <- cbind(diag(3), 0) - cbind(0, diag(3)); th <- sapply(rs, function(r) as.numeric(r$auc))
  list(p.adjust(p, "holm"), p.adjust(p, "BH"), t(L %*% th) %*% solve(L %*% S %*% t(L)) %*% (L %*% th))
}, reps)
out$bca <- med(function() { v <- pROC:::delongPlacements(mk(big, "s1")); L <- c(v$X, v$Y) - v$theta; sum(L^3) / (6 * sum(L^2)^1.5) }, reps)
out$power <- med(function() power.roc.test(mk(big, "s1"), mk(big, "s2")), reps)
out$calibration <- med(function() {
  q <- pmin(pmax(big$prob, 1e-15), 1 - 1e-15); lp <- log(q / (1 - q))
  glm(big$label ~ lp, family = binomial); glm(big$label ~ offset(lp), family = binomial)
  b <- cut(big$prob, seq(0, 1, 0.1), include.lowest = TRUE)
  sum(tapply(big$prob, b, length) / nrow(big) * abs(tapply(big$label, b, mean) - tapply(big$prob, b, mean)), na.rm = TRUE)
  mean((big$label - big$prob)^2)
}, reps)
out$decision <- med(function() sapply(1:99 / 100, function(t) { tr <- big$prob >= t; sum(tr & big$label == 1) / nrow(big) - sum(tr & big$label == 0) / nrow(big) * t / (1 - t) }), reps)
rs <- mk(small, "s1"); rs2 <- mk(small, "s2")
set.seed(0)
out$boot <- med(function() ci.auc(rs, method = "bootstrap", boot.n = boot_n), max(reps, 3))
aucf <- function(d, i) { y <- d$label[i]; s <- d$s1[i]; m <- sum(y); n <- length(y) - m; (sum(rank(s)[y == 1]) - m * (m + 1) / 2) / (m * n) }
out$bootBca <- med(function() { b <- boot(small, aucf, R = boot_n, strata = small$label); boot.ci(b, type = "bca") }, max(reps, 3))
rp <- rs; rp$auc <- auc(rs, partial.auc = c(1, 0.8))
out$bootPartial <- med(function() ci.auc(rp, method = "bootstrap", boot.n = boot_n), max(reps, 3))
out$ciSe <- med(function() ci.se(rs, specificities = 0.9, boot.n = boot_n), max(reps, 3))
out$venkatramanSmall <- med(function() roc.test(rs, rs2, method = "venkatraman", boot.n = boot_n), 1)
for (k in names(out)) cat(k, sprintf("%.3f", out[[k]]), "\\n")
`;
fs.writeFileSync(path.join(dir, 'bench.R'), rScript);
const rOut = execFileSync('Rscript', [path.join(dir, 'bench.R'), dir, String(Math.min(REPEATS, 3)), String(REPLICATES)], { encoding: 'utf8', maxBuffer: 1 << 24 });
fs.rmSync(dir, { recursive: true, force: true });
const rTimes = Object.fromEntries(
  rOut
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .map(([k, w, c]) => [k, { wall: Number(w), cpu: Number(c) }]),
);
const ratio = (r, o) => `${(r.wall / o.wall).toFixed(1)}x wall, ${(r.cpu / o.cpu).toFixed(1)}x CPU`;
for (const [key, label, size] of cases) {
  const r = rTimes[key];
  if (!r) {
    console.log(`R:      ${label}: not timed (R's implementation is O(n^2) at n = ${size})`);
    continue;
  }
  console.log(`R:      ${label}, n = ${size}: ${r.wall.toFixed(1)} ms wall, ${r.cpu.toFixed(1)} ms CPU -> R / mst-ts = ${ratio(r, ours[key])}`);
}
