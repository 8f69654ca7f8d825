import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';

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
