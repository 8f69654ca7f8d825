// Child process of relaxed_simd.test.ts, started with relaxed SIMD enabled (Node 20:
// --experimental-wasm-relaxed-simd) or, with the argument `enable`, turning it on through
// enableNodeRelaxedSimd. Loads both embedded kernel builds (plain SIMD128 and relaxed
// SIMD) from the TypeScript sources through esbuild, runs the same GEMMs and convolutions on both
// in one shared memory, and prints one JSON line: the feature detection's answer and, per case,
// the largest difference between the builds relative to the float32 rounding bound
// k * 2^-24 * sum_k |a b|, plus the count of elements that differ at all.
import { buildSync } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = buildSync({
  stdin: {
    contents: "export { relaxedSimdSupported, enableNodeRelaxedSimd } from './src/kernels/wasm_features.ts'; export * from './src/kernels/sgemm_wasm_bytes.ts';",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  write: false,
});
const lib = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].contents).toString('base64')}`);

if (process.argv[2] === 'enable') lib.enableNodeRelaxedSimd();
const memory = new WebAssembly.Memory({ initial: 2048 });
const load = async (b64) => (await WebAssembly.instantiate(Buffer.from(b64, 'base64'), { env: { memory } })).instance.exports;
const plain = await load(lib.SGEMM_WASM_BASE64);
const relaxed = lib.relaxedSimdSupported() ? await load(lib.SGEMM_RELAXED_WASM_BASE64) : null;
const heap = new Float32Array(memory.buffer);

// A bump allocator over the shared memory (16-byte aligned, from 1 MiB).
let top = 1 << 20;
const alloc = (floats) => {
  const at = top;
  top = (top + floats * 4 + 15) & ~15;
  return at;
};
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 31 - 1;
};
const fill = (at, n) => {
  for (let i = 0; i < n; i++) heap[at / 4 + i] = rand();
};

/** Compares outputs of `run(exports, out)` on both builds; `bound(i)` is the error scale of element i. */
function compare(name, outFloats, run, bound) {
  const a = alloc(outFloats);
  const b = alloc(outFloats);
  run(plain, a);
  run(relaxed, b);
  let worst = 0;
  let differing = 0;
  for (let i = 0; i < outFloats; i++) {
    const d = Math.abs(heap[a / 4 + i] - heap[b / 4 + i]);
    if (d > 0) differing++;
    worst = Math.max(worst, d / bound(i));
  }
  return { name, worstOverBound: worst, differing, total: outFloats };
}

const results = [];
if (relaxed) {
  const work = alloc(plain.sgemm_work_floats());
  // [m, n, k, transA, transB, batch]: edge sizes, > KC-deep reductions, > NC-wide outputs, transposes.
  for (const [m, n, k, tA, tB, batch] of [
    [5, 7, 3, 0, 0, 1],
    [33, 17, 300, 0, 1, 2],
    [20, 530, 600, 1, 0, 1],
    [257, 64, 257, 0, 0, 3],
    [64, 1536, 384, 1, 1, 1],
  ]) {
    const A = alloc(batch * m * k);
    const B = alloc(batch * k * n);
    fill(A, batch * m * k);
    fill(B, batch * k * n);
    const absDot = (i) => {
      const q = Math.floor(i / (m * n));
      const r = Math.floor((i % (m * n)) / n);
      const c = i % n;
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = heap[A / 4 + q * m * k + (tA ? p * m + r : r * k + p)];
        const bv = heap[B / 4 + q * k * n + (tB ? c * k + p : p * n + c)];
        s += Math.abs(av * bv);
      }
      return k * 2 ** -24 * s;
    };
    results.push(compare(`sgemm ${m}x${n}x${k} tA=${tA} tB=${tB} batch ${batch}`, batch * m * n, (ex, out) => ex.sgemm(A, B, out, batch, m, n, k, tA, tB, m * k, k * n, m * n, work), absDot));
  }
  // Convolutions: x [1, 9, 10, 6], filter [3, 3, 6, 11], stride 1 and 2.
  const [n, hi, wi, ci, co, kh, kw] = [1, 9, 10, 6, 11, 3, 3];
  const X = alloc(n * hi * wi * ci);
  const W = alloc(kh * kw * ci * co);
  fill(X, n * hi * wi * ci);
  fill(W, kh * kw * ci * co);
  for (const s of [1, 2]) {
    const ho = Math.floor((hi - kh) / s) + 1;
    const wo = Math.floor((wi - kw) / s) + 1;
    const k = kh * kw * ci;
    results.push(compare(`conv2d_forward stride ${s}`, n * ho * wo * co, (ex, out) => ex.conv2d_forward(X, W, out, n, hi, wi, ci, co, kh, kw, s, s, work), () => k * 2 ** -24 * k));
    const DY = alloc(n * ho * wo * co);
    fill(DY, n * ho * wo * co);
    const pixels = n * ho * wo;
    results.push(compare(`conv2d_filter_grad stride ${s}`, kh * kw * ci * co, (ex, out) => ex.conv2d_filter_grad(X, DY, out, n, hi, wi, ci, co, kh, kw, s, s, work), () => pixels * 2 ** -24 * pixels));
  }
}
// The shared-memory builds (tfjs-wasm's threaded build) on a shared memory: bit-identical to their
// ordinary twins on the same product.
const sharedMemory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
const sharedHeap = new Float32Array(sharedMemory.buffer);
const sharedBuilds = [['simd', lib.SGEMM_SHARED_WASM_BASE64, plain]];
if (relaxed) sharedBuilds.push(['relaxed-simd', lib.SGEMM_RELAXED_SHARED_WASM_BASE64, relaxed]);
const shared = [];
for (const [name, b64, twin] of sharedBuilds) {
  const ex = (await WebAssembly.instantiate(Buffer.from(b64, 'base64'), { env: { memory: sharedMemory } })).instance.exports;
  const [m, n, k] = [19, 23, 300];
  const [A, B, C, W] = [4096, 4096 + 4 * m * k, 4096 + 4 * (m * k + k * n), 4096 + 4 * (m * k + k * n + m * n) + 64];
  for (let i = 0; i < m * k + k * n; i++) sharedHeap[A / 4 + i] = Math.sin(i);
  ex.sgemm(A, B, C, 1, m, n, k, 0, 0, 0, 0, 0, W);
  const at = alloc(m * k + k * n + m * n);
  heap.set(sharedHeap.subarray(A / 4, A / 4 + m * k + k * n), at / 4);
  twin.sgemm(at, at + 4 * m * k, at + 4 * (m * k + k * n), 1, m, n, k, 0, 0, 0, 0, 0, alloc(plain.sgemm_work_floats()));
  const same = sharedHeap.subarray(C / 4, C / 4 + m * n).every((v, i) => v === heap[(at + 4 * (m * k + k * n)) / 4 + i]);
  shared.push({ name, identical: same });
}
console.log(JSON.stringify({ relaxedSimd: lib.relaxedSimdSupported(), results, shared }));
