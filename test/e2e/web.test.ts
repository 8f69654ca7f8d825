/**
 * End-to-end test of examples/web: builds the page with Vite, serves dist/ on localhost and drives
 * it in Debian's Chromium (playwright-core, no network). The page's prediction must equal Node's
 * (the same pipeline module, on the wasm backend) to 1e-4, the saliency overlay must be drawn
 * where the saliency is high and vanish at opacity 0, bad files must show a readable error, and the
 * page's JavaScript must stay under 2 MB gzipped.
 *
 * Runs with MST_WEB=1 (`npm run test:web`) or MST_FULL=1 (`npm run test:full`). Without
 * /usr/bin/chromium it skips with a message, except under CI, where it fails (see needs in test/helpers).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { analyse, readModel, readScan, type Analysis, type AnalysisOptions, type PreprocessOptions } from '../../examples/web/src/pipeline';
import { EXPLAIN_METHODS } from '../../src/explain/methods';
import { normalizeSaliency } from '../../src/explain/overlay';
import { FULL, envFlag, fixturePath, needs } from '../helpers';
import { decodePng } from './png_pixels';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const WEB = path.join(ROOT, 'examples', 'web');
const DIST = path.join(WEB, 'dist');
const DEMO = path.join(WEB, 'public', 'demo');
const JS_LIMIT = 2 * 1024 * 1024;
const TOL = 1e-4;

const wanted = envFlag('MST_WEB') || FULL;
const suite = wanted && needs(fs.existsSync(CHROMIUM), CHROMIUM, 'apt-get install chromium') ? describe : describe.skip;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** A static server over dist/ on 127.0.0.1 (any free port). */
async function serve(dir: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rel = decodeURIComponent(url.pathname).replace(/\/$/, '/index.html');
    const file = path.join(dir, path.normalize(rel));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const bytesFile = (file: string, name = path.basename(file)) => {
  const b = fs.readFileSync(file);
  return { name, path: name, arrayBuffer: async () => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
};

const demoManifest = () => JSON.parse(fs.readFileSync(path.join(DEMO, 'demo.json'), 'utf8')) as { model: { files: string[]; preprocess: PreprocessOptions }; cases: { file: string }[] };

/** Node's analysis of scan files with the bundled demo model, through the page's own pipeline. */
async function nodeAnalysis(scanFiles: string[], options: AnalysisOptions): Promise<Analysis> {
  const model = await readModel(demoManifest().model.files.map((f) => bytesFile(path.join(DEMO, f))));
  try {
    return await analyse(model, await readScan(scanFiles.map((f) => bytesFile(f, path.relative(path.dirname(scanFiles[0]), f) || path.basename(f)))), options);
  } finally {
    model.dispose();
  }
}

interface PageResult {
  status: string;
  run: number;
  backend?: string;
  probabilities?: number[];
  logits?: number[];
  sliceAttention?: number[] | null;
  slice: number;
  error: string;
}

async function pageResult(page: Page): Promise<PageResult> {
  return page.evaluate(() => {
    const d = (document.getElementById('result') as HTMLElement).dataset;
    const json = (s: string | undefined) => (s === undefined ? undefined : JSON.parse(s));
    return {
      status: d.status ?? '',
      run: Number(d.run ?? 0),
      backend: d.backend,
      probabilities: json(d.probabilities),
      logits: json(d.logits),
      sliceAttention: json(d.sliceAttention),
      slice: Number(d.slice ?? -1),
      error: (document.getElementById('error') as HTMLElement).textContent ?? '',
    };
  });
}

/** Waits for the run after `afterRun` to finish (done or error) and returns what the page shows. */
async function settled(page: Page, afterRun: number): Promise<PageResult> {
  await page.waitForFunction(
    (after) => {
      const d = (document.getElementById('result') as HTMLElement).dataset;
      return Number(d.run ?? 0) > after && (d.status === 'done' || d.status === 'error');
    },
    afterRun,
    { timeout: 90_000 },
  );
  return pageResult(page);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function expectSame(page: PageResult, node: Analysis, what: string): void {
  expect(page.status).toBe('done');
  const diffs = [maxDiff(page.probabilities!, node.probabilities), maxDiff(page.logits!, node.logits), node.sliceAttention ? maxDiff(page.sliceAttention!, node.sliceAttention) : 0];
  console.log(`${what} on ${page.backend}: max |page - Node| probabilities ${diffs[0].toExponential(1)}, logits ${diffs[1].toExponential(1)}, slice attention ${diffs[2].toExponential(1)}`);
  expect(maxDiff(page.probabilities!, node.probabilities)).toBeLessThanOrEqual(TOL);
  expect(maxDiff(page.logits!, node.logits)).toBeLessThanOrEqual(TOL);
  if (node.sliceAttention) expect(maxDiff(page.sliceAttention!, node.sliceAttention)).toBeLessThanOrEqual(TOL);
}

/** How far a pixel is from grey: max channel minus min channel. */
function chroma(rgba: Uint8Array, i: number): number {
  const [r, g, b] = [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]];
  return Math.max(r, g, b) - Math.min(r, g, b);
}

suite('examples/web in headless Chromium', () => {
  let server: http.Server;
  let origin: string;
  let context: BrowserContext;
  const foreign: string[] = [];
  let tensorsBefore = 0;

  beforeAll(async () => {
    tensorsBefore = tf.memory().numTensors;
    const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const build = spawnSync(process.execPath, [vite, 'build', '--config', path.join(WEB, 'vite.config.ts'), '--logLevel', 'error'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`vite build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
    server = await serve(DIST);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-web-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 1400 },
      deviceScaleFactor: 1,
    });
    // Nothing may leave the machine: every request other than the page's own server is recorded and refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      foreign.push(url);
      return route.abort();
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  test('the page JavaScript (without model weights) is under 2 MB gzipped', () => {
    const files = filesUnder(DIST);
    const gz = (ext: string) => files.filter((f) => f.endsWith(ext)).reduce((s, f) => s + gzipSync(fs.readFileSync(f), { level: 9 }).length, 0);
    const js = gz('.js');
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    console.log(
      `web bundle: JavaScript ${(js / 1024).toFixed(0)} KiB gzipped; tfjs wasm binaries ${wasm.map((f) => `${path.basename(f)} ${(fs.statSync(f).size / 1024).toFixed(0)} KiB`).join(', ')} (${(gz('.wasm') / 1024).toFixed(0)} KiB gzipped)`,
    );
    expect(wasm.map((f) => path.basename(f)).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
    expect(js).toBeLessThan(JS_LIMIT);
    // Node-only modules stay out: at most Vite's empty browser stub stands in for them.
    for (const f of files.filter((x) => x.endsWith('.js'))) expect(fs.readFileSync(f, 'utf8')).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  test('bundled case: the prediction equals Node to 1e-4 and the saliency overlay is drawn where it is high', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    const shown = await settled(page, 0);
    const demo = demoManifest();
    const node = await nodeAnalysis([path.join(DEMO, demo.cases[0].file)], demo.model.preprocess);
    expect(shown.backend).toMatch(/^(webgpu|webgl|wasm)$/);
    expect(await page.locator('#backend').textContent()).toMatch(/WebGPU|WebGL|WebAssembly/);
    expectSame(shown, node, 'bundled case');

    // The page opens on the slice of the most salient voxel; the overlay colours the salient voxels there.
    const [D, H, W] = [16, 32, 32];
    expect(node.saliency.length).toBe(D * H * W);
    const s01 = normalizeSaliency(node.saliency, [0.995, 0.999]);
    const scale = Number(await page.locator('#view').getAttribute('data-scale'));
    const shot = async () => decodePng(await page.locator('#view').screenshot());
    const withOverlay = await shot();
    // A fractional layout position can add one row to the element's screenshot.
    expect(withOverlay.width).toBe(W * scale);
    expect(Math.abs(withOverlay.height - H * scale)).toBeLessThanOrEqual(1);
    const at = (h: number, w: number) => (h * scale + (scale >> 1)) * withOverlay.width + w * scale + (scale >> 1);
    let high = 0;
    let low = 0;
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const s = s01[(shown.slice * H + h) * W + w];
        if (s > 0.5) {
          high++;
          expect(chroma(withOverlay.rgba, at(h, w))).toBeGreaterThan(20);
        } else if (s < 0.01) {
          low++;
          expect(chroma(withOverlay.rgba, at(h, w))).toBeLessThanOrEqual(6);
        }
      }
    }
    expect(high).toBeGreaterThan(0);
    expect(low).toBeGreaterThan(0);

    // Opacity 0: the scan alone, every pixel grey.
    await page.locator('#opacity').evaluate((el: HTMLInputElement) => {
      el.value = '0';
      el.dispatchEvent(new Event('input'));
    });
    const plain = await shot();
    let coloured = 0;
    for (let i = 0; i < plain.width * plain.height; i++) if (chroma(plain.rgba, i) > 2) coloured++;
    expect(coloured).toBe(0);

    // The wheel moves through the slices.
    await page.locator('#view').hover();
    await page.mouse.wheel(0, shown.slice < D - 1 ? 120 : -120);
    await page.waitForFunction((s) => (document.getElementById('result') as HTMLElement).dataset.slice !== String(s), shown.slice);
    expect(Math.abs((await pageResult(page)).slice - shown.slice)).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  test('wasm backend: the bundled case, a NIfTI-2 file and a DICOM folder equal Node to 1e-4', async () => {
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=wasm`);
    let shown = await settled(page, 0);
    expect(shown.backend).toBe('wasm');
    const demo = demoManifest();
    expectSame(shown, await nodeAnalysis([path.join(DEMO, demo.cases[0].file)], demo.model.preprocess), 'bundled case');

    const zscore: PreprocessOptions = { intensity: 'zscore', fit: true };
    await page.selectOption('#intensity', 'zscore');
    shown = await settled(page, shown.run);
    const nifti = fixturePath('volumes', 'example_nifti2.nii.gz');
    await page.setInputFiles('#scan-file', nifti);
    shown = await settled(page, shown.run);
    expectSame(shown, await nodeAnalysis([nifti], zscore), 'example_nifti2.nii.gz');

    const folder = fixturePath('volumes', 'dicom_ct2');
    await page.setInputFiles('#scan-folder', folder);
    shown = await settled(page, shown.run);
    expectSame(shown, await nodeAnalysis(filesUnder(folder), zscore), 'DICOM folder dicom_ct2');

    // The method picker lists the library's names; a class-specific attribution equals Node's,
    // and a method that does not fit the model says so.
    expect(await page.locator('#method option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['', ...EXPLAIN_METHODS]);
    await page.selectOption('#method', 'transformer-attribution');
    shown = await settled(page, shown.run);
    expectSame(shown, await nodeAnalysis(filesUnder(folder), { ...zscore, method: 'transformer-attribution' }), 'transformer attribution');
    expect(await page.locator('#details').textContent()).toMatch(/explanation: transformer-attribution/);
    await page.selectOption('#method', 'scorecam');
    shown = await settled(page, shown.run);
    expect(shown.status).toBe('error');
    expect(shown.error).toMatch(/method 'scorecam' does not apply to this model, an MST with an attention encoder/);
    await page.close();
  }, 180_000);

  test('a corrupt model or scan shows a readable error, not a blank page', async () => {
    const page = await context.newPage();
    await page.goto(`${origin}/?backend=wasm`);
    let shown = await settled(page, 0);
    expect(shown.status).toBe('done');

    await page.setInputFiles('#model-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a checkpoint at all') });
    shown = await settled(page, shown.run);
    expect(shown.status).toBe('error');
    expect(shown.error).toMatch(/^Could not load the model: .*broken\.safetensors|^Could not load the model: .*(checkpoint|safetensors)/);
    await page.click('#model-demo');
    shown = await settled(page, shown.run);
    expect(shown.status).toBe('done');

    const gzipGarbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 0xab)]);
    await page.setInputFiles('#scan-file', { name: 'corrupt.nii.gz', mimeType: 'application/gzip', buffer: gzipGarbage });
    shown = await settled(page, shown.run);
    expect(shown.status).toBe('error');
    expect(shown.error).toMatch(/^Could not read the scan: corrupt\.nii\.gz: /);
    expect(await page.locator('#error').isVisible()).toBe(true);
    expect(await page.locator('h1').isVisible()).toBe(true);
    await page.close();
    expect(foreign).toEqual([]);
  }, 180_000);

  test('no tensors are left behind by the Node side of the comparison', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
