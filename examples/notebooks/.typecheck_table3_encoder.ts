import * as tf from '@tensorflow/tfjs';
import { MedicalSliceTransformer, resnet2d18 } from 'mst-ts';
import { ablationMarkdown, learningCurves, markdown, PAPER_TABLE3, rocFigure, runAblation, svg, TINY_KNOBS, TINY_VIT, tinyMst, type Knobs, type Variant } from './lib/ablation.ts';
// ====================== KNOBS: edit, then Run All ======================
const knobs: Knobs = {
  ...TINY_KNOBS,
  task: 'chest',        // 'chest' | 'breast' | 'knee'
  size: [16, 64, 64],
  crop: [16, 32, 32],
  nTrain: 64, nVal: 32, nTest: 64,
  epochs: 5,
  lr: 1e-3,
  batchSize: 4,
  seed: 0,
  backend: 'wasm',
  outDir: '',
};
const PAPER = PAPER_TABLE3;
const small = TINY_VIT;                                                       // 64-d, 2 blocks, 4 heads, 8-px patches
const base = { ...TINY_VIT, embedDim: 2 * TINY_VIT.embedDim, heads: 2 * TINY_VIT.heads };
const variants: Variant[] = [
  { name: 'MST (DINOv2)', build: (size, seed) => tinyMst(size, seed, {}, small) },
  { name: 'MST (DINOv2 Base)', build: (size, seed) => tinyMst(size, seed, { heads: base.heads }, base) },
  { name: 'MST (DINOv2 Registers)', build: (size, seed) => tinyMst(size, seed, {}, { ...small, registers: 4 }) },
  { name: 'MST (DINOv2 Frozen)', build: (size, seed) => tinyMst(size, seed, { freezeEncoder: true }, small) },
  {
    name: 'MST (ResNet)',
    build: (_size, seed) =>
      new MedicalSliceTransformer({
        encoder: resnet2d18({ feedForward: false, blockInplanes: [16, 32, 64, 128], seed }),
        numClasses: 2,
        heads: 4,
        encoderName: 'model',     // the authors' ResNetSliceTrans key names
        encoderAttention: false,  // a ResNet has no attention maps to return
        seed: seed + 1,
      }),
  },
];
const result = await runAblation('Table 3: slice encoder', variants, knobs, { paper: PAPER });
markdown(ablationMarkdown(result, PAPER))
svg(rocFigure(result))
svg(learningCurves(result))
// A check for headless runs (npm run notebooks): every row trained and was tested on both classes.
for (const r of result.rows) {
  if (!Number.isFinite(r.predictions.auc)) throw new Error(`${r.name}: no test AUC`);
}
`${result.rows.length} rows in ${result.seconds.toFixed(0)} s; tensors alive: ${tf.memory().numTensors}`
export {};
