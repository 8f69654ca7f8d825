/**
 * The fuzz targets: every reader of hostile bytes, each run on one input and summarised for the
 * invariant checks and the differential oracle. Runs inside the fuzz child process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inspectCheckpoint, loadCheckpoint } from '../../src/io/checkpoint';
import { dicomImagesToVolume, parseDicomAsync, readDicomSeries } from '../../src/io/dicom';
import { parseNifti } from '../../src/io/nifti';
import { parseNpy } from '../../src/io/npy';
import { loadSafetensors } from '../../src/io/safetensors';
import { readVolume } from '../../src/io/read_volume';
import { readVolumeFromFiles } from '../../src/io/volume_files';
import type { Volume } from '../../src/io/volume';
import { loadModelFromFiles } from '../../src/models/browser_storage';
import { fromPretrained, loadSavedModel, parseSavedModelJson } from '../../src/models/from_pretrained';
import { parseCsv } from '../../src/utils/csv';
import type { StateDict } from '../../src/nn/module';

/** Name every target gives its input: an error that does not mention it does not name its file. */
export const SOURCE = 'fuzz-input';

/** What an accepted input produced, small enough to send back and compare with a reference reader. */
export type Summary = Record<string, unknown>;

/** A fuzz target, as the child process runs it. */
export interface TargetRun {
  run(bytes: Uint8Array, context: { dicomSeries: Uint8Array[]; bundleWeights: Uint8Array | null }): Promise<Summary>;
}

function volumeSummary(v: Volume): Summary {
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i];
    if (Number.isFinite(x)) sum += x;
    else nonFinite++;
  }
  return { shape: v.shape, length: v.data.length, sum, nonFinite, affine: v.affine, spacing: v.spacing, dtype: v.dtype, affineFrom: v.meta.affineFrom, sformCode: v.meta.sformCode };
}

async function stateDictSummary(sd: StateDict): Promise<Summary> {
  const tensors: Record<string, { shape: number[]; sum: number }> = {};
  try {
    for (const [k, t] of Object.entries(sd)) {
      const d = await t.data();
      let s = 0;
      for (let i = 0; i < d.length; i++) s += Number.isFinite(d[i]) ? d[i] : 0;
      tensors[k] = { shape: t.shape, sum: s };
    }
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
  return { tensors, prototype: Object.getPrototypeOf(sd) === null ? 'null' : 'object' };
}

const withTempDir = async <T>(fn: (dir: string) => Promise<T>): Promise<T> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-fuzz-'));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

const inFile = <T>(bytes: Uint8Array, ext: string, fn: (file: string) => Promise<T>): Promise<T> =>
  withTempDir(async (dir) => {
    const file = path.join(dir, `${SOURCE}.${ext}`);
    fs.writeFileSync(file, bytes);
    return fn(file);
  });

const picked = (name: string, bytes: Uint8Array) => ({ name, arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer });

/** Every target by name. */
export const TARGETS: Record<string, TargetRun> = {
  nifti: {
    async run(bytes) {
      return volumeSummary(parseNifti(bytes, SOURCE, { canonical: false, allowNonFinite: true }));
    },
  },
  dicom: {
    async run(bytes) {
      const img = await parseDicomAsync(bytes, SOURCE);
      return { ...volumeSummary(dicomImagesToVolume([img], SOURCE, { canonical: false, allowNonFinite: true })), rows: img.rows, columns: img.columns, frames: img.frames };
    },
  },
  // The input replaces the first file of a small series folder; the others stay intact.
  'dicom-series': {
    async run(bytes, { dicomSeries }) {
      return withTempDir(async (dir) => {
        fs.writeFileSync(path.join(dir, '0.dcm'), bytes);
        dicomSeries.slice(1).forEach((b, i) => fs.writeFileSync(path.join(dir, `${i + 1}.dcm`), b));
        return volumeSummary(await readDicomSeries(dir, { canonical: false, allowNonFinite: true, irregularSpacing: 'keep' }));
      });
    },
  },
  npy: {
    async run(bytes) {
      const npy = parseNpy(bytes, SOURCE);
      let sum = 0;
      for (let i = 0; i < npy.data.length; i++) {
        const x = Number(npy.data[i]);
        if (Number.isFinite(x)) sum += x;
      }
      const summary: Summary = { shape: npy.shape, dtype: npy.dtype, length: npy.data.length, sum };
      if (npy.shape.length === 3 || npy.shape.length === 2) {
        summary.volume = await withTempDir(async (dir) => {
          const file = path.join(dir, `${SOURCE}.npy`);
          fs.writeFileSync(file, bytes);
          try {
            return volumeSummary(await readVolume(file, { allowNonFinite: true }));
          } catch (e) {
            return { error: (e as Error).message, name: (e as Error).constructor.name };
          }
        });
      }
      return summary;
    },
  },
  // Read from a file, as the CLI does (bytes would be named only 'checkpoint' in errors).
  safetensors: {
    async run(bytes) {
      return inFile(bytes, 'safetensors', async (file) => {
        const info = await inspectCheckpoint(file);
        return { ...(await stateDictSummary(await loadSafetensors(file))), inspected: Object.keys(info.tensors).length };
      });
    },
  },
  // torch.save zip and legacy files and Lightning checkpoints: one target, seeds of each kind.
  torch: {
    async run(bytes) {
      return inFile(bytes, 'pth', async (file) => {
        const info = await inspectCheckpoint(file, { opaqueObjects: true });
        const json = JSON.stringify(info.metadata);
        const sd = await loadCheckpoint(file, { opaqueObjects: true });
        return { ...(await stateDictSummary(sd)), format: info.format, stateDictKey: info.stateDictKey, metadataChars: json.length };
      });
    },
  },
  // A safetensors file written by saveModel (config in its metadata), rebuilt by fromPretrained.
  pretrained: {
    async run(bytes) {
      (await fromPretrained(bytes)).dispose();
      return { built: true };
    },
  },
  // The JSON beside saved weights: parsed, then rebuilt with the seed's weights (as a browser upload).
  bundle: {
    async run(bytes, { bundleWeights }) {
      const text = new TextDecoder().decode(bytes);
      const json = parseSavedModelJson(text, SOURCE);
      if (!bundleWeights) return { parsed: true };
      (await loadSavedModel(bundleWeights, json)).dispose();
      (await loadModelFromFiles([picked('w.safetensors', bundleWeights), picked(`${SOURCE}.json`, bytes)])).dispose();
      return { built: true };
    },
  },
  // The web page's reader, on a picked NIfTI file or a dropped DICOM series.
  web: {
    async run(bytes, { dicomSeries }) {
      const dicom = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49;
      const files = dicom ? [picked(`case/${SOURCE}.dcm`, bytes), ...dicomSeries.slice(1).map((b, i) => picked(`case/${i + 1}.dcm`, b))] : [picked(`${SOURCE}.nii.gz`, bytes)];
      return volumeSummary(await readVolumeFromFiles(files, { canonical: false, allowNonFinite: true, irregularSpacing: 'keep' }));
    },
  },
  csv: {
    async run(bytes) {
      const t = parseCsv(new TextDecoder().decode(bytes), { source: SOURCE });
      return { columns: t.header.length, rows: t.rows.length };
    },
  },
};

/** Resets what one input may leave behind (tensors), so the next starts clean. */
export function tensorsAlive(): number {
  return tf.memory().numTensors;
}
