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

/**
 * Whether an on/off environment variable is on: `1`, `true` or `yes` (any case) are on; unset,
 * empty, `0`, `false` and `no` are off; any other value is an error naming the variable, so a
 * typo never silently turns a check off.
 */
export function envFlag(name: string): boolean {
  const raw = process.env[name];
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'yes') return true;
  throw new Error(`environment variable ${name}='${raw}': expected 1/true/yes (on) or 0/false/no/empty (off)`);
}

/** Whether the heavier checks of `npm run test:full` are on (`MST_FULL=1`). */
export const FULL = envFlag('MST_FULL');

/**
 * Whether this is a CI run (`CI` set, as .ci/run and CI services do). There a check whose
 * prerequisite is missing fails instead of skipping: CI must run every check.
 */
export const CI = envFlag('CI');

/**
 * For checks that need something a machine may lack (a Debian package's test data, an optional
 * npm package, a GPU driver): returns `available`. When it is false, prints why the checks are
 * skipped, except under CI, where it registers a failing test that names what to install. Call
 * it where tests are declared (top level or inside a `describe`).
 *
 * @example
 * const nibabel = needs(fs.existsSync(DIR), "nibabel's test data", 'apt-get install python3-nibabel');
 * (nibabel ? it.each(files) : it.skip.each(files))('reads %s', ...);
 */
export function needs(available: boolean, what: string, install: string): boolean {
  if (available) return true;
  if (CI) {
    it(`has ${what} (required under CI)`, () => {
      throw new Error(`${what} is missing: ${install}`);
    });
  } else {
    console.warn(`skipped: checks that need ${what} (${install})`);
  }
  return false;
}

/** Reads a fixture file as bytes. */
export function readFixture(...parts: string[]): Uint8Array {
  return new Uint8Array(fs.readFileSync(fixturePath(...parts)));
}

/**
 * `describe` when an optional package resolves, else `describe.skip` with a printed reason, so a
 * machine without it (onnxruntime-node) still runs everything else; under CI a missing package
 * is a failing test instead (see {@link needs}).
 */
export function describeIfInstalled(pkg: string, what: string): jest.Describe {
  let found = true;
  try {
    require.resolve(pkg);
  } catch {
    found = false;
  }
  if (found) return describe;
  describe(what, () => {
    needs(false, `the optional package ${pkg}`, 'npm ci installs it (see .npmrc)');
  });
  return describe.skip;
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

/**
 * Asserts that every named error is below `tol` (NaN and a missing entry's Infinity fail), listing
 * the names that are not, so one assertion covers every parameter of a gradient check.
 */
export function expectAllBelow(errors: Record<string, number>, tol: number): void {
  expect(Object.keys(errors).length).toBeGreaterThan(0);
  expect(Object.entries(errors).filter(([, e]) => !(e < tol))).toEqual([]);
}
