// Table 3 of the MST paper: the slice encoder (DINOv2-S, DINOv2-B, DINOv2-S with registers,
// DINOv2-S frozen, a 2D ResNet).
//
//   npm run build && node examples/reproduce_table3.mjs [out-dir] [dinov2_vits14 weights]
//
// Same as `mst-ts reproduce table3 [--encoder-weights file]`. Without weights every encoder is a
// small from-scratch stand-in (the footer says which); the paper's result that fine-tuning a
// pretrained DINOv2 beats freezing it needs the pretrained file (any format fromPretrained reads).
import { runTable3, setBackend } from '../dist/index.js';

await setBackend('wasm');
const out = process.argv[2] ?? 'reproduce/table3';
const small = process.argv[3];
const result = await runTable3({ out, scale: 'quick', seed: 0, encoderWeights: small ? { small } : {}, print: console.error });
console.log(result.markdown);
