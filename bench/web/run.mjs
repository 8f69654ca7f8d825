// The browser benchmark (`npm run bench:web`): MST-DINOv2-S on one 32 x 224 x 224 volume in
// headless Chromium (Debian's /usr/bin/chromium through playwright-core, no network), in the page:
// mst-ts on wasm (its kernels; the Web Worker pool; tfjs-wasm threads when cross-origin isolated),
// mst-ts on WebGL, and onnxruntime-web (wasm SIMD, 1 thread and with threads when isolated) on
// mst-ts's ONNX export of the same weights. Every engine gets a fresh browser (empty cache): cold
// is navigation start to the first prediction, warm each further one; peak memory is the peak RSS
// of the page's renderer process (JS heap, wasm memories and workers). Logits are checked against
// mst-ts in Node. The weights are MST-DINOv2-S's random initialisation (seed 0), written here.
// usage: npm run build && node bench/web/run.mjs [engine-filter]
//   MST_BENCH_REPEATS (default 2) warm predictions; MST_BENCH_WEB_TIMEOUT seconds per engine (900).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../cases/common.mjs';
import { SHAPE, benchVolume } from './volume.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const CHROMIUM = '/usr/bin/chromium';
const GFLOP = 392; // MST-DINOv2-S forward on 32 x 224 x 224
const WASM_LIMIT_PER_CORE = 55; // SIMD128 without FMA at 3.45 GHz: 16 FLOP/cycle
const repeats = Number(process.env.MST_BENCH_REPEATS ?? 2);
const timeoutS = Number(process.env.MST_BENCH_WEB_TIMEOUT ?? 900);
const filter = process.argv[2] ?? '';
const cores = cpus().length;

if (!existsSync(CHROMIUM)) {
  console.log(`${CHROMIUM} is absent (apt-get install chromium): nothing to run.`);
  process.exit(0);
}
const dist = join(root, process.env.MST_DIST ?? 'dist');
if (!existsSync(join(dist, 'index.js'))) throw new Error('bench:web needs the built package for the weights and the Node reference: npm run build first');
const { chromium } = await import('playwright-core');
const mst = await import(pathToFileURL(join(dist, 'index.js')).href);
const tf = await import('@tensorflow/tfjs');

// 1. The page, bundled from bench/web/*.ts with the library's sources.
const www = mkdtempSync(join(tmpdir(), 'mst-bench-web-'));
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    // The library imports node:* lazily inside functions the page never calls.
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, external: true }));
  },
};
await build({
  entryPoints: { page: join(here, 'page.ts'), encoder_worker: join(here, 'encoder_worker.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outdir: www,
  minify: true,
  logLevel: 'error',
  plugins: [nodeOnly],
});
copyFileSync(join(here, 'page.html'), join(www, 'index.html'));
const tfjsWasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
mkdirSync(join(www, 'tfjs-wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) copyFileSync(join(tfjsWasm, f), join(www, 'tfjs-wasm', f));
const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
mkdirSync(join(www, 'ort'));
for (const f of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs']) copyFileSync(join(ortDist, f), join(www, 'ort', f));

// 2. The weights (float32 and float16 safetensors, ONNX) and Node's logits for the same volume.
await mst.setBackend('wasm');
const model = mst.createModel('mst-dinov2-s', { numClasses: 2 }).eval();
await mst.saveSafetensors(model.stateDict(), join(www, 'mst.safetensors'));
await mst.saveSafetensors(model.stateDict(), join(www, 'mst.f16.safetensors'), undefined, { dtype: 'float16' });
await model.exportOnnx(join(www, 'mst.onnx'), { imageSize: [SHAPE[1], SHAPE[2]] });
const volume = tf.tensor3d(benchVolume(), SHAPE);
const nodeLogits = (await model.predict(volume)).logits;
const twoSlices = tf.slice(volume, [0, 0, 0], [2, -1, -1]);
const nodeLogits2 = (await model.predict(twoSlices)).logits;
tf.dispose([volume, twoSlices]);
model.dispose();
const mib = (f) => statSync(join(www, f)).size / 2 ** 20;

// 3. Two servers over the same files: a plain one, and one cross-origin isolated (COOP + COEP).
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
async function serve(isolated) {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname).replace(/\/$/, '/index.html');
    const file = join(www, normalize(rel));
    if (!file.startsWith(www) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
    if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    res.writeHead(200, headers);
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}
const plain = await serve(false);
const isolated = await serve(true);
const url = (server, query) => `http://127.0.0.1:${server.address().port}/index.html?${query}&repeats=${repeats}`;

// 4. Every engine in a fresh browser.
const QUIET = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'];
const CPU_ONLY = ['--disable-gpu'];
const SOFTWARE_GL = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const ENGINES = [
  { name: 'mst-ts wasm, 1 thread', server: plain, query: 'engine=mst-wasm', threads: 1 },
  { name: 'mst-ts wasm, float16 download, 1 thread', server: plain, query: 'engine=mst-wasm&weights=mst.f16.safetensors', threads: 1 },
  { name: `mst-ts wasm, ${cores} Web Workers`, server: plain, query: `engine=mst-wasm&workers=${cores}`, threads: cores },
  { name: `mst-ts wasm, isolated, tfjs-wasm ${cores} threads`, server: isolated, query: `engine=mst-wasm&threads=${cores}`, threads: cores },
  { name: 'onnxruntime-web wasm, 1 thread', server: plain, query: 'engine=ort-wasm&threads=1', threads: 1 },
  { name: `onnxruntime-web wasm, isolated, ${cores} threads`, server: isolated, query: `engine=ort-wasm&threads=${cores}`, threads: cores },
  // Software WebGL does not finish 32 slices in 15 minutes here: 2 slices, checked against Node's.
  { name: 'mst-ts WebGL (SwiftShader, software), 2 slices', server: plain, query: 'engine=mst-webgl&slices=2', threads: 1, slices: 2, flags: SOFTWARE_GL },
];

function peakRssMiB(pids) {
  let peak = 0;
  for (const pid of pids) {
    try {
      const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // the process has gone
    }
  }
  return peak;
}

async function runEngine(e) {
  // playwright gives every launch a new empty profile: nothing cached between engines.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...QUIET, ...(e.flags ?? CPU_ONLY)] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url(e.server, e.query));
    const cdp = await browser.newBrowserCDPSession();
    let renderers = [];
    const deadline = Date.now() + timeoutS * 1000;
    let result;
    // Poll, sampling the renderer processes (VmHWM is their own peak, so one late look suffices).
    while (!result) {
      if (Date.now() > deadline) return { error: `timed out after ${timeoutS} s` };
      await new Promise((r) => setTimeout(r, 1000));
      const info = await cdp.send('SystemInfo.getProcessInfo');
      renderers = [...new Set([...renderers, ...info.processInfo.filter((p) => p.type === 'renderer').map((p) => p.id)])];
      result = await page.evaluate(() => window.__bench);
      if (!result && errors.length) return { error: errors.join('; ') };
    }
    result.peakRssMiB = peakRssMiB(renderers);
    return result;
  } finally {
    await browser.close();
  }
}

console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cores}, ${CHROMIUM}, node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log(`weights: ${mib('mst.safetensors').toFixed(1)} MiB safetensors, ${mib('mst.f16.safetensors').toFixed(1)} MiB float16, ${mib('mst.onnx').toFixed(1)} MiB ONNX; ${repeats} warm runs; Node logits ${nodeLogits.map((v) => v.toFixed(5)).join(', ')}`);
console.log('| engine (headless Chromium) | cold s | warm median s | GFLOP/s (warm) | share of the wasm limit | peak renderer RSS MiB | max logit diff vs Node | notes |');
console.log('|---|---|---|---|---|---|---|---|');
const all = [];
try {
  for (const e of ENGINES.filter((x) => x.name.includes(filter) || x.query.includes(filter))) {
    const r = await runEngine(e);
    all.push({ name: e.name, ...r });
    if (r.error) {
      console.log(`| ${e.name} | error: ${r.error.split('\n')[0]} | | | | | | |`);
      continue;
    }
    const warm = median(r.warmMs) / 1000;
    const gflops = (GFLOP * (e.slices ?? 32)) / 32 / warm;
    const ref = e.slices === 2 ? nodeLogits2 : nodeLogits;
    const diff = Math.max(...r.logits.map((v, i) => Math.abs(v - ref[i])));
    const notes = Object.entries(r.info ?? {}).map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(1)) : v}`).join(', ');
    console.log(`| ${e.name} | ${(r.coldMs / 1000).toFixed(2)} | ${warm.toFixed(2)} | ${gflops.toFixed(1)} | ${((100 * gflops) / (WASM_LIMIT_PER_CORE * e.threads)).toFixed(0)}% of ${e.threads} x ${WASM_LIMIT_PER_CORE} | ${r.peakRssMiB.toFixed(0)} | ${diff.toExponential(1)} | ${notes} |`);
  }
} finally {
  plain.close();
  isolated.close();
  if (process.env.MST_BENCH_WEB_OUT) writeFileSync(process.env.MST_BENCH_WEB_OUT, JSON.stringify({ nodeLogits, engines: all }, null, 1));
  rmSync(www, { recursive: true, force: true });
}
