// Figure 2 of the MST paper: MST-DINOv2 against a 3D ResNet50 per task, with AUC ± std
// (bootstrap), the paired DeLong P, ROC curves and confusion matrices (SVG and PNG).
//
//   npm run build && node examples/reproduce_figure2.mjs [out-dir]
//
// Same as `mst-ts reproduce figure2`. Real data and pretrained DINOv2 at the paper's protocol:
//   runFigure2({ out, scale: 'paper', tasks: ['lidc'], dataDirs: { lidc: '/data/LIDC-IDRI/preprocessed' },
//                encoderWeights: { small: 'dinov2_vits14_pretrain.pth' } })
import { runFigure2, setBackend } from '../dist/index.js';

await setBackend('wasm');
const out = process.argv[2] ?? 'reproduce/figure2';
const result = await runFigure2({ out, scale: 'quick', seed: 0, print: console.error });
for (const row of result.rows) {
  for (const [dataset, c] of Object.entries(row.cells)) {
    console.log(`${row.model} on ${dataset}: AUC ${c.auc.toFixed(3)} ± ${c.std.toFixed(3)}${c.p === undefined ? '' : `, DeLong P = ${c.p.toFixed(3)} vs ${result.rows[0].model}`}`);
  }
}
console.log(`figures: ${result.files.filter((f) => /\.(svg|png)$/.test(f)).join(', ')}`);
