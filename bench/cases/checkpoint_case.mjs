// mst-ts side of bench/checkpoint_load.mjs, one file per process so memory figures are its own.
// usage: node --expose-gc bench/cases/checkpoint_case.mjs FILE REPEATS
// Builds a DINOv2 ViT-S/14 first when the build has one (the "ready model"), then times
// loadCheckpoint + toOurConvention (+ loadStateDict): once cold (the first load of the process,
// which grows the wasm heap and touches fresh memory, as a user's single load does) and REPEATS
// more times warm. Extra memory is the peak RSS during the cold load minus the RSS before it.
import * as tf from '@tensorflow/tfjs';
import * as mst from '../../dist/index.js';

const [file, repeatsText] = process.argv.slice(2);
const repeats = Number(repeatsText ?? 3);
await mst.setBackend(process.env.MST_BENCH_BACKEND ?? 'wasm');
const model = mst.dinov2_vits14 ? mst.dinov2_vits14({ seed: 0 }) : null;

async function loadOnce() {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const t0 = performance.now();
  const { stateDict, extra } = mst.toOurConvention(await mst.loadCheckpoint(file));
  if (model) model.loadStateDict(stateDict);
  const seconds = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(timer);
  mst.disposeStateDict(stateDict);
  mst.disposeStateDict(extra);
  return { seconds, extraMiB: (peak - rss0) / 2 ** 20 };
}

const cold = await loadOnce();
const times = [];
for (let r = 0; r < repeats; r++) times.push((await loadOnce()).seconds);
console.log(JSON.stringify({ cold: cold.seconds, extraMiB: cold.extraMiB, times, peakRssMiB: process.resourceUsage().maxRSS / 1024, intoModel: !!model, backend: tf.getBackend() }));
