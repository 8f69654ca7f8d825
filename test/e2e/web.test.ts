/**
 * End-to-end test of examples/web: builds the page with Vite, serves dist/ on localhost and drives
 * it in Debian's Chromium (playwright-core, no network). The page's prediction must equal Node's
 * (the same pipeline module, on the wasm backend) to 1e-4; NiiVue must hold the scan and Node's
 * saliency as its overlay, drawn in the colour map's colours where the saliency is high (read from
 * a screenshot) and not at all at opacity 0; the slice-attention chart and the viewer's slice must
 * follow each other; a scan dropped on the viewer is analysed; bad files must show a readable
 * error; and the page's JavaScript must stay under 2 MB gzipped.
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

interface ViewerState {
  shape: [number, number, number];
  scan: number[];
  overlay: number[];
  /** The crosshair's voxel `[d, h, w]`, as the page reports it. */
  voxel: [number, number, number];
  /** NiiVue's own values at the crosshair (its RAS voxel), of the scan and of the overlay. */
  scanAtCrosshair: number;
  overlayAtCrosshair: number;
  /** The slice the page shows in its slider, and the highlighted bar of the chart. */
  slice: number;
  /** NiiVue's reorientation of the scan to RAS. */
  permRAS: number[];
  bar: number;
}

/** What NiiVue holds and shows once the viewer of run `run` is ready. */
async function viewerShown(page: Page, run: number): Promise<ViewerState> {
  await page.waitForFunction((r) => ['error', String(r)].includes((document.getElementById('result') as HTMLElement).dataset.viewer ?? ''), run, { timeout: 60_000 });
  expect(await page.evaluate(() => (document.getElementById('result') as HTMLElement).dataset.viewer)).toBe(String(run));
  return viewerState(page);
}

async function viewerState(page: Page): Promise<ViewerState> {
  return page.evaluate(() => {
    type Img = { img: ArrayLike<number>; hdr: { dims: number[] }; permRAS: number[]; getValue(x: number, y: number, z: number): number };
    const v = (window as unknown as { mstViewer: { nv: { volumes: Img[]; scene: { crosshairPos: number[] }; frac2vox(f: number[]): number[] }; voxel: [number, number, number] } }).mstViewer;
    const nv = v.nv;
    const [base, overlay] = nv.volumes;
    const ras = nv.frac2vox(nv.scene.crosshairPos);
    const ds = (document.getElementById('result') as HTMLElement).dataset;
    return {
      shape: [base.hdr.dims[3], base.hdr.dims[2], base.hdr.dims[1]] as [number, number, number],
      scan: Array.from(base.img),
      overlay: Array.from(overlay.img),
      voxel: v.voxel,
      scanAtCrosshair: base.getValue(ras[0], ras[1], ras[2]),
      overlayAtCrosshair: overlay.getValue(ras[0], ras[1], ras[2]),
      slice: Number(ds.slice),
      permRAS: Array.from(base.permRAS),
      bar: Number(document.getElementById('attention')!.dataset.current),
    };
  });
}

/**
 * The chart and the viewer follow each other: the bar of the slice shown is highlighted, a click
 * on a bar moves the viewer to (the middle of) the scan slices that became that input slice, and
 * the slider moves both.
 */
async function expectLinkedChart(page: Page, node: Analysis, voxel: [number, number, number]): Promise<void> {
  const map = await page.evaluate(() => JSON.parse((document.getElementById('result') as HTMLElement).dataset.inputSliceOfScan!) as number[]);
  expect(map).toEqual(node.inputSliceOfScan);
  let state = await viewerState(page);
  expect(state.slice).toBe(voxel[0]);
  expect(state.bar).toBe(map[voxel[0]]);
  const bars = node.sliceAttention!.length;
  for (const k of [0, bars - 1, Math.floor(bars / 2)]) {
    // The scan slices that became input slice k, else those nearest to it.
    const gap = Math.min(...map.filter((x) => x >= 0).map((x) => Math.abs(x - k)));
    const slices = map.flatMap((x, d) => (x >= 0 && Math.abs(x - k) === gap ? [d] : []));
    const d = gap === 0 ? slices[Math.floor((slices.length - 1) / 2)] : slices[0];
    await page.locator(`#attention rect.bar[data-index="${k}"]`).click({ force: true });
    await page.waitForFunction((dd) => (document.getElementById('result') as HTMLElement).dataset.slice === String(dd), d);
    state = await viewerState(page);
    expect(state.voxel).toEqual([d, voxel[1], voxel[2]]);
    expect(state.bar).toBe(map[d]);
    if (gap === 0) expect(state.bar).toBe(k);
    expect(await page.locator('#attention rect.bar.current').getAttribute('data-index')).toBe(String(map[d]));
  }
  const d = map.length - 1 - state.voxel[0];
  await page.locator('#slice').evaluate((el: HTMLInputElement, dd) => {
    el.value = String(dd);
    el.dispatchEvent(new Event('input'));
  }, d);
  await page.waitForFunction((dd) => (document.getElementById('result') as HTMLElement).dataset.slice === String(dd), d);
  state = await viewerState(page);
  expect(state.voxel[0]).toBe(d);
  expect(state.bar).toBe(map[d]);
}

/** Drops files on the element `selector` as a drag from the desktop would. */
async function dropFiles(page: Page, selector: string, files: string[]): Promise<void> {
  const payload = files.map((f) => ({ name: path.basename(f), base64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate(
    ({ sel, items }) => {
      const data = new DataTransfer();
      for (const f of items) data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
      document.querySelector(sel)!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    },
    { sel: selector, items: payload },
  );
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

  test('bundled case: the prediction equals Node to 1e-4; NiiVue shows the scan with Node\'s saliency as overlay, linked both ways to the slice-attention chart', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    const shown = await settled(page, 0);
    const demo = demoManifest();
    const caseFile = path.join(DEMO, demo.cases[0].file);
    const node = await nodeAnalysis([caseFile], demo.model.preprocess);
    expect(shown.backend).toMatch(/^(webgpu|webgl|wasm)$/);
    expect(await page.locator('#backend').textContent()).toMatch(/WebGPU|WebGL|WebAssembly/);
    expectSame(shown, node, 'bundled case');

    // The viewer holds the scan and, as its overlay, the saliency on the scan's grid.
    const view = await viewerShown(page, shown.run);
    const scan = await readScan([bytesFile(caseFile)]);
    expect(view.shape).toEqual(scan.shape);
    expect(maxDiff(view.scan, scan.data)).toBe(0);
    const top = Math.max(...node.saliency);
    const overlayDiff = maxDiff(view.overlay, node.saliency);
    console.log(`bundled case on ${shown.backend}: viewer overlay max |page - Node saliency| ${overlayDiff.toExponential(1)} (saliency max ${top.toExponential(2)})`);
    expect(overlayDiff).toBeLessThanOrEqual(TOL * top);
    // It opens on the most salient voxel; NiiVue's own value there is the overlay's at that voxel.
    const [D, H, W] = view.shape;
    const at = ([d, h, w]: number[]) => (d * H + h) * W + w;
    let best = 0;
    for (let i = 1; i < view.overlay.length; i++) if (view.overlay[i] > view.overlay[best]) best = i;
    expect(at(view.voxel)).toBe(best);
    expect(view.overlayAtCrosshair).toBe(view.overlay[best]);
    expect(view.scanAtCrosshair).toBe(scan.data[best]);

    await expectLinkedChart(page, node, view.voxel);

    // The screen, the scan's slice plane alone: the overlay's colours where the saliency is above
    // the overlay's range, grey where it is below the threshold.
    await page.selectOption('#layout', 'slice');
    // The wheel over the slice moves NiiVue one slice; the slider and the chart follow.
    const box = (await page.locator('#view').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const before = (await viewerState(page)).voxel[0];
    await page.mouse.wheel(0, before < D - 1 ? -120 : 120);
    await page.waitForFunction((s0) => (document.getElementById('result') as HTMLElement).dataset.slice !== String(s0), before);
    const wheeled = await viewerState(page);
    expect(Math.abs(wheeled.voxel[0] - before)).toBe(1);
    expect(wheeled.slice).toBe(wheeled.voxel[0]);
    expect(wheeled.bar).toBe(node.inputSliceOfScan[wheeled.voxel[0]]);

    // Back to the most salient voxel, the crosshair hidden so that every voxel of the slice is in sight.
    await page.evaluate((v) => (window as unknown as { mstViewer: { goToVoxel(v: number[]): void } }).mstViewer.goToVoxel(v), view.voxel);
    await page.evaluate(() => (window as unknown as { mstViewer: { nv: { setCrosshairWidth(w: number): void } } }).mstViewer.nv.setCrosshairWidth(0));
    const d = view.voxel[0];
    const pixels = await page.evaluate(
      ([d0, H0, W0]) => {
        const v = (window as unknown as { mstViewer: { pixelOf(v: number[]): number[] | null } }).mstViewer;
        return Array.from({ length: H0 * W0 }, (_, i) => v.pixelOf([d0, Math.floor(i / W0), i % W0]));
      },
      [d, H, W],
    );
    const { low, high } = await page.evaluate(() => {
      const ds = (document.getElementById('result') as HTMLElement).dataset;
      return { low: Number(ds.overlayLow), high: Number(ds.overlayHigh) };
    });
    expect(high).toBeGreaterThan(low);
    const shot = async () => decodePng(await page.locator('#view').screenshot());
    const withOverlay = await shot();
    if (process.env.MST_WEB_SHOTS) fs.writeFileSync(path.join(process.env.MST_WEB_SHOTS, 'overlay.png'), await page.locator('#view').screenshot());
    const inPlane = (i: number) => {
      const [h, w] = [Math.floor(i / W), i % W];
      return [-1, 0, 1].flatMap((dh) => [-1, 0, 1].map((dw) => [h + dh, w + dw])).filter(([y, x]) => y >= 0 && y < H && x >= 0 && x < W).map(([y, x]) => y * W + x);
    };
    let hot = 0;
    let cold = 0;
    for (let i = 0; i < H * W; i++) {
      const p = pixels[i];
      expect(p).not.toBeNull();
      const px = Math.round(p![1]) * withOverlay.width + Math.round(p![0]);
      const s = view.overlay[d * H * W + i];
      const [r, , b] = withOverlay.rgba.subarray(px * 4, px * 4 + 3);
      if (s >= low + 0.5 * (high - low)) {
        hot++;
        // The warm colour map: red above blue.
        expect(chroma(withOverlay.rgba, px)).toBeGreaterThan(20);
        expect(r).toBeGreaterThan(b);
      } else if (inPlane(i).every((j) => view.overlay[d * H * W + j] < low)) {
        // Below the threshold with all its neighbours (the overlay is drawn interpolated).
        cold++;
        expect(chroma(withOverlay.rgba, px)).toBeLessThanOrEqual(6);
      }
    }
    console.log(`screenshot of slice ${d + 1}: ${hot} voxels coloured, ${cold} grey as the saliency says`);
    expect(hot).toBeGreaterThan(0);
    expect(cold).toBeGreaterThan(0);

    // The controls restyle NiiVue's overlay: colour map, threshold (the range's lower end) and opacity.
    await page.selectOption('#colormap', 'jet');
    await page.locator('#threshold').evaluate((el: HTMLInputElement) => {
      el.value = '50';
      el.dispatchEvent(new Event('input'));
    });
    const styled = await page.evaluate(() => {
      const o = (window as unknown as { mstViewer: { nv: { volumes: { colormap: string; cal_min: number; cal_max: number; opacity: number }[] } } }).mstViewer.nv.volumes[1];
      return { colormap: o.colormap, low: o.cal_min, high: o.cal_max, opacity: o.opacity };
    });
    expect(styled).toEqual({ colormap: 'jet', low: low + 0.5 * (high - low), high, opacity: 0.5 });

    // Opacity 0, the three planes and the 3D render: the scan alone, every pixel grey.
    await page.selectOption('#layout', 'multiplanar');
    await page.locator('#opacity').evaluate((el: HTMLInputElement) => {
      el.value = '0';
      el.dispatchEvent(new Event('input'));
    });
    await page.waitForTimeout(200);
    const plain = await shot();
    if (process.env.MST_WEB_SHOTS) fs.writeFileSync(path.join(process.env.MST_WEB_SHOTS, 'multiplanar_opacity0.png'), await page.locator('#view').screenshot());
    let coloured = 0;
    for (let i = 0; i < plain.width * plain.height; i++) if (chroma(plain.rgba, i) > 2) coloured++;
    expect(coloured).toBe(0);
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

    // Evenly spaced (dicom_ct2's uneven gaps are refused by default); its files named against the slice order.
    const folder = fixturePath('dicom', 'ct');
    await page.setInputFiles('#scan-folder', folder);
    shown = await settled(page, shown.run);
    const dicomNode = await nodeAnalysis(filesUnder(folder), zscore);
    expectSame(shown, dicomNode, 'DICOM folder ct');
    // A DICOM series is stored LPS: NiiVue reorients it to RAS, the page's voxels stay the scan's.
    let view = await viewerShown(page, shown.run);
    expect(maxDiff(view.overlay, dicomNode.saliency)).toBeLessThanOrEqual(TOL * Math.max(...dicomNode.saliency));
    expect(view.permRAS).not.toEqual([1, 2, 3]);
    const [, H, W] = view.shape;
    const at = ([d, h, w]: number[]) => (d * H + h) * W + w;
    expect(view.overlayAtCrosshair).toBe(view.overlay[at(view.voxel)]);
    expect(view.scanAtCrosshair).toBe(view.scan[at(view.voxel)]);
    if (dicomNode.sliceAttention) await expectLinkedChart(page, dicomNode, view.voxel);
    view = await viewerState(page);
    expect(view.overlayAtCrosshair).toBe(view.overlay[at(view.voxel)]);

    // A NIfTI file and the DICOM folder's files dropped on the viewer are analysed and shown.
    await dropFiles(page, '#view-box', [nifti]);
    shown = await settled(page, shown.run);
    expectSame(shown, await nodeAnalysis([nifti], zscore), 'example_nifti2.nii.gz dropped on the viewer');
    expect((await viewerShown(page, shown.run)).scan).toEqual(Array.from((await readScan([bytesFile(nifti)])).data));
    await dropFiles(page, '#view-box', filesUnder(folder));
    shown = await settled(page, shown.run);
    expectSame(shown, dicomNode, 'DICOM files dropped on the viewer');
    expect(maxDiff((await viewerShown(page, shown.run)).overlay, dicomNode.saliency)).toBeLessThanOrEqual(TOL * Math.max(...dicomNode.saliency));

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
