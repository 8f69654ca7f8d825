// mst-ts side of bench/speed.mjs: one case per process so peak RSS belongs to that case.
// usage: node bench/cases/speed_case.mjs CASE REPEATS   (same cases and shapes as bench_torch.py)
import * as tf from '@tensorflow/tfjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// MST_DIST names another build folder (default dist).
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', process.env.MST_DIST ?? 'dist');
const { setBackend, createModel, AdamW, crossEntropy, resnet3d50, checkpointedGradients, resnetCheckpointedGradients, leanVariableGrads, logitsOf, wasmKernelVariant, nativeKernelsInfo, setNativeThreads } = await import(pathToFileURL(join(dist, 'index.js')).href);

const [fullName, repeatsText] = process.argv.slice(2);
// CASE-threads: the native kernels split each product over every core of this one process;
// otherwise they run on one thread (the pool cases' workers each run one).
const threaded = fullName.endsWith('-threads');
const caseName = threaded ? fullName.slice(0, -'-threads'.length) : fullName;
const repeats = Number(repeatsText ?? 3);
// MST_BENCH_RELAXED=0: the plain SIMD128 kernels instead of relaxed SIMD (fused multiply-add).
// MST_BENCH_NATIVE=0: mst-ts's WebAssembly kernels instead of the native AVX2 ones.
await setBackend(process.env.MST_BENCH_BACKEND ?? 'wasm', { ...(process.env.MST_BENCH_RELAXED === '0' ? { relaxedSimd: false } : {}), ...(process.env.MST_BENCH_NATIVE === '0' ? { nativeKernels: false } : {}) });
if (!threaded) setNativeThreads(1);
const [D, H, W] = [32, 224, 224];
const model = caseName.startsWith('mst') ? createModel('mst-dinov2-s', { numClasses: 2 }) : resnet3d50({ numClasses: 2, conv1TStride: [1, 2, 2] });
const train = caseName.endsWith('train') || caseName.endsWith('train-pool');
const batch = train ? 2 : 1;
const x = tf.randomNormal([batch, D, H, W, 1], 0, 1, 'float32', 1);
const times = [];
// CPU seconds of the process (worker threads included): what the run costs whatever the load.
const cpuTimes = [];
const cpuSeconds = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
if (train) {
  model.train();
  const opt = new AdamW(model.namedParameters(), { lr: 1e-5 });
  const chunkSize = Number(process.env.MST_BENCH_CHUNK ?? 4);
  // mst-train-pool / r3d50-train-pool: the batch split over MST_BENCH_WORKERS (default 2) worker
  // threads (DataParallelGradients: one volume each; slice checkpointing in the MST workers, plain
  // steps in the ResNet ones, whose batch norm then runs per volume), AdamW here.
  const dp =
    caseName.endsWith('train-pool')
      ? await (await import(pathToFileURL(join(dist, 'parallel', 'index.js')).href)).DataParallelGradients.create(model, { workers: Number(process.env.MST_BENCH_WORKERS ?? 2) })
      : null;
  // MST trains with slice checkpointing (chunks of MST_BENCH_CHUNK slices, default 4): the plain
  // tape of 2 x 32 slices of 224x224 does not fit the wasm backend's 4 GiB heap.
  // ResNet3D-50 trains with block checkpointing (MST_BENCH_R3D=plain: leanVariableGrads only).
  const step = async () => {
    if (dp) return dp.gradients(model, x, [0, 1], { chunkSize: caseName.startsWith('mst') ? chunkSize : 0 });
    if (caseName.startsWith('mst')) return checkpointedGradients(model, x, [0, 1], { chunkSize, varList: opt.variables() });
    if (process.env.MST_BENCH_R3D === 'plain') {
      const { value, grads } = leanVariableGrads(() => crossEntropy(logitsOf(model.forward(x)), [0, 1]), opt.variables());
      return { loss: value, grads };
    }
    return resnetCheckpointedGradients(model, x, [0, 1], { varList: opt.variables() });
  };
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { loss, grads } = await step();
    opt.step(grads);
    await loss.data();
    tf.dispose([loss, grads]);
    times.push((performance.now() - t0) / 1000);
    cpuTimes.push(cpuSeconds(c0));
  }
  await dp?.dispose();
} else if (caseName === 'mst-infer-pool') {
  // The slice encoder on MST_BENCH_WORKERS (default 2) worker threads, the fusion here.
  const { SliceEncoderPool, predictWithPool } = await import(pathToFileURL(join(dist, 'parallel', 'index.js')).href);
  model.eval();
  const pool = await SliceEncoderPool.create(model.encoder, { workers: Number(process.env.MST_BENCH_WORKERS ?? 2) });
  const volume = tf.reshape(x, [D, H, W]);
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await predictWithPool(model, pool, volume);
    times.push((performance.now() - t0) / 1000);
    cpuTimes.push(cpuSeconds(c0));
  }
  await pool.dispose();
} else {
  model.eval();
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = tf.tidy(() => logitsOf(model.forward(x)));
    await out.data();
    out.dispose();
    times.push((performance.now() - t0) / 1000);
    cpuTimes.push(cpuSeconds(c0));
  }
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ case: fullName, times: times.slice(1), cpuTimes: cpuTimes.slice(1), peakRssMiB, backend: tf.getBackend(), kernels: kernelsName() }));

function kernelsName() {
  const native = nativeKernelsInfo();
  return native ? `native ${native.isa} x${native.threads}` : wasmKernelVariant();
}
