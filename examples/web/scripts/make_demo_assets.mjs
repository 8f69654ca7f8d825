/**
 * Writes the page's bundled demo into examples/web/public/demo/: the model of `npm run demo` (the
 * 2-block, 64-d ViT MST trained from scratch on the synthetic chest-CT task) saved with saveModel
 * (weight matrices in float16),
 * three held-out test cases of that run as NIfTI (16x32x32, HU, the centre crop the model was
 * trained on), and demo.json describing them. Run after `npm run demo` (which writes
 * runs/demo/best.safetensors) and `npm run build`:
 *
 *   node examples/web/scripts/make_demo_assets.mjs [--weights runs/demo/best.safetensors]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  ClampRescale, CropOrPad, DinoVisionTransformer, MedicalSliceTransformer, Rng, ZNormalize,
  encodeNifti, loadSafetensors, makeSyntheticCase, parseNifti, saveModel, setBackend, syntheticPreprocessing,
} from '../../../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'public', 'demo');
const { values } = parseArgs({ options: { weights: { type: 'string', default: 'runs/demo/best.safetensors' } } });

// DEMO_CONFIG of src/cli/demo.ts: chest task, seed 0, 300 train + 100 validation cases, then test.
const DEMO = { seed: 0, size: [16, 64, 64], crop: [16, 32, 32], difficulty: 0.25, firstTest: 400 };
const MODEL = 'mst-chest-tiny';

await setBackend('wasm');
const encoder = new DinoVisionTransformer({ embedDim: 64, depth: 2, numHeads: 4, patchSize: 8, imgSize: 32, inChannels: 1, seed: 0 });
const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 4, seed: 1 });
const weights = await loadSafetensors(values.weights);
model.loadStateDict(weights);
for (const t of Object.values(weights)) t.dispose();
model.eval();
await mkdir(out, { recursive: true });
// A bundle: the page prepares any scan as the model's training did (resample, field of view, window, crop, z-score).
// Weight matrices in float16 halve the page's download; the page converts them back on load.
await saveModel(model, join(out, `${MODEL}.safetensors`), { arch: 'mst', classNames: ['benign', 'malignant'], preprocessing: syntheticPreprocessing('chest', DEMO.size, DEMO.crop, true), dtype: 'float16' });

/** The demo's test case `index`, in HU, centre-cropped as in training. */
function testCase(index) {
  const c = makeSyntheticCase('chest', { seed: DEMO.seed, index, size: DEMO.size, difficulty: DEMO.difficulty });
  const sample = { id: c.id, data: c.volume, shape: c.shape, spacing: c.spacing, label: c.label };
  return new CropOrPad(DEMO.crop, { centre: 'centre' }).apply(sample, new Rng(0));
}

async function malignancy(sample) {
  const clamped = new ClampRescale(-1000, 1000, -1, 1).apply(sample, new Rng(0));
  const z = new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }).apply(clamped, new Rng(0));
  const x = tf.tensor(z.data, z.shape);
  const { probabilities } = await model.predict(x);
  x.dispose();
  return probabilities[1];
}

const scored = [];
for (let i = DEMO.firstTest; i < DEMO.firstTest + 40; i++) {
  const sample = testCase(i);
  scored.push({ index: i, sample, p: await malignancy(sample) });
}
const malignant = scored.filter((c) => c.sample.label === 1).sort((a, b) => b.p - a.p);
const benign = scored.filter((c) => c.sample.label === 0).sort((a, b) => a.p - b.p);
const picks = [
  { c: malignant[0], title: 'malignant nodule (spiculated or lobulated)' },
  { c: benign[0], title: 'benign nodule (smooth)' },
  { c: malignant[Math.floor(malignant.length / 2)], title: 'malignant nodule, a harder case' },
];
const cases = [];
for (const { c, title } of picks) {
  const [sd, sh, sw] = c.sample.spacing;
  // Axial slices laid out as mst-ts's canonical 'SPL', so the file reads back unchanged.
  const affine = [[0, 0, -sw, 0], [0, -sh, 0, 0], [sd, 0, 0, 0], [0, 0, 0, 1]];
  const bytes = encodeNifti({ data: c.sample.data, shape: c.sample.shape, affine }, { gzip: true });
  const back = parseNifti(bytes, 'check');
  if (back.shape.join() !== c.sample.shape.join() || back.data.some((v, i) => v !== c.sample.data[i])) throw new Error('the NIfTI did not read back as written');
  const file = `chest-test-${c.index}.nii.gz`;
  await writeFile(join(out, file), bytes);
  cases.push({ title: `Synthetic chest CT, held-out case ${c.index}: ${title}`, file, label: c.sample.label });
  console.log(`${file}: label ${c.sample.label}, p(malignant) ${c.p.toFixed(4)}`);
}
const manifest = {
  model: {
    title: 'MST (2-block 64-d ViT) trained by `npm run demo` on the synthetic chest-CT task',
    files: [`${MODEL}.safetensors`, `${MODEL}.json`],
    classNames: ['benign', 'malignant'],
    preprocess: { intensity: 'ct-zscore', fit: true },
  },
  cases,
};
await writeFile(join(out, 'demo.json'), `${JSON.stringify(manifest, null, 1)}\n`);
model.dispose();
console.log(`wrote ${out}`);
