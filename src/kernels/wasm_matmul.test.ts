import * as tf from '@tensorflow/tfjs';
import { installWasmMatMul } from './wasm_matmul';
import { Rng } from '../utils/rng';

function randn(shape: number[], rng: Rng): { data: Float32Array; shape: number[] } {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return { data, shape };
}

// Reference product in float64 on plain arrays (independent of every backend).
function reference(a: Float32Array, as: number[], b: Float32Array, bs: number[], tA: boolean, tB: boolean): Float64Array {
  const ar = as.length;
  const br = bs.length;
  const m = tA ? as[ar - 1] : as[ar - 2];
  const k = tA ? as[ar - 2] : as[ar - 1];
  const n = tB ? bs[br - 2] : bs[br - 1];
  const batchA = as.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = bs.slice(0, -2).reduce((x, y) => x * y, 1);
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let q = 0; q < batch; q++) {
    const ao = (batchA === 1 ? 0 : q) * m * k;
    const bo = (batchB === 1 ? 0 : q) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + (tA ? p * m + i : i * k + p)] * b[bo + (tB ? j * k + p : p * n + j)];
        out[q * m * n + i * n + j] = s;
      }
  }
  return out;
}

describe('wasm SIMD matMul kernel', () => {
  beforeAll(async () => {
    if (tf.getBackend() === 'wasm') await installWasmMatMul();
  });

  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[4, 8], [8, 8], false, false],
    [[13, 300], [300, 19], false, false],
    [[3, 33, 20], [3, 17, 20], false, true],
    [[3, 20, 33], [3, 20, 17], true, false],
    [[2, 3, 9, 65], [2, 3, 17, 65], false, true],
    [[1, 6, 600], [4, 600, 530], false, false],
    [[4, 6, 5], [5, 3], false, false],
    [[1, 1], [1, 1], true, true],
  ];
  it.each(cases)('A%p x B%p (tA=%p, tB=%p) equals the float64 product', async (as, bs, tA, tB) => {
    const rng = new Rng(as.length * 100 + bs[bs.length - 1]);
    const a = randn(as, rng);
    const b = randn(bs, rng);
    const at = tf.tensor(a.data, as);
    const bt = tf.tensor(b.data, bs);
    const n0 = tf.memory().numTensors;
    const c = tf.matMul(at, bt, tA, tB);
    const got = await c.data();
    const want = reference(a.data, as, b.data, bs, tA, tB);
    const k = tA ? as[as.length - 2] : as[as.length - 1];
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(got.length).toBe(want.length);
    expect(worst).toBeLessThan(1e-5 * Math.sqrt(k) * 4);
    c.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([at, bt]);
  });

  it('returns zeros for an empty inner dimension and an empty result for an empty outer one', async () => {
    const c = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 2]));
    expect(Array.from(await c.data())).toEqual([0, 0, 0, 0, 0, 0]);
    const e = tf.matMul(tf.zeros([0, 4]), tf.zeros([4, 2]));
    expect(e.shape).toEqual([0, 2]);
    tf.dispose([c, e]);
  });
});
