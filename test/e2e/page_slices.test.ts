/**
 * The page's map from scan slices to the bars of the slice attention (`Analysis.inputSliceOfScan`),
 * through a bundle's crop-or-pad preprocessing: a deeper scan loses its outer slices (-1), a
 * shallower one is padded and reaches the middle bars only. Runs in Node, no browser.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyse, readModel } from '../../examples/web/src/pipeline';
import { Classifier } from '../../src/classifier/classifier';
import { axisCodes, type Volume } from '../../src/io/volume';

const DEMO = path.join(__dirname, '..', '..', 'examples', 'web', 'public', 'demo');

function scan(depth: number): Volume {
  const data = new Float32Array(depth * 32 * 32);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 100 + (i % 97);
  // Canonical already (D toward superior, H toward posterior, W toward left): preparing only crops or pads.
  const affine = [
    [0, 0, -1, 0],
    [0, -1, 0, 0],
    [1, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  return { data, shape: [depth, 32, 32], spacing: [1, 1, 1], affine, orientation: axisCodes(affine), dtype: 'float32', source: `synthetic ${depth} slices`, meta: {} };
}

test('scan slices map to the input slices of a crop-or-pad bundle', async () => {
  const before = tf.memory().numTensors;
  const manifest = JSON.parse(fs.readFileSync(path.join(DEMO, 'demo.json'), 'utf8')) as { model: { files: string[] } };
  const demo = await readModel(
    manifest.model.files.map((f) => {
      const b = fs.readFileSync(path.join(DEMO, f));
      return { name: f, arrayBuffer: async () => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
    }),
  );
  const clf = new Classifier(demo.model, { ...demo.bundle, preprocessing: { orientation: 'canonical', steps: [{ op: 'crop-or-pad', size: [16, 32, 32] }], channels: 1 } });
  try {
    const options = { intensity: 'none' as const, fit: false };
    // 20 slices cropped to 16 from slice 2: scan slices 2..17 are input slices 0..15.
    const deep = await analyse(clf, scan(20), options);
    expect(deep.inputShape).toEqual([16, 32, 32]);
    expect(deep.inputSliceOfScan).toEqual([-1, -1, ...Array.from({ length: 16 }, (_, k) => k), -1, -1]);
    // 12 slices padded to 16 with 2 in front: scan slices 0..11 are input slices 2..13.
    const shallow = await analyse(clf, scan(12), options);
    expect(shallow.inputSliceOfScan).toEqual(Array.from({ length: 12 }, (_, d) => d + 2));
    expect(shallow.sliceAttention).toHaveLength(16);
  } finally {
    demo.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
});
