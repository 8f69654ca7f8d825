// mst-ts side of bench/checkpoint_from_pretrained.mjs, one file per process so memory figures are its own.
// usage: node --expose-gc bench/cases/from_pretrained_case.mjs FILE REPEATS
// Times fromPretrained(FILE) (read, detect, infer the DINOv2 ViT-S/14 architecture, build the model,
// load strictly): once cold and REPEATS more times warm, disposing the model in between. Also times
// building the same model alone. Extra memory is the peak RSS during the cold call minus the RSS
// before it; `external` is Node's off-heap memory (file buffers) at the end of the cold call.
import * as tf from '@tensorflow/tfjs';
import * as mst from '../../dist/index.js';

const [file, repeatsText] = process.argv.slice(2);
const repeats = Number(repeatsText ?? 3);
await mst.setBackend(process.env.MST_BENCH_BACKEND ?? 'wasm');

async function once() {
  global.gc?.();
  const m0 = process.memoryUsage();
  let peak = m0.rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const t0 = performance.now();
  const model = await mst.fromPretrained(file);
  const seconds = (performance.now() - t0) / 1000;
  const m1 = process.memoryUsage();
  peak = Math.max(peak, m1.rss);
  clearInterval(timer);
  const config = mst.configOf(model);
  model.dispose();
  return { seconds, extraMiB: (peak - m0.rss) / 2 ** 20, externalMiB: (m1.external - m0.external) / 2 ** 20, config };
}

const cold = await once();
const times = [];
for (let r = 0; r < repeats; r++) times.push((await once()).seconds);
const t0 = performance.now();
mst.buildModel(cold.config).dispose();
const buildSeconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ cold: cold.seconds, extraMiB: cold.extraMiB, externalMiB: cold.externalMiB, times, buildSeconds, arch: `${cold.config.model} E=${cold.config.options.embedDim} depth=${cold.config.options.depth} heads=${cold.config.options.numHeads}`, backend: tf.getBackend() }));
