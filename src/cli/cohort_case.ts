/**
 * One case of a cohort run: read the volume, predict (and explain), write the result files
 * atomically. Shared by the main thread and the worker threads.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { writeFileAtomic } from '../io/files';
import { writeNifti } from '../io/nifti';
import type { Volume } from '../io/volume';
import { combineSequences, type SequenceInputs } from '../data/sequences';
import type { CohortCase } from './cohort_plan';
import { caseFiles } from './cohort_plan';
import type { Runtime, VolumePredictor } from './cohort_predictor';
import { readScan } from './flag_files';

/** The model a result was made with, compared on a rerun so one folder never mixes models. */
export interface ModelStamp {
  runtime: Runtime;
  arch?: string;
  /** File name of the weights (not the path, which differs between machines of a job array). */
  weights: string;
  /** Output classes of a tfjs model (an ONNX graph fixes its own). */
  numClasses?: number;
}

/** The `<stem>.json` of a case (small: the slice attention is the only per-slice field). */
export interface CaseRecord {
  id: string;
  /** The manifest's label, when it has one. */
  label?: number;
  /** Predicted class: the argmax of the probabilities. */
  prediction: number;
  probabilities: number[];
  logits: number[];
  /** Slice attention `[D]` (MST), summing to 1. */
  sliceAttention?: number[];
  /** File name of the saliency volume, next to this file (with `--saliency`). */
  saliency?: string;
  /** The explanation method of the saliency volume. */
  saliencyMethod?: string;
  /** Shape of the input as stored in its file (the saliency volume's shape). */
  shape: number[];
  /** The input volume's path. */
  input: string;
  /** 0-based row of the case in the manifest (after any split filter). */
  index: number;
  /** Cases in the whole cohort (every shard), so a merge can tell what is missing. */
  cohortSize: number;
  /** `k/n` when the run was sharded. */
  shard?: string;
  model: ModelStamp;
  /** Seconds spent on this case (read, predict, explain, write). */
  seconds: number;
}

/** Where and how a run writes its cases. */
export interface CaseContext {
  outDir: string;
  /** Include the slice attention in the JSON (when the model gives it). */
  sliceAttention: boolean;
  /** Write `<stem>.saliency.nii.gz`. */
  saliency: boolean;
  cohortSize: number;
  shard?: string;
  model: ModelStamp;
}

/**
 * Predicts one case and writes its files: the saliency volume first (when asked), then
 * `<stem>.json`, each atomically, so an existing JSON means the case is complete. Errors (an
 * unreadable or corrupt volume, a model error) propagate with the case's manifest line.
 */
export async function processCase(predictor: VolumePredictor, c: CohortCase, stem: string, ctx: CaseContext): Promise<CaseRecord> {
  const started = Date.now();
  try {
    // In the file's own voxel order: the predictor prepares it as the model's bundle says and maps the saliency back onto it.
    const volume = await readCase(c, predictor.inputs);
    const shape: [number, number, number] = [volume.shape[0], volume.shape[1], volume.shape[2]];
    const out = await predictor.predict(volume, { sliceAttention: ctx.sliceAttention, saliency: ctx.saliency });
    const files = caseFiles(ctx.outDir, stem);
    if (ctx.saliency && out.saliency) {
      await writeNifti(files.saliency, { data: out.saliency, shape, affine: volume.affine }, { description: `mst-ts ${out.saliencyMethod ?? ''} saliency`.slice(0, 79) });
    }
    const p = out.probabilities;
    const record: CaseRecord = {
      id: c.id,
      ...(c.label !== undefined ? { label: c.label } : {}),
      prediction: p.indexOf(Math.max(...p)),
      probabilities: p,
      logits: out.logits,
      ...(out.sliceAttention ? { sliceAttention: out.sliceAttention } : {}),
      ...(ctx.saliency && out.saliency ? { saliency: nodePath.basename(files.saliency), saliencyMethod: out.saliencyMethod } : {}),
      shape,
      input: c.path,
      index: c.index,
      cohortSize: ctx.cohortSize,
      ...(ctx.shard ? { shard: ctx.shard } : {}),
      model: ctx.model,
      seconds: 0,
    };
    record.seconds = (Date.now() - started) / 1000;
    await writeFileAtomic(files.json, `${JSON.stringify(record)}\n`);
    return record;
  } catch (e) {
    throw new Error(`${c.where}: case '${c.id}': ${(e as Error).message}`);
  }
}

/**
 * A case's volume in its file's own voxel order: its one scan, or a multi-sequence case's scans
 * registered onto the first one's grid and made into the model's channels.
 */
async function readCase(c: CohortCase, inputs: SequenceInputs | null): Promise<Volume> {
  if (!c.paths) return readScan(c.path, { canonical: false });
  if (!inputs) throw new Error(`the manifest gives the sequences ${Object.keys(c.paths).join(', ')} (path_<name> columns), but the model takes one scan: give a path column`);
  const scans: Record<string, Volume> = {};
  for (const name of inputs.names) {
    const p = c.paths[name];
    if (p === undefined) throw new Error(`the model takes the sequences ${inputs.names.join(', ')}; the manifest has no column path_${name}`);
    scans[name] = await readScan(p, { canonical: false });
  }
  return combineSequences(scans, inputs);
}

/**
 * The record of a case an earlier run finished, or null: its JSON exists, parses, names this case,
 * and (with `saliency`) its saliency volume exists too.
 */
export async function finishedCase(outDir: string, c: CohortCase, stem: string, saliency: boolean): Promise<CaseRecord | null> {
  const files = caseFiles(outDir, stem);
  let record: CaseRecord;
  try {
    record = JSON.parse(await fs.readFile(files.json, 'utf8')) as CaseRecord;
  } catch {
    return null;
  }
  if (record?.id !== c.id || !Array.isArray(record.probabilities)) return null;
  if (saliency) {
    try {
      await fs.access(files.saliency);
    } catch {
      return null;
    }
  }
  return record;
}

/** Whether two model stamps name the same model. */
export function sameModel(a: ModelStamp, b: ModelStamp): boolean {
  return a.runtime === b.runtime && (a.arch ?? '') === (b.arch ?? '') && a.weights === b.weights && a.numClasses === b.numClasses;
}
