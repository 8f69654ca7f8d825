/**
 * The page: picks a scan and a model (dropped, chosen, or the bundled demo), hands them to the
 * worker, and shows the prediction, the slice attention and the saliency overlay. The numbers the
 * page shows are also in `#result`'s data attributes, at full precision, for tests and scripts.
 */
import { EXPLAIN_METHODS, type ExplainMethod } from '../../../src/explain/methods';
import { displayWindow, normalizeSaliency, renderSliceOverlay } from '../../../src/explain/overlay';
import type { FileRef, ScanView, WorkerReply, WorkerRequest } from './messages';
import type { Analysis, AnalysisOptions, IntensityPreset, PreprocessOptions } from './pipeline';

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
  slice: $<HTMLInputElement>('slice'),
  sliceLabel: $<HTMLElement>('slice-label'),
  opacity: $<HTMLInputElement>('opacity'),
  opacityLabel: $<HTMLElement>('opacity-label'),
  saliencyScale: $<HTMLSelectElement>('saliency-scale'),
  attention: $<HTMLCanvasElement>('attention'),
};

const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const base = new URL(import.meta.env.BASE_URL, location.href);

let demo: DemoManifest | null = null;
let scanRefs: FileRef[] | null = null;
let modelRefs: FileRef[] | null = null;
let classNames: string[] = [];
let runId = 0;
let shown: { analysis: Analysis; scan: ScanView; saliency01: Float32Array; window: [number, number] } | null = null;

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
  shown = { analysis, scan, saliency01: scaledSaliency(analysis.saliency), window: displayWindow(scan.data) };
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
  });
  ui.slice.max = String(D - 1);
  setSlice(mostSalientSlice(analysis.saliency, scan.shape));
}

/** The saliency in [0, 1] as the scale selector says: the paper's quantile clip, or min-max. */
function scaledSaliency(saliency: Float32Array): Float32Array {
  const paper = ui.saliencyScale.value === 'paper';
  ui.result.dataset.saliencyScale = ui.saliencyScale.value;
  return normalizeSaliency(saliency, paper ? [0.995, 0.999] : null);
}

/** The slice holding the most salient voxel. */
function mostSalientSlice(saliency: Float32Array, [, H, W]: [number, number, number]): number {
  let best = 0;
  for (let i = 1; i < saliency.length; i++) if (saliency[i] > saliency[best]) best = i;
  return Math.floor(best / (H * W));
}

function setSlice(slice: number): void {
  if (!shown) return;
  const D = shown.scan.shape[0];
  const s = Math.min(D - 1, Math.max(0, Math.round(slice)));
  ui.slice.value = String(s);
  ui.sliceLabel.textContent = `${s + 1} / ${D}`;
  ui.result.dataset.slice = String(s);
  draw();
}

/** Display pixels per voxel: the largest integer that keeps the view within 512 px. */
function scaleOf(h: number, w: number): number {
  return Math.max(1, Math.floor(512 / Math.max(h, w)));
}

function draw(): void {
  if (!shown) return;
  const { scan, saliency01, window } = shown;
  const [, H, W] = scan.shape;
  const slice = Number(ui.slice.value);
  const opacity = Number(ui.opacity.value) / 100;
  ui.opacityLabel.textContent = `${Math.round(opacity * 100)}%`;
  ui.result.dataset.opacity = String(opacity);
  const img = renderSliceOverlay(scan, { data: saliency01, shape: scan.shape }, slice, { window, opacity });
  const tile = new OffscreenCanvas(W, H);
  tile.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.rgba.buffer as ArrayBuffer), W, H), 0, 0);
  const s = scaleOf(H, W);
  ui.view.width = W * s;
  ui.view.height = H * s;
  ui.view.dataset.scale = String(s);
  const ctx = ui.view.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, 0, 0, W * s, H * s);
  drawAttention(slice);
}

function drawAttention(current: number): void {
  const canvas = ui.attention;
  const ctx = canvas.getContext('2d')!;
  const values = shown?.analysis.sliceAttention;
  canvas.hidden = !values;
  if (!values) return;
  const width = canvas.width;
  const height = canvas.height;
  const pad = 18;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(...values, 1e-12);
  const bar = (width - 2 * pad) / values.length;
  values.forEach((v, i) => {
    const h = (v / max) * (height - 2 * pad);
    ctx.fillStyle = i === current ? '#e67814' : '#3264aa';
    ctx.fillRect(pad + i * bar + 1, height - pad - h, Math.max(1, bar - 2), h);
  });
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.fillText('slice attention (click a bar to show its slice)', pad, 12);
  ctx.fillText('1', pad, height - 4);
  ctx.fillText(String(values.length), width - pad - 12, height - 4);
}

ui.attention.addEventListener('click', (e) => {
  const values = shown?.analysis.sliceAttention;
  if (!values) return;
  const rect = ui.attention.getBoundingClientRect();
  const x = ((e.clientX - rect.left) / rect.width) * ui.attention.width;
  setSlice(Math.floor(((x - 18) / (ui.attention.width - 36)) * values.length));
});
ui.slice.addEventListener('input', () => setSlice(Number(ui.slice.value)));
ui.opacity.addEventListener('input', draw);
ui.saliencyScale.addEventListener('change', () => {
  if (!shown) return;
  shown.saliency01 = scaledSaliency(shown.analysis.saliency);
  draw();
});
ui.view.addEventListener(
  'wheel',
  (e) => {
    if (!shown) return;
    e.preventDefault();
    setSlice(Number(ui.slice.value) + Math.sign(e.deltaY));
  },
  { passive: false },
);

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
