// Table 2 of the MST paper: how the slice features are fused (Transformer, Transformer with an
// additive positional embedding, a linear layer, the average), each on the same DINOv2 encoder.
//
//   npm run build && node examples/reproduce_table2.mjs [out-dir]
//
// Same as `mst-ts reproduce table2`. The quick scale trains small from-scratch stand-ins on the
// three synthetic tasks (minutes on a CPU); for the paper's protocol on the real data use
// { scale: 'paper', tasks: ['duke'], dataDirs: { duke: '/data/DUKE' }, encoderWeights: { small: 'dinov2_vits14.safetensors' } }.
import { mstRecipe, runTable2, scaleConfig, setBackend } from '../dist/index.js';

await setBackend('wasm');
const out = process.argv[2] ?? 'reproduce/table2';
const seed = 0;

// 1. The paper's rows, one protocol for all of them; every file goes to `out`.
const result = await runTable2({ out, scale: 'quick', seed, print: console.error });
for (const row of result.rows) {
  const cells = Object.entries(row.cells).map(([dataset, c]) => `${dataset} ${c.auc.toFixed(3)} ± ${c.std.toFixed(3)}${c.p === undefined ? '' : ` (P = ${c.p.toFixed(3)})`}`);
  console.log(`${row.model}: ${cells.join('; ')}`);
}
console.log(`\n${result.markdown}\nfiles: ${result.files.join(', ')}`);

// 2. Your own rows: the first is the reference of the P values. Here: sinusoidal instead of learned
//    slice positions, on the chest task only.
const scale = scaleConfig('quick');
const mine = await runTable2({
  out: `${out}-sinusoidal`,
  seed,
  tasks: ['synthetic-chest'],
  models: [
    mstRecipe(scale, {}, { name: 'Transformer' }),
    mstRecipe(scale, {}, { name: 'Transformer (sinusoidal AdPE)', positionalEmbedding: 'sinusoidal' }),
  ],
});
console.log(mine.markdown);
