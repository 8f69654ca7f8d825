import * as fs from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nativeKernelsInfo } from '../../src/kernels/native_kernels';
import { SGEMM_WASM_BASE64 } from '../../src/kernels/sgemm_wasm_bytes';
import { needs } from '../helpers';

// The native AVX2 + FMA kernels (native/node/*.c, built by `npm run build`) called directly on a
// WebAssembly memory, against float64 references, and through tfjs on the default backend.
const file = join(__dirname, '..', '..', 'dist', 'native', `mst_kernels-${process.platform}-${process.arch}.node`);
const cpuHasAvx2 = process.arch === 'x64' && /\bavx2\b/.test(fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '');
const built = needs(!cpuHasAvx2 || fs.existsSync(file), 'the native kernels addon', 'npm run build (needs a C compiler: apt-get install gcc)');
const run = cpuHasAvx2 && built ? describe : describe.skip;

interface Addon {
  isa: string | null;
  sgemm(heap: ArrayBuffer, ...args: number[]): void;
  conv2dForward(heap: ArrayBuffer, ...args: number[]): void;
  conv2dFilterGrad(heap: ArrayBuffer, ...args: number[]): void;
  gelu(heap: ArrayBuffer, ...args: number[]): void;
  geluGrad(heap: ArrayBuffer, ...args: number[]): void;
  layerNorm(heap: ArrayBuffer, ...args: number[]): void;
}

interface WasmKernels {
  gelu(x: number, y: number, n: number): void;
  gelu_grad(x: number, dy: number, dx: number, n: number): void;
  layer_norm(x: number, w: number, b: number, y: number, rows: number, c: number, eps: number): void;
}

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Worst |got - exact| over the rounding bound k 2^-24 sum |terms|, element by element (< 1: within float32 rounding). */
function worstOverBound(got: Float32Array, exact: Float64Array, magnitude: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(got[i] - exact[i]) / (k * 2 ** -24 * magnitude[i] + 1e-30));
  return worst;
}

run('native kernels (AVX2 + FMA)', () => {
  const addon = require(file) as Addon;
  const memory = new WebAssembly.Memory({ initial: 2048 }); // 128 MiB
  const heap = new Float32Array(memory.buffer);

  it('report their instruction set', () => {
    expect(addon.isa).toBe('avx2-fma');
  });

  // [batch, m, n, k, transA, transB, strideA (0: broadcast), strideB]
  const gemms: [number, number, number, number, number, number, boolean, boolean][] = [
    [1, 1, 1, 1, 0, 0, true, true],
    [1, 7, 17, 3, 0, 0, true, true],
    [1, 6, 16, 256, 0, 0, true, true],
    [1, 13, 1030, 300, 0, 0, true, true],
    [1, 200, 40, 300, 0, 0, true, true],
    [1, 33, 384, 384, 1, 0, true, true],
    [1, 257, 64, 257, 0, 1, true, true],
    [1, 130, 70, 515, 1, 1, true, true],
    [5, 19, 23, 31, 0, 1, true, true],
    [3, 40, 50, 60, 0, 0, false, true],
    [3, 40, 50, 60, 1, 0, true, false],
  ];

  it.each(gemms)('GEMM batch %i, %i x %i x %i (transA %i, transB %i) within float32 rounding, equal on 1, 2 and 3 threads', (batch, m, n, k, tA, tB, perA, perB) => {
    const sA = perA ? m * k : 0, sB = perB ? k * n : 0;
    const a = values(sA * (batch - 1) + m * k, 1), b = values(sB * (batch - 1) + k * n, 2);
    const pa = 16, pb = pa + a.length + 3, pc = pb + b.length + 5;
    heap.set(a, pa);
    heap.set(b, pb);
    const exact = new Float64Array(batch * m * n), magnitude = new Float64Array(batch * m * n);
    for (let bi = 0; bi < batch; bi++)
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0, s1 = 0;
          for (let p = 0; p < k; p++) {
            const av = a[bi * sA + (tA ? p * m + i : i * k + p)], bv = b[bi * sB + (tB ? j * k + p : p * n + j)];
            s += av * bv;
            s1 += Math.abs(av * bv);
          }
          exact[(bi * m + i) * n + j] = s;
          magnitude[(bi * m + i) * n + j] = s1;
        }
    const results = [1, 2, 3].map((threads) => {
      heap.fill(Number.NaN, pc, pc + batch * m * n);
      addon.sgemm(memory.buffer, pa * 4, pb * 4, pc * 4, batch, m, n, k, tA, tB, sA, sB, m * n, threads);
      return heap.slice(pc, pc + batch * m * n);
    });
    expect(worstOverBound(results[0], exact, magnitude, k)).toBeLessThan(1);
    // Threads split rows, columns or the batch, never a sum: results are bit for bit the same.
    expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
    expect(Buffer.from(results[2].buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
  });

  // [n, hi, wi, ci, co, kh, kw, sh, sw]
  const convs: [number, number, number, number, number, number, number, number, number][] = [
    [1, 5, 5, 1, 1, 1, 1, 1, 1],
    [2, 9, 11, 3, 17, 3, 3, 1, 1],
    [1, 28, 28, 3, 20, 14, 14, 14, 14],
    [2, 15, 13, 12, 33, 3, 3, 2, 2],
    [1, 21, 10, 64, 8, 7, 3, 2, 1],
  ];

  it.each(convs)('convolution n %i, %i x %i x %i -> %i, filter %i x %i, stride %i x %i: forward and filter gradient within float32 rounding, equal on 1 and 2 threads', (n, hi, wi, ci, co, kh, kw, sh, sw) => {
    const ho = Math.floor((hi - kh) / sh) + 1, wo = Math.floor((wi - kw) / sw) + 1;
    const x = values(n * hi * wi * ci, 3), w = values(kh * kw * ci * co, 4), dy = values(n * ho * wo * co, 5);
    const px = 8, pw = px + x.length + 1, pdy = pw + w.length + 7, py = pdy + dy.length + 2, pdw = py + n * ho * wo * co + 3;
    heap.set(x, px);
    heap.set(w, pw);
    heap.set(dy, pdy);
    const y = new Float64Array(n * ho * wo * co), yMag = new Float64Array(y.length);
    const dw = new Float64Array(w.length), dwMag = new Float64Array(w.length);
    for (let b = 0; b < n; b++)
      for (let oh = 0; oh < ho; oh++)
        for (let ow = 0; ow < wo; ow++)
          for (let a = 0; a < kh; a++)
            for (let c = 0; c < kw; c++)
              for (let i = 0; i < ci; i++) {
                const xv = x[((b * hi + oh * sh + a) * wi + ow * sw + c) * ci + i];
                for (let o = 0; o < co; o++) {
                  const out = ((b * ho + oh) * wo + ow) * co + o, f = ((a * kw + c) * ci + i) * co + o;
                  y[out] += xv * w[f];
                  yMag[out] += Math.abs(xv * w[f]);
                  dw[f] += xv * dy[out];
                  dwMag[f] += Math.abs(xv * dy[out]);
                }
              }
    const forward = [1, 2].map((threads) => {
      addon.conv2dForward(memory.buffer, px * 4, pw * 4, py * 4, n, hi, wi, ci, co, kh, kw, sh, sw, threads);
      return heap.slice(py, py + y.length);
    });
    const grad = [1, 2].map((threads) => {
      addon.conv2dFilterGrad(memory.buffer, px * 4, pdy * 4, pdw * 4, n, hi, wi, ci, co, kh, kw, sh, sw, threads);
      return heap.slice(pdw, pdw + dw.length);
    });
    expect(worstOverBound(forward[0], y, yMag, kh * kw * ci)).toBeLessThan(1);
    expect(worstOverBound(grad[0], dw, dwMag, n * ho * wo)).toBeLessThan(1);
    expect(Buffer.from(forward[1].buffer).equals(Buffer.from(forward[0].buffer))).toBe(true);
    expect(Buffer.from(grad[1].buffer).equals(Buffer.from(grad[0].buffer))).toBe(true);
  });

  it.each([1, 1000, 70001])('GELU, its gradient and LayerNorm equal the WebAssembly kernels bit for bit (%i elements; 1 and 2 threads)', (n) => {
    // The plain SIMD128 module on the same memory, as tfjs-wasm's backend would run it.
    const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SGEMM_WASM_BASE64, 'base64')), { env: { memory } }).exports as unknown as WasmKernels;
    const x = values(n, 8).map((v) => v * 6), dy = values(n, 9);
    const px = 1024, pdy = px + n + 4, pa = pdy + n + 4, pb = pa + n + 4;
    heap.set(x, px);
    heap.set(dy, pdy);
    const same = (run: (out: number) => void, len: number) => {
      run(pa);
      const expected = heap.slice(pa, pa + len);
      return [1, 2].every((threads) => {
        heap.fill(Number.NaN, pb, pb + len);
        (run as (out: number, threads: number) => void)(pb, threads);
        return Buffer.from(heap.slice(pb, pb + len).buffer).equals(Buffer.from(expected.buffer));
      });
    };
    const gelu = (out: number, threads?: number) => (threads ? addon.gelu(memory.buffer, px * 4, out * 4, n, threads) : wasm.gelu(px * 4, out * 4, n));
    const grad = (out: number, threads?: number) => (threads ? addon.geluGrad(memory.buffer, px * 4, pdy * 4, out * 4, n, threads) : wasm.gelu_grad(px * 4, pdy * 4, out * 4, n));
    expect(same(gelu, n)).toBe(true);
    expect(same(grad, n)).toBe(true);
    // LayerNorm over rows of c, with dy as weight and bias.
    const c = n === 1 ? 1 : 50, rows = Math.floor(n / c);
    const norm = (out: number, threads?: number) =>
      threads ? addon.layerNorm(memory.buffer, px * 4, pdy * 4, (pdy + c) * 4, out * 4, rows, c, 1e-6, threads) : wasm.layer_norm(px * 4, pdy * 4, (pdy + c) * 4, out * 4, rows, c, 1e-6);
    expect(same(norm, rows * c)).toBe(true);
    expect(Array.from(heap.slice(pb, pb + Math.min(n, 8))).every(Number.isFinite)).toBe(true);
  });

  it('refuse operands outside the heap, offsets off a float boundary, a filter larger than the image and a wrong argument count, naming the problem', () => {
    const floats = memory.buffer.byteLength / 4;
    expect(() => addon.sgemm(memory.buffer, 0, 0, (floats - 10) * 4, 1, 4, 4, 4, 0, 0, 0, 0, 0, 1)).toThrow('C (16 floats at byte');
    expect(() => addon.sgemm(memory.buffer, 0, 0, 0, 2, 4, 4, 4, 0, 0, floats, 0, 0, 1)).toThrow(/^native kernel: A .* lies outside the wasm heap/);
    expect(() => addon.sgemm(memory.buffer, 2, 0, 64, 1, 4, 4, 4, 0, 0, 0, 0, 0, 1)).toThrow('outside the wasm heap');
    expect(() => addon.conv2dForward(memory.buffer, 0, 0, 0, 1, 2, 2, 1, 1, 3, 3, 1, 1, 1)).toThrow('the filter must fit the image');
    expect(() => addon.conv2dForward(memory.buffer, 0, 0, 0, 1, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1)).toThrow('conv2dForward: expected 14 arguments, got 15');
    expect(() => addon.sgemm(new ArrayBuffer(64) as never, -1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1)).toThrow('argument 2 must be an integer');
    expect(() => addon.sgemm(new Float32Array(4) as never, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1)).toThrow("the first argument must be the wasm heap's ArrayBuffer");
    expect(() => addon.gelu(memory.buffer, 0, (floats - 2) * 4, 3, 1)).toThrow('y (3 floats at byte');
    expect(() => addon.layerNorm(memory.buffer, 0, 0, (floats - 1) * 4, 0, 2, 2, 1e-5, 1)).toThrow('bias (2 floats at byte');
    expect(() => addon.gelu(memory.buffer, 0, 0, 1.5, 1)).toThrow('argument 4 must be an integer');
  });

  it("run tfjs's matrix products and convolutions on the default backend, within float32 rounding of float64", () => {
    const a = tf.tensor2d(values(300 * 200, 6), [300, 200]), b = tf.tensor2d(values(200 * 100, 7), [200, 100]);
    const before = tf.memory().numTensors;
    const c = tf.matMul(a, b, false, false);
    expect(nativeKernelsInfo()).toMatchObject({ isa: 'avx2-fma', path: expect.stringContaining('mst_kernels-') });
    const [av, bv, cv] = [a.dataSync(), b.dataSync(), c.dataSync() as Float32Array];
    const exact = new Float64Array(300 * 100), mag = new Float64Array(300 * 100);
    for (let i = 0; i < 300; i++)
      for (let j = 0; j < 100; j++)
        for (let p = 0; p < 200; p++) {
          exact[i * 100 + j] += av[i * 200 + p] * bv[p * 100 + j];
          mag[i * 100 + j] += Math.abs(av[i * 200 + p] * bv[p * 100 + j]);
        }
    expect(worstOverBound(cv, exact, mag, 200)).toBeLessThan(1);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

// A fresh process each: the addon is loaded once, when the first tensor starts the backend.
const distIndex = join(__dirname, '..', '..', 'dist', 'index.cjs');
(fs.existsSync(distIndex) ? describe : describe.skip)('loading the native kernels (built package)', () => {
  const probe =
    "const tf = require('@tensorflow/tfjs'); const m = require(process.argv[1]);" +
    "const y = tf.matMul(tf.ones([70, 80]), tf.ones([80, 90])); const v = y.dataSync()[0];" +
    'process.stdout.write(JSON.stringify({ backend: tf.getBackend(), native: m.nativeKernelsInfo(), variant: m.wasmKernelVariant(), v }));';
  const run = (env: Record<string, string>) => require('node:child_process').spawnSync(process.execPath, ['-e', probe, distIndex], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('fall back to the WebAssembly kernels where the addon does not load (a damaged or foreign build); with MST_NATIVE_KERNELS=1 the wasm backend fails with an error naming the file', () => {
    const dir = fs.mkdtempSync(join(require('node:os').tmpdir(), 'mst-native-'));
    const bad = join(dir, 'mst_kernels-damaged.node');
    fs.writeFileSync(bad, Buffer.from('\x7fELF this is not a shared object'));
    try {
      const r = run({ MST_NATIVE_KERNELS_PATH: bad, MST_NATIVE_KERNELS: '' });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ backend: 'wasm', native: null, variant: expect.stringMatching(/simd/), v: 80 });
      // The wasm backend fails to start with the message (tfjs then reports it and moves on to cpu).
      const strict = run({ MST_NATIVE_KERNELS_PATH: bad, MST_NATIVE_KERNELS: '1' });
      expect(strict.stderr).toContain(`MST_NATIVE_KERNELS=1 but the native kernels ${bad} did not load:`);
      expect(JSON.parse(strict.stdout).backend).not.toBe('wasm');
      // Asked again, it fails again rather than running WebAssembly.
      const again = require('node:child_process').spawnSync(
        process.execPath,
        ['-e', "const m = require(process.argv[1]); (async () => { for (let i = 0; i < 2; i++) { try { await m.setBackend('wasm'); console.log('started', JSON.stringify(m.nativeKernelsInfo())); } catch (e) { console.log('refused'); } } })()", distIndex],
        { encoding: 'utf8', env: { ...process.env, MST_NATIVE_KERNELS_PATH: bad, MST_NATIVE_KERNELS: '1' } },
      );
      expect(again.stdout.trim().split('\n')).toEqual(['refused', 'refused']);
      const off = run({ MST_NATIVE_KERNELS: '0' });
      expect(JSON.parse(off.stdout)).toMatchObject({ backend: 'wasm', native: null, v: 80 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  (cpuHasAvx2 && built ? it : it.skip)("loaded by worker threads only (a cohort's workers), let the process exit cleanly when the workers end", () => {
    // The addon used to be unloaded with the last worker that loaded it while its thread-exit
    // destructors and pool threads still pointed into it: a segfault at exit.
    const body = [
      "const tf = require('@tensorflow/tfjs');",
      'const m = require(process.argv[2]);',
      'const y = tf.matMul(tf.ones([200, 300]), tf.ones([300, 200]));',
      "require('node:worker_threads').parentPort.postMessage([y.dataSync()[0], m.nativeKernelsInfo() && m.nativeKernelsInfo().isa]);",
    ].join(' ');
    const script = [
      "const { Worker } = require('node:worker_threads');",
      `const body = ${JSON.stringify(body)};`,
      'let left = 3;',
      'for (let i = 0; i < 3; i++) {',
      '  const w = new Worker(body, { eval: true, argv: [process.argv[1]] });',
      "  w.on('message', (v) => process.stdout.write(JSON.stringify(v)));",
      "  w.on('exit', () => { if (--left === 0) process.stdout.write('done'); });",
      '}',
    ].join('\n');
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script, distIndex], { encoding: 'utf8', env: { ...process.env, MST_NATIVE_KERNELS: '', MST_NATIVE_THREADS: '2' } });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[300,"avx2-fma"]'.repeat(3) + 'done');
  });

  (cpuHasAvx2 && built ? it : it.skip)('run by default in the built package, on every core of the main thread', () => {
    const r = run({ MST_NATIVE_KERNELS: '' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'wasm', native: { isa: 'avx2-fma', threads: require('node:os').availableParallelism() }, v: 80 });
  });
});
