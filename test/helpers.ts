import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VolumeDataset } from '../src/data/dataset';
import type { Shape3, VolumeSample } from '../src/data/sample';
import { Rng } from '../src/utils/rng';

/** max |a - b| over all elements; disposes nothing it was given and leaks nothing. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor | ArrayLike<number>): number {
  const bt = b instanceof tf.Tensor ? b : tf.tensor(Array.from(b as ArrayLike<number>), a.shape);
  if (bt.size !== a.size) throw new Error(`maxAbsDiff: sizes differ, [${a.shape}] vs [${bt.shape}]`);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.reshape(a, [-1]), tf.reshape(bt, [-1])))));
  const out = d.dataSync()[0];
  d.dispose();
  if (bt !== b) bt.dispose();
  return out;
}

/** Absolute path of a committed test fixture. */
export function fixturePath(...parts: string[]): string {
  return path.join(__dirname, 'fixtures', ...parts);
}

/** Whether the heavier checks of `npm run test:full` are on. */
export const FULL = process.env.MST_FULL === '1';

/** Reads a fixture file as bytes. */
export function readFixture(...parts: string[]): Uint8Array {
  return new Uint8Array(fs.readFileSync(fixturePath(...parts)));
}

/**
 * `describe` when an optional package resolves, else `describe.skip` with a printed reason, so a
 * machine without it (onnxruntime-node) still runs everything else.
 */
export function describeIfInstalled(pkg: string, what: string): jest.Describe {
  try {
    require.resolve(pkg);
    return describe;
  } catch {
    console.warn(`${what} skipped: ${pkg} is not installed`);
    return describe.skip;
  }
}

/** Options of {@link toyDataset}. */
export interface ToyDatasetOptions {
  /** Volume shape (default `[2, 4, 4]`). */
  shape?: Shape3;
  /** Added to the first half of the voxels of label-1 cases (default 0.8). */
  signal?: number;
  /** Cases that fail to load (a 'truncated file' error). */
  bad?: Set<number>;
}

/**
 * `n` labelled noise volumes (label `i % 2`) for training tests: label 1 brightens the first half
 * of the voxels, and the `rng` a case receives adds 0.3-scaled augmentation noise.
 */
export function toyDataset(n: number, seed: number, options: ToyDatasetOptions = {}): VolumeDataset {
  const { shape = [2, 4, 4], signal = 0.8, bad = new Set<number>() } = options;
  const size = shape[0] * shape[1] * shape[2];
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const ids = labels.map((_, i) => `case${i}`);
  return {
    length: n,
    labels,
    ids,
    get: async (index: number, rng?: Rng): Promise<VolumeSample> => {
      if (bad.has(index)) throw new Error('truncated file');
      const base = new Rng(seed * 1000 + index);
      const aug = rng ?? new Rng(index);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = base.normal() + 0.3 * aug.normal() + (labels[index] === 1 && i < size / 2 ? signal : 0);
      return { id: ids[index], data, shape: [...shape], spacing: [1, 1, 1], label: labels[index] };
    },
  };
}
