import * as tf from '@tensorflow/tfjs';
import { ablationMarkdown, learningCurves, markdown, PAPER_TABLE2, rocFigure, runAblation, svg, TINY_KNOBS, tinyMst, type Knobs, type Variant } from './lib/ablation.ts';
// ====================== KNOBS: edit, then Run All ======================
const knobs: Knobs = {
  ...TINY_KNOBS,
  task: 'chest',        // 'chest' | 'breast' | 'knee' (Chest CT, Breast MRI, Knee MRI in the paper)
  size: [16, 64, 64],   // generated volume [D, H, W]
  crop: [16, 32, 32],   // centre crop the network sees (null: none)
  nTrain: 64, nVal: 32, nTest: 64,
  epochs: 6,
  lr: 1e-3,             // AdamW learning rate of every row without its own
  batchSize: 4,
  seed: 0,
  backend: 'wasm',      // 'cpu' works too, ~40x slower
  outDir: '',           // e.g. 'runs/notebook-table2': table.md, predictions.json, figures, run.json
};
const PAPER = PAPER_TABLE2;
const variants: Variant[] = [
  { name: 'Transformer', build: (size, seed) => tinyMst(size, seed, { sliceFusion: 'transformer' }) },
  { name: 'Transformer (with AdPE)', build: (size, seed) => tinyMst(size, seed, { sliceFusion: 'transformer', positionalEmbedding: 'learned' }) },
  { name: 'Linear Layer', build: (size, seed) => tinyMst(size, seed, { sliceFusion: 'linear' }) },
  { name: 'Average', build: (size, seed) => tinyMst(size, seed, { sliceFusion: 'average' }) },
  // More rows, e.g.: { name: 'Transformer, lr 3e-4', lr: 3e-4, paperRow: 'Transformer', build: (size, seed) => tinyMst(size, seed) },
];
const result = await runAblation('Table 2: slice fusion', variants, knobs, { paper: PAPER });
markdown(ablationMarkdown(result, PAPER))
svg(rocFigure(result))
svg(learningCurves(result))
// A check for headless runs (npm run notebooks): every row trained and was tested on both classes.
for (const r of result.rows) {
  if (!Number.isFinite(r.predictions.auc)) throw new Error(`${r.name}: no test AUC`);
}
`${result.rows.length} rows in ${result.seconds.toFixed(0)} s; tensors alive: ${tf.memory().numTensors}`
export {};
