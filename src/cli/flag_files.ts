/**
 * The files the CLI's flags name (`--weights`, `--input`, `--mask`, `--out`), loaded with errors
 * in the CLI's terms: one line naming the flag and the file, never a library function. The
 * library's own messages stay as they are for API users; this is where they are rewritten.
 */
import * as fs from 'node:fs/promises';
import { Classifier, loadClassifier } from '../classifier/classifier';
import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { combineSequences, type SequenceInputs } from '../data/sequences';
import { readVolume, type ReadVolumeOptions } from '../io/read_volume';
import type { Volume } from '../io/volume';
import { readSavedModelJson } from '../models/from_pretrained';
import { loadRegistryModel, MODEL_REGISTRY } from '../models/registry';
import { bundleJson, type SavedModelJson } from '../models/save_model';
import { UsageError } from './command';

/** What `--weights`, `--arch`, `--num-classes` and `--preset` ask for. */
export interface WeightsFlags {
  weights: string;
  /** A registry architecture for a bare state dict. */
  arch?: string;
  /** Classes of a model built from `arch` (default 2). */
  numClasses?: number;
  /** The paper's preprocessing for a model whose file carries none. */
  preset?: PreprocessingPreset;
  /** The classifier's slice-encoder worker threads (see `ClassifierOptions.workers`; default one per core). */
  workers?: number;
}

// The prefixes the library puts before a message about one file: the function, then the file.
const CALLERS = ['fromPretrained(', 'loadClassifier: ', 'loadOnnxModel: ', 'describeOnnxModel: '];

/**
 * A library error about a file a flag names, as one line `<flag> <file>: <why>` (or `<file>: <why>`
 * without a flag): the library's function prefixes and the repeated file name removed, a folder,
 * a model bundle's `.json` and a non-classifier explained in CLI terms. A {@link UsageError}
 * passes unchanged.
 *
 * @example
 * weightsError('missing.safetensors', err); // "--weights missing.safetensors: no such file"
 */
export function weightsError(file: string, e: unknown, flag = '--weights'): Error {
  if (e instanceof UsageError) return e;
  let m = e instanceof Error ? e.message : String(e);
  for (const c of CALLERS) {
    if (!m.startsWith(c)) continue;
    m = c.endsWith('(') ? m.slice(m.indexOf('): ') + 3) : m.slice(c.length);
  }
  for (const p of [`cannot read '${file}': `, `cannot load '${file}': `, `${file}: `]) if (m.startsWith(p)) m = m.slice(p.length);
  // ONNX Runtime's words for a file that is no ONNX graph.
  if (/^Load model from .* failed:/.test(m)) m = /Protobuf parsing failed/.test(m) ? 'not an ONNX graph (ONNX Runtime cannot parse it)' : m.replace(/^Load model from .* failed:\s*/, 'ONNX Runtime cannot load it: ');
  // One line: ONNX Runtime's and the state-dict loader's messages run over several.
  m = m.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ');
  const named = flag ? `${flag} ${file}` : file;
  if (m === `'${file}' is a folder; expected a file`) return new Error(`${named} is a folder; expected a file`);
  if (/unknown checkpoint format/.test(m) && /\.json$/i.test(file)) {
    const weights = file.replace(/\.json$/i, '.safetensors');
    m += `; ${file.split(/[\\/]/).pop()} is a model bundle's description: pass the weights beside it (${flag ? `${flag} ` : ''}${weights})`;
  }
  if (/not a volume classifier/.test(m)) {
    const holds = /holds an? (\w+)/.exec(m)?.[1] ?? 'a model';
    m = `holds a ${holds}, not a volume classifier (an MST or a 3D ResNet); name a registry architecture with --arch, or build a classifier around it with \`mst-ts convert ${file} model.safetensors --arch mst --num-classes N\` (a fresh, untrained head)`;
  }
  return new Error(`${named}: ${m}`);
}

/**
 * `loadStateDict`'s list of missing, unexpected and mis-shaped keys as one line of counts with the
 * first of each, or null for another error.
 */
function stateDictMismatch(message: string): string | null {
  if (!message.startsWith('loadStateDict: ')) return null;
  const parts: string[] = [];
  for (const line of message.slice('loadStateDict: '.length).split('\n')) {
    const m = /^(mis-shaped|missing|unexpected) keys: (.*)$/.exec(line);
    if (!m) continue;
    const items = m[2].split(m[1] === 'mis-shaped' ? '; ' : ', ');
    parts.push(`${items.length} ${m[1]} (${items[0]}${items.length > 1 ? ', ...' : ''})`);
  }
  return parts.length ? parts.join(', ') : null;
}

function archMismatch(weights: string, bundle: SavedModelJson, arch: string): UsageError {
  return new UsageError(`--weights ${weights} holds a bundle of arch ${bundle.arch}, which does not match --arch ${arch}; a bundle needs no --arch`);
}

/**
 * Loads `--weights` as a classifier: a bundle (its preprocessing, class names), any checkpoint
 * `fromPretrained` reads, or with `--arch` a bare state dict of that registry architecture. A
 * bundle of another architecture than `--arch` is a usage error saying so; every other failure
 * is one line naming `--weights` and the file.
 *
 * @example
 * const clf = await loadWeights({ weights: 'run/model.safetensors' });
 */
export async function loadWeights(flags: WeightsFlags): Promise<Classifier> {
  const { weights, arch, preset, workers } = flags;
  const bundle = arch ? await readSavedModelJson(weights).catch(() => null) : null;
  // A bundle describes itself: --arch adds nothing where it agrees, and is an error where not.
  if (!arch || bundle?.arch === arch) {
    try {
      return await loadClassifier(weights, { ...(preset ? { preprocessing: preset } : {}), workers });
    } catch (e) {
      throw weightsError(weights, e);
    }
  }
  if (bundle && MODEL_REGISTRY.has(bundle.arch)) throw archMismatch(weights, bundle, arch);
  let model;
  try {
    model = await loadRegistryModel(arch, weights, { numClasses: flags.numClasses ?? 2 });
  } catch (e) {
    if (bundle) throw archMismatch(weights, bundle, arch);
    const mismatch = stateDictMismatch((e as Error).message);
    if (mismatch) throw new Error(`--weights ${weights} does not fit --arch ${arch}: ${mismatch}; \`mst-ts inspect --check ${weights}\` tells what it holds`);
    throw weightsError(weights, e);
  }
  model.eval();
  return new Classifier(model, { ...bundleJson(model, { arch }), preprocessing: preset ? PREPROCESSING_PRESETS[preset] : null }, { workers });
}

/**
 * Reads the volume a flag names (`--input`, `--mask`, a manifest's path) as `readVolume` does,
 * with an error in CLI terms: a NaN or infinite voxel is reported with `nonFinite` (what the
 * command offers instead of the API's `allowNonFinite` option).
 *
 * @example
 * const scan = await readScan('scan.nii.gz', { canonical: false });
 */
export async function readScan(path: string, options: ReadVolumeOptions = {}, nonFinite = `fix the scan; \`mst-ts info --allow-nan ${path}\` reads it as it is`): Promise<Volume> {
  try {
    return await readVolume(path, options);
  } catch (e) {
    throw new Error(cliReadMessage((e as Error).message, nonFinite));
  }
}

/**
 * The volume of a command's `--input` flags in the files' own voxel order (the model's bundle says
 * how to prepare it): one path, or `name=path` per sequence of a multi-sequence model, combined on
 * the first one's grid. Misuse (a count or name the model does not take, a sequence given twice)
 * is a usage error naming `command`.
 *
 * @example
 * const scan = await readInputScans('predict', ['pre=pre.nii.gz', 'post=post.nii.gz'], clf.preprocessing?.inputs ?? null);
 */
export async function readInputScans(command: string, inputs: string[], sequences: SequenceInputs | null, read: ReadVolumeOptions = {}): Promise<Volume> {
  const named = inputs.map((x) => /^([A-Za-z][A-Za-z0-9_]*)=(.+)$/.exec(x));
  // One unnamed input is the model's channels already made (a subtraction image, say).
  if (inputs.length === 1 && (!sequences || !named[0])) return readScan(inputs[0], { canonical: false, ...read });
  if (!sequences) throw new UsageError(`${command}: the model takes one scan; got ${inputs.length} --input`);
  const names = sequences.names;
  if (named.some((m) => !m)) throw new UsageError(`${command}: the model takes the sequences ${names.join(', ')}: give --input <name>=<path> for each (e.g. --input ${names[0]}=scan.nii.gz)`);
  const scans: Record<string, Volume> = {};
  for (const m of named as RegExpExecArray[]) {
    if (scans[m[1]]) throw new UsageError(`${command}: --input ${m[1]}= is given twice`);
    scans[m[1]] = await readScan(m[2], { canonical: false, ...read });
  }
  try {
    return combineSequences(scans, sequences);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/**
 * A volume reader's message in CLI terms: the API option it suggests for NaN voxels replaced by
 * `nonFinite`.
 *
 * @example
 * cliReadMessage(err.message, 'pass --allow-nan to report them');
 */
export function cliReadMessage(message: string, nonFinite: string): string {
  return message.replace('(pass allowNonFinite to keep them)', `(${nonFinite})`);
}

/**
 * Checks that `--out` can be a folder: missing (it will be created) or a folder; a file there is
 * an error saying so, not Node's `EEXIST`.
 *
 * @example
 * await checkOutFolder('results');
 */
export async function checkOutFolder(out: string, flag = '--out'): Promise<void> {
  const stat = await fs.stat(out).catch(() => null);
  if (stat && !stat.isDirectory()) throw new Error(`${flag} ${out} is a file; expected a folder`);
}
