/**
 * Saving and loading models in the browser: IndexedDB, file downloads and `<input type=file>`
 * uploads, plus an adapter to tfjs's own IO handlers (`indexeddb://`, `downloads://`, `http://`,
 * `tf.io.withSaveHandler`, ...). The files are those `saveModel` writes in Node: safetensors with
 * the PyTorch originals' names and the config JSON. Browser globals (`indexedDB`, `document`,
 * `Blob`, `URL`) are looked up only when a function runs, so importing this module in Node is safe.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedBytesFile } from '../io/volume_files';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { buildModel, type ConfigurableModel } from './model_config';
import { bundleJson, encodeModel, type SaveModelOptions, type SavedModelJson } from './save_model';
import { loadModelBundle, loadSavedModel, parseSavedModelJson, type FromPretrainedOptions } from './from_pretrained';

const DB_NAME = 'mst-ts-models';
const STORE = 'models';

/** One IndexedDB record: the two files of `saveModel`. */
interface StoredModel {
  weights: ArrayBuffer;
  json: string;
  savedAt: string;
}

function idbFactory(): IDBFactory {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) throw new Error('IndexedDB is not available here (a browser, a worker, or fake-indexeddb in Node provide globalThis.indexedDB)');
  return factory;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

async function openDb(): Promise<IDBDatabase> {
  const req = idbFactory().open(DB_NAME, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
  };
  return request(req);
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(fn(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (quota exceeded?)'));
    });
    return result;
  } finally {
    db.close();
  }
}

/**
 * Stores a model in the browser's IndexedDB (database `mst-ts-models`) under `name`, as the
 * safetensors bytes and config JSON that `saveModel` writes.
 *
 * @example
 * await saveModelToIndexedDB(model, 'mst-duke-fold0');
 * const again = await loadModelFromIndexedDB('mst-duke-fold0');
 */
export async function saveModelToIndexedDB(model: Module, name: string, options: SaveModelOptions = {}): Promise<void> {
  const { weights, json } = await encodeModel(model, options, `${name}.safetensors`);
  const record: StoredModel = { weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer, json, savedAt: new Date().toISOString() };
  await withStore('readwrite', (s) => s.put(record, name));
}

/**
 * Rebuilds a model stored by {@link saveModelToIndexedDB}.
 *
 * @example
 * const model = await loadModelFromIndexedDB('mst-duke-fold0');
 */
export async function loadModelFromIndexedDB(name: string): Promise<ConfigurableModel> {
  const record = (await withStore('readonly', (s) => s.get(name))) as StoredModel | undefined;
  if (!record) {
    const names = await listModelsInIndexedDB();
    throw new Error(`loadModelFromIndexedDB: no model '${name}' in IndexedDB '${DB_NAME}'; stored: ${names.length ? names.join(', ') : '(none)'}`);
  }
  return loadSavedModel(new Uint8Array(record.weights), record.json);
}

/** Names of the models stored by {@link saveModelToIndexedDB}. @example await listModelsInIndexedDB(); // ['mst-duke-fold0'] */
export async function listModelsInIndexedDB(): Promise<string[]> {
  return ((await withStore('readonly', (s) => s.getAllKeys())) as IDBValidKey[]).map(String);
}

/** Removes a stored model (no error when absent). @example await deleteModelFromIndexedDB('old'); */
export async function deleteModelFromIndexedDB(name: string): Promise<void> {
  await withStore('readwrite', (s) => s.delete(name));
}

/**
 * Offers the model as two downloads, `<filename>` (safetensors) and `<filename minus
 * .safetensors>.json`, through a temporary anchor (browser only).
 *
 * @example
 * await downloadModel(model, 'mst.safetensors'); // mst.safetensors + mst.json
 */
export async function downloadModel(model: Module, filename = 'model.safetensors', options: SaveModelOptions = {}): Promise<void> {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc || typeof URL.createObjectURL !== 'function') throw new Error('downloadModel: needs a browser document; in Node use saveModel(model, path)');
  if (!filename.endsWith('.safetensors')) throw new Error(`downloadModel: expected a file name ending in .safetensors, got '${filename}'`);
  const { weights, json } = await encodeModel(model, options, filename);
  const files: [string, Blob][] = [
    [filename, new Blob([weights as BlobPart], { type: 'application/octet-stream' })],
    [`${filename.slice(0, -'.safetensors'.length)}.json`, new Blob([json], { type: 'application/json' })],
  ];
  for (const [name, blob] of files) {
    const url = URL.createObjectURL(blob);
    const a = doc.createElement('a');
    a.href = url;
    a.download = name;
    a.style.display = 'none';
    doc.body.appendChild(a);
    a.click();
    a.remove();
    // Revoking right away can cancel the download in some browsers.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/**
 * Rebuilds a model from files a user picked (`<input type=file multiple>`): a `saveModel` pair
 * (`.safetensors` + `.json`), a lone `.safetensors` written by mst-ts (its metadata holds the
 * config), or any checkpoint `fromPretrained` reads (`.pth`, `.bin`, `.ckpt`, foreign safetensors)
 * with `options` for what its tensors cannot tell.
 *
 * @example
 * input.onchange = async () => { model = await loadModelFromFiles(input.files!); };
 */
export async function loadModelFromFiles(files: ArrayLike<NamedBytesFile> | Iterable<NamedBytesFile>, options: FromPretrainedOptions = {}): Promise<ConfigurableModel> {
  return (await loadBundleFromFiles(files, options)).model;
}

/**
 * Like {@link loadModelFromFiles}, with the model's bundle (its class names, preprocessing and
 * explanation defaults; made from the inferred config for a checkpoint without one), so a page
 * can prepare raw scans as in training (`new Classifier(model, bundle)`).
 *
 * @example
 * const { model, bundle } = await loadBundleFromFiles(input.files!);
 */
export async function loadBundleFromFiles(files: ArrayLike<NamedBytesFile> | Iterable<NamedBytesFile>, options: FromPretrainedOptions = {}): Promise<{ model: ConfigurableModel; bundle: SavedModelJson }> {
  const list = Array.from(files as ArrayLike<NamedBytesFile>);
  const jsons = list.filter((f) => f.name.endsWith('.json'));
  const weights = list.filter((f) => !f.name.endsWith('.json'));
  if (weights.length !== 1 || jsons.length > 1) {
    throw new Error(`loadModelFromFiles: expected one weights file (.safetensors, .pth, .bin, .ckpt) and at most one .json, got ${list.map((f) => f.name).join(', ') || 'no files'}`);
  }
  const bytes = new Uint8Array(await weights[0].arrayBuffer());
  if (jsons.length) {
    const text = new TextDecoder().decode(await jsons[0].arrayBuffer());
    const bundle = parseSavedModelJson(text, jsons[0].name);
    return { model: await loadSavedModel(bytes, bundle), bundle };
  }
  return loadModelBundle(bytes, options);
}

/**
 * The model as tfjs `ModelArtifacts`: `modelTopology` is the saved JSON (config and format
 * version), weights are float32 under the PyTorch originals' names. Any tfjs IO handler stores it.
 *
 * @example
 * await tf.io.browserDownloads('mst').save(await modelArtifacts(model));
 */
export async function modelArtifacts(model: Module, options: SaveModelOptions = {}): Promise<tf.io.ModelArtifacts> {
  const saved = bundleJson(model, { ...options, keyPrefix: '' }, 'weightData');
  const dict = model.stateDict();
  try {
    const { data, specs } = await tf.io.encodeWeights(dict);
    return { modelTopology: saved as unknown as object, format: 'mst-ts-model', generatedBy: 'mst-ts', weightSpecs: specs, weightData: data };
  } finally {
    disposeStateDict(dict);
  }
}

/** Rebuilds a model from {@link modelArtifacts} (as a tfjs IO handler's `load()` returns them). */
export async function modelFromArtifacts(artifacts: tf.io.ModelArtifacts): Promise<ConfigurableModel> {
  if (artifacts.format !== 'mst-ts-model' || !artifacts.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) {
    throw new Error(`modelFromArtifacts: expected artifacts saved by mst-ts (format 'mst-ts-model' with topology, weight specs and data), got format ${JSON.stringify(artifacts.format)}`);
  }
  const saved = parseSavedModelJson(JSON.stringify(artifacts.modelTopology), 'modelTopology');
  const dict = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs) as StateDict;
  let model: ConfigurableModel | undefined;
  try {
    model = buildModel(saved.config, { skipInit: true });
    model.loadStateDict(dict);
    return model;
  } catch (e) {
    model?.dispose();
    throw e;
  } finally {
    disposeStateDict(dict);
  }
}

/**
 * Saves a model through a tfjs IO handler or URL (`indexeddb://name`, `localstorage://name`,
 * `downloads://name`, `http(s)://...`).
 *
 * @example
 * await saveModelTo(model, 'indexeddb://mst');
 * const again = await loadModelFrom('indexeddb://mst');
 */
export async function saveModelTo(model: Module, handlerOrUrl: tf.io.IOHandler | string): Promise<tf.io.SaveResult> {
  const handler = typeof handlerOrUrl === 'string' ? tf.io.getSaveHandlers(handlerOrUrl)[0] : handlerOrUrl;
  if (!handler?.save) throw new Error(`saveModelTo: no tfjs save handler for ${String(handlerOrUrl)}`);
  return handler.save(await modelArtifacts(model));
}

/** Loads a model saved by {@link saveModelTo} through a tfjs IO handler or URL. @example await loadModelFrom('indexeddb://mst'); */
export async function loadModelFrom(handlerOrUrl: tf.io.IOHandler | string): Promise<ConfigurableModel> {
  const handler = typeof handlerOrUrl === 'string' ? tf.io.getLoadHandlers(handlerOrUrl)[0] : handlerOrUrl;
  if (!handler?.load) throw new Error(`loadModelFrom: no tfjs load handler for ${String(handlerOrUrl)}`);
  return modelFromArtifacts(await handler.load());
}
