// Supplementary Table S1 of the MST paper: the 3D ResNet's depth (50, 18, 101; MONAI layout).
//
//   npm run build && node examples/reproduce_tableS1.mjs [out-dir]
//
// Same as `mst-ts reproduce tableS1`. At quick scale the stages are a sixteenth as wide (4-8-16-32
// channels, stride-2 in-plane stem) and train at lr 1e-3 with warm-up and cosine decay; at
// { scale: 'paper' } they are MONAI's (ResNet50 46.2 M parameters, as the paper's 46 M).
import { runTableS1, setBackend } from '../dist/index.js';

await setBackend('wasm');
const out = process.argv[2] ?? 'reproduce/tableS1';
const result = await runTableS1({ out, scale: 'quick', seed: 0, print: console.error });
console.log(result.markdown);
