import * as tf from '@tensorflow/tfjs';
import { auc, disposeExplanation, explainVolume, loadSafetensors, localisationMetrics, MedicalSliceTransformer, montagePng, sliceAttentionBarChart, type ExplainMethod } from 'mst-ts';
import { markdown, png, predictCases, taskData, TINY_KNOBS, tinyMst, trainVariant, useBackend, type Knobs, type Variant } from './lib/ablation.ts';
// ====================== KNOBS: edit, then Run All ======================
const knobs: Knobs = {
  ...TINY_KNOBS,
  task: 'chest',        // 'chest' | 'breast' | 'knee'
  size: [16, 64, 64],
  crop: [16, 32, 32],
  nTrain: 128, nVal: 32, nTest: 32,
  epochs: 6,
  lr: 1e-3,
  batchSize: 4,
  seed: 0,
};
const model: Variant = { name: 'MST (tiny ViT, Transformer fusion)', build: (size, seed) => tinyMst(size, seed) };
// Weights to explain instead of training here, e.g. '../../runs/demo/best.safetensors' after `npm run demo`
// (the demo's model is this notebook's default MST on the same chest crops).
const checkpoint = '';
const method: ExplainMethod = 'attention';   // 'attention' (the paper's map) or 'rollout'
const zeroFirstPatch = true;                 // drop the first (corner) patch's plane attention, as the authors' code
const caseIndex: number | null = null;       // a test-set index, or null: the most confident positive case
await useBackend(knobs);
const data = taskData(knobs);
let net: MedicalSliceTransformer;
let predictions: { ids: string[]; labels: number[]; scores: number[] };
if (checkpoint) {
  net = (await model.build(data.inputSize, knobs.seed)) as MedicalSliceTransformer;
  const weights = await loadSafetensors(checkpoint);
  net.loadStateDict(weights);
  tf.dispose(Object.values(weights));
  predictions = await predictCases(net, data.test);
} else {
  const trained = await trainVariant(model, data, knobs);
  net = trained.model as MedicalSliceTransformer;
  predictions = trained.predictions;
}
`test AUC ${auc(predictions.labels, predictions.scores).toFixed(3)} on ${predictions.labels.length} held-out cases`
const positives = predictions.labels.map((l, i) => i).filter((i) => predictions.labels[i] === 1);
const index = caseIndex ?? positives.reduce((best, i) => (predictions.scores[i] > predictions.scores[best] ? i : best), positives[0]);
const sample = await data.test.get(index);
const volume = tf.tensor3d(sample.data, sample.shape);
const explanation = await explainVolume(net, volume, { method, zeroFirstPatch });
const saliency = (await explanation.saliencyUpsampled!.data()) as Float32Array;
const sliceAttention = explanation.sliceAttention ? await explanation.sliceAttention.data() : null;
const mask = { data: sample.mask!, shape: sample.shape };
const metrics = await localisationMetrics({ data: saliency, shape: sample.shape }, sliceAttention, mask);
markdown([
  `**${sample.id}** — label ${sample.label === 1 ? 'lesion' : 'no lesion'}, P(lesion) = ${predictions.scores[index].toFixed(3)}`,
  '',
  '| slice correct | lesion correct | Dice | IoU | most attended slice | peak voxel [d, h, w] |',
  '|---|---|---|---|---|---|',
  `| ${metrics.sliceCorrect} | ${metrics.lesionCorrect} | ${metrics.dice.toFixed(3)} | ${metrics.iou.toFixed(3)} | ${metrics.topSlices.join(', ')} | ${metrics.peak.join(', ')} |`,
].join('\n'))
const rows = [...(sliceAttention ? [{ map: sliceAttention, clip: null }] : []), { map: { data: saliency, shape: sample.shape } }];
png(montagePng({ data: sample.data, shape: sample.shape }, rows, { colormap: 'jet', alpha: 0.5 }), 3)
const lesionSlices = [...Array(sample.shape[0]).keys()].filter((d) => {
  const plane = sample.shape[1] * sample.shape[2];
  return sample.mask!.subarray(d * plane, (d + 1) * plane).some((v) => v > 0);
});
console.log(`lesion in slices ${lesionSlices.join(', ')}`);
sliceAttention ? png(sliceAttentionBarChart(sliceAttention), 2) : markdown('(no slice attention: this fusion has none)')
// Free the model and the maps; the count should be back to what it was before training.
disposeExplanation(explanation);
volume.dispose();
net.dispose();
`tensors alive: ${tf.memory().numTensors}`
export {};
