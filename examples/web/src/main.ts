/**
 * The page: picks a scan and a model (dropped, chosen, or the bundled demo), hands them to the
 * worker, and shows the prediction, the slice attention and the saliency over the scan in NiiVue
 * (loaded with the first result). The numbers the page shows are also in `#result`'s data
 * attributes, at full precision, for tests and scripts; `window.mstViewer` is the viewer.
 */
import { percentile } from '../../../src/data/transforms/intensity';
import { EXPLAIN_METHODS, type ExplainMethod } from '../../../src/explain/methods';
import { AttentionChart } from './attention_chart';
import type { FileRef, ScanView, WorkerReply, WorkerRequest } from './messages';
import type { Analysis, AnalysisOptions, IntensityPreset, PreprocessOptions } from './pipeline';
import type { OverlayStyle, ScanViewer, ViewerLayout } from './viewer';

/** `demo/demo.json`: the bundled model and cases. */
interface DemoManifest {
  model: { title: string; files: string[]; classNames: string[]; preprocess: PreprocessOptions };
  cases: { title: string; file: string; label: number }[];
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
};

const ui = {
  backend: $<HTMLElement>('backend'),
  caseSelect: $<HTMLSelectElement>('case'),
  scanFile: $<HTMLInputElement>('scan-file'),
  scanFolder: $<HTMLInputElement>('scan-folder'),
  scanDrop: $<HTMLElement>('scan-drop'),
  scanName: $<HTMLElement>('scan-name'),
  modelFile: $<HTMLInputElement>('model-file'),
  modelDemo: $<HTMLButtonElement>('model-demo'),
  modelDrop: $<HTMLElement>('model-drop'),
  modelName: $<HTMLElement>('model-name'),
  intensity: $<HTMLSelectElement>('intensity'),
  fit: $<HTMLInputElement>('fit'),
  method: $<HTMLSelectElement>('method'),
  progress: $<HTMLProgressElement>('progress'),
  stage: $<HTMLElement>('stage'),
  error: $<HTMLElement>('error'),
  result: $<HTMLElement>('result'),
  prediction: $<HTMLElement>('prediction'),
  probabilities: $<HTMLElement>('probabilities'),
  details: $<HTMLElement>('details'),
  view: $<HTMLCanvasElement>('view'),
  viewBox: $<HTMLElement>('view-box'),
  viewMessage: $<HTMLElement>('view-message'),
  slice: $<HTMLInputElement>('slice'),
  sliceLabel: $<HTMLElement>('slice-label'),
  layout: $<HTMLSelectElement>('layout'),
  colormap: $<HTMLSelectElement>('colormap'),
  threshold: $<HTMLInputElement>('threshold'),
  thresholdLabel: $<HTMLElement>('threshold-label'),
  opacity: $<HTMLInputElement>('opacity'),
  opacityLabel: $<HTMLElement>('opacity-label'),
  saliencyScale: $<HTMLSelectElement>('saliency-scale'),
  attention: document.getElementById('attention') as unknown as SVGSVGElement,
};

const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const base = new URL(import.meta.env.BASE_URL, location.href);

let demo: DemoManifest | null = null;
let scanRefs: FileRef[] | null = null;
let modelRefs: FileRef[] | null = null;
let classNames: string[] = [];
let runId = 0;
let shown: { analysis: Analysis; scan: ScanView } | null = null;
let viewer: Promise<ScanViewer> | null = null;
const chart = new AttentionChart(ui.attention, (k) => {
  if (shown) goToSlice(scanSliceOfBar(shown.analysis.inputSliceOfScan, k));
});

/**
 * The scan slice shown for input slice `k`: the middle one of the scan slices that became it, or,
 * where none did (a scan with fewer slices than the input), the first of those nearest to it.
 */
function scanSliceOfBar(inputSliceOfScan: number[], k: number): number {
  const exact = inputSliceOfScan.flatMap((x, d) => (x === k ? [d] : []));
  if (exact.length) return exact[Math.floor((exact.length - 1) / 2)];
  let best = -1;
  inputSliceOfScan.forEach((x, d) => {
    if (x >= 0 && (best < 0 || Math.abs(x - k) < Math.abs(inputSliceOfScan[best] - k))) best = d;
  });
  return best;
}

function showError(message: string | null): void {
  ui.error.hidden = message === null;
  ui.error.textContent = message ?? '';
  if (message !== null) ui.result.dataset.error = message;
}

function setStatus(status: 'idle' | 'running' | 'done' | 'error'): void {
  ui.result.dataset.status = status;
  ui.progress.hidden = status !== 'running';
}

// The same names as the library's methods and `mst-ts explain --method`; ?method= preselects one.
for (const m of EXPLAIN_METHODS) ui.method.append(new Option(m, m));
if (EXPLAIN_METHODS.includes(params.get('method') as ExplainMethod)) ui.method.value = params.get('method') as string;

function options(): AnalysisOptions {
  const method = ui.method.value as ExplainMethod | '';
  return { intensity: ui.intensity.value as IntensityPreset, fit: ui.fit.checked, ...(method ? { method } : {}) };
}

function analyseNow(): void {
  if (!scanRefs || !modelRefs) return;
  runId += 1;
  ui.result.dataset.run = String(runId);
  showError(null);
  setStatus('running');
  ui.progress.value = 0;
  ui.stage.textContent = 'starting';
  const msg: WorkerRequest = { type: 'run', id: runId, scan: scanRefs, model: modelRefs, options: options() };
  worker.postMessage(msg);
}

const STAGE_WHAT: Record<string, string> = {
  'starting the backend': 'Could not start a compute backend',
  'reading the scan': 'Could not read the scan',
  'loading the model': 'Could not load the model',
};

worker.onmessage = (e: MessageEvent<WorkerReply>) => {
  const msg = e.data;
  if (msg.type === 'backend') {
    ui.backend.textContent = msg.name === 'webgl' ? 'WebGL' : msg.name === 'webgpu' ? 'WebGPU' : msg.name === 'wasm' ? 'WebAssembly (wasm)' : msg.name;
    ui.backend.title = `tried: ${msg.tried.join(', ')}`;
    ui.result.dataset.backend = msg.name;
    return;
  }
  if (msg.id !== runId && msg.id !== -1) return;
  if (msg.type === 'progress') {
    ui.progress.value = msg.fraction;
    ui.stage.textContent = `${msg.stage}...`;
  } else if (msg.type === 'error') {
    setStatus('error');
    ui.stage.textContent = '';
    ui.prediction.textContent = '-';
    for (const key of ['probabilities', 'logits', 'predictedClass', 'sliceAttention']) delete ui.result.dataset[key];
    showError(`${STAGE_WHAT[msg.stage] ?? `Failed while ${msg.stage}`}: ${msg.message}`);
  } else if (msg.type === 'result') {
    ui.stage.textContent = `done in ${msg.seconds.toFixed(2)} s`;
    show(msg.analysis, msg.scan, msg.modelName);
    setStatus('done');
  }
};

worker.onerror = (e) => {
  setStatus('error');
  showError(`The analysis worker failed: ${e.message || 'it could not start (see the browser console)'}`);
};

function className(k: number): string {
  return classNames[k] ?? `class ${k}`;
}

function show(analysis: Analysis, scan: ScanView, modelName: string): void {
  shown = { analysis, scan };
  const k = analysis.predictedClass;
  ui.prediction.textContent = `${className(k)} (probability ${analysis.probabilities[k].toFixed(3)})`;
  ui.probabilities.replaceChildren(
    ...analysis.probabilities.map((p, i) => {
      const li = document.createElement('li');
      li.textContent = `${className(i)}: ${p.toFixed(4)}`;
      return li;
    }),
  );
  const [D, H, W] = scan.shape;
  ui.details.textContent =
    `${scan.source} (${scan.format}, ${D} x ${H} x ${W}, ${scan.orientation}, spacing ${scan.spacing.map((s) => s.toFixed(2)).join(' x ')} mm); ` +
    `model ${modelName}, input ${analysis.inputShape.join(' x ')}, explanation: ${analysis.method}`;
  Object.assign(ui.result.dataset, {
    probabilities: JSON.stringify(analysis.probabilities),
    logits: JSON.stringify(analysis.logits),
    predictedClass: String(k),
    sliceAttention: JSON.stringify(analysis.sliceAttention),
    scanShape: JSON.stringify(scan.shape),
    inputShape: JSON.stringify(analysis.inputShape),
    method: analysis.method,
    inputSliceOfScan: JSON.stringify(analysis.inputSliceOfScan),
  });
  ui.slice.max = String(D - 1);
  chart.show(analysis.sliceAttention);
  const plane = { S: 'axial', I: 'axial', A: 'coronal', P: 'coronal', L: 'sagittal', R: 'sagittal' }[scan.orientation[0]] ?? 'slice';
  (ui.layout.options[1] as HTMLOptionElement).textContent = `the slice plane alone (${plane})`;
  void showInViewer(analysis, scan);
}

/** The viewer, started on the first result (NiiVue is loaded then, not with the page). */
function viewerNow(): Promise<ScanViewer> {
  if (!viewer) {
    viewer = import('./viewer').then(async ({ ScanViewer: Viewer, OVERLAY_COLORMAPS }) => {
      ui.colormap.replaceChildren(...OVERLAY_COLORMAPS.map((c) => new Option(c, c)));
      const v = await Viewer.create(ui.view, sliceShown);
      (window as unknown as { mstViewer: ScanViewer }).mstViewer = v;
      return v;
    });
  }
  return viewer;
}

async function showInViewer(analysis: Analysis, scan: ScanView): Promise<void> {
  const run = runId;
  try {
    const v = await viewerNow();
    if (run !== runId) return;
    ui.viewMessage.hidden = true;
    await v.show({ data: scan.data, shape: scan.shape, affine: scan.affine }, analysis.saliency, overlayStyle());
    v.setLayout(ui.layout.value as ViewerLayout);
    v.goToVoxel(mostSalientVoxel(analysis.saliency, scan.shape));
    ui.result.dataset.viewer = String(run);
  } catch (err) {
    ui.viewMessage.hidden = false;
    ui.viewMessage.textContent = `The 3D viewer could not start: ${(err as Error).message} (it needs WebGL2). The prediction and the slice attention above are unaffected.`;
    ui.result.dataset.viewer = 'error';
  }
}

/** The overlay's colour map, range and opacity from the controls and the saliency's scale. */
function overlayStyle(): OverlayStyle {
  const saliency = shown?.analysis.saliency ?? new Float32Array(1);
  const paper = ui.saliencyScale.value === 'paper';
  ui.result.dataset.saliencyScale = ui.saliencyScale.value;
  let [min, max] = [Infinity, -Infinity];
  for (const v of saliency) [min, max] = [Math.min(min, v), Math.max(max, v)];
  let [lo, hi] = paper ? [percentile(saliency, 99.5), percentile(saliency, 99.9)] : [min, max];
  if (!(hi > lo)) [lo, hi] = [min, max];
  const t = Number(ui.threshold.value) / 100;
  const opacity = Number(ui.opacity.value) / 100;
  ui.thresholdLabel.textContent = `${Math.round(t * 100)}%`;
  ui.opacityLabel.textContent = `${Math.round(opacity * 100)}%`;
  const style = { colormap: ui.colormap.value || 'warm', low: lo + t * (hi - lo), high: hi, opacity };
  Object.assign(ui.result.dataset, { opacity: String(opacity), overlayLow: String(style.low), overlayHigh: String(style.high), colormap: style.colormap });
  return style;
}

/** The voxel `[d, h, w]` of the largest saliency. */
function mostSalientVoxel(saliency: Float32Array, [, H, W]: [number, number, number]): [number, number, number] {
  let best = 0;
  for (let i = 1; i < saliency.length; i++) if (saliency[i] > saliency[best]) best = i;
  return [Math.floor(best / (H * W)), Math.floor(best / W) % H, best % W];
}

/** Called by the viewer when its crosshair reaches another slice: the slider, label and bar follow. */
function sliceShown(d: number): void {
  if (!shown) return;
  const D = shown.scan.shape[0];
  ui.slice.value = String(d);
  ui.sliceLabel.textContent = `${d + 1} / ${D}`;
  ui.result.dataset.slice = String(d);
  chart.highlight(shown.analysis.inputSliceOfScan[d] ?? -1);
}

function goToSlice(d: number): void {
  if (!viewer || d < 0) return;
  void viewer.then((v) => v.goToSlice(d));
}

function restyle(): void {
  if (!viewer || !shown) return;
  const style = overlayStyle();
  void viewer.then((v) => v.setOverlay(style));
}

ui.slice.addEventListener('input', () => goToSlice(Number(ui.slice.value)));
ui.layout.addEventListener('change', () => void viewer?.then((v) => v.setLayout(ui.layout.value as ViewerLayout)));
for (const el of [ui.threshold, ui.opacity]) el.addEventListener('input', restyle);
for (const el of [ui.colormap, ui.saliencyScale]) el.addEventListener('change', restyle);

// ---- choosing the scan and the model ----

function refsOfFiles(files: ArrayLike<File>, pathOf: (f: File) => string = (f) => f.webkitRelativePath || f.name): FileRef[] {
  return Array.from(files, (file) => ({ name: pathOf(file), file }));
}

function setScan(refs: FileRef[], label: string): void {
  scanRefs = refs;
  ui.scanName.textContent = label;
  analyseNow();
}

function setModel(refs: FileRef[], label: string, names: string[] = []): void {
  modelRefs = refs;
  classNames = names;
  ui.modelName.textContent = label;
  analyseNow();
}

function demoCase(index: number): void {
  if (!demo) return;
  const c = demo.cases[index];
  setScan([{ name: c.file, url: new URL(`demo/${c.file}`, base).href }], `${c.title} (bundled)`);
}

function demoModel(): void {
  if (!demo) return;
  const m = demo.model;
  ui.intensity.value = m.preprocess.intensity;
  ui.fit.checked = m.preprocess.fit;
  setModel(
    m.files.map((f) => ({ name: f, url: new URL(`demo/${f}`, base).href })),
    `${m.title} (bundled)`,
    m.classNames,
  );
}

function describe(files: FileRef[]): string {
  return files.length === 1 ? files[0].name : `${files.length} files (${files[0].name}, ...)`;
}

ui.caseSelect.addEventListener('change', () => demoCase(Number(ui.caseSelect.value)));
ui.scanFile.addEventListener('change', () => {
  if (ui.scanFile.files?.length) {
    const refs = refsOfFiles(ui.scanFile.files);
    setScan(refs, describe(refs));
  }
});
ui.scanFolder.addEventListener('change', () => {
  if (ui.scanFolder.files?.length) {
    const refs = refsOfFiles(ui.scanFolder.files);
    setScan(refs, describe(refs));
  }
});
ui.modelFile.addEventListener('change', () => {
  if (ui.modelFile.files?.length) {
    const refs = refsOfFiles(ui.modelFile.files);
    setModel(refs, describe(refs));
  }
});
ui.modelDemo.addEventListener('click', demoModel);
ui.intensity.addEventListener('change', analyseNow);
ui.fit.addEventListener('change', analyseNow);
ui.method.addEventListener('change', analyseNow);

/** Every file of a drop, folders walked recursively, each named by its path in the drop. */
async function droppedFiles(data: DataTransfer): Promise<FileRef[]> {
  const entries = Array.from(data.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return refsOfFiles(data.files);
  const out: FileRef[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ name: entry.fullPath.replace(/^\//, ''), file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns the folder in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

function dropZone(zone: HTMLElement, onFiles: (refs: FileRef[]) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!e.dataTransfer) return;
    droppedFiles(e.dataTransfer)
      .then((refs) => {
        if (refs.length === 0) throw new Error('the drop held no files');
        onFiles(refs);
      })
      .catch((err: Error) => {
        setStatus('error');
        showError(`Could not read the dropped files: ${err.message}`);
      });
  });
}

dropZone(ui.scanDrop, (refs) => setScan(refs, describe(refs)));
dropZone(ui.modelDrop, (refs) => setModel(refs, describe(refs)));
dropZone(ui.viewBox, (refs) => setScan(refs, describe(refs)));
// A file dropped elsewhere would make the browser navigate away from the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

async function start(): Promise<void> {
  setStatus('idle');
  const init: WorkerRequest = { type: 'init', wasmBase: new URL('tfjs-wasm/', base).href, backend: params.get('backend') };
  worker.postMessage(init);
  const res = await fetch(new URL('demo/demo.json', base));
  if (!res.ok) throw new Error(`demo/demo.json: HTTP ${res.status}`);
  demo = (await res.json()) as DemoManifest;
  ui.caseSelect.replaceChildren(
    ...demo.cases.map((c, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = c.title;
      return o;
    }),
  );
  if (params.get('demo') !== 'off') {
    demoCase(0);
    demoModel();
  }
}

start().catch((err: Error) => {
  setStatus('error');
  showError(`Could not load the bundled demo: ${err.message}`);
});
