// Table 1 of the MST paper: do the saliency maps point at the lesion? MST-DINOv2 (slice x plane
// attention) and the 3D ResNet50 (Grad-CAM) are trained as in Figure 2 and their maps of the first
// 50 positive test cases per task are scored against the lesion masks automatically: slice
// correctness (the most attended slice holds lesion), lesion correctness (the map's peak is inside
// the lesion), Dice and IoU. The paper's radiologist rated the maps by eye.
//
//   npm run build && node examples/reproduce_table1.mjs [out-dir]
//
// Same as `mst-ts reproduce table1`. Real data needs lesion masks (LIDC with its seg files).
import { runTable1, setBackend } from '../dist/index.js';

await setBackend('wasm');
const out = process.argv[2] ?? 'reproduce/table1';
const result = await runTable1({ out, scale: 'quick', seed: 0, print: console.error });
for (const r of result.rows) {
  console.log(`${r.dataset} ${r.method}: slice ${r.sliceCorrect}/${r.cases}, lesion ${r.lesionCorrect}/${r.cases}, Dice ${r.meanDice.toFixed(3)}, IoU ${r.meanIou.toFixed(3)}`);
}
console.log(`\n${result.markdown}`);
