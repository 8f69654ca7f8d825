import * as tf from '@tensorflow/tfjs';
import { geluExact } from './gelu';
import { layerNorm } from './layer_norm';
import { leanAdd, leanReshape, leanScale } from './lean_shape';
import { leanVariableGrads } from './lean_backprop';

// The composed tfjs ops these fused ops replace (what src/layers computed before).
function composedLayerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), w), b);
}
const composedGelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

/** max |a - b| / max |b|. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-30, tf.max(tf.abs(b)).dataSync()[0]));
}

interface TapeNode {
  kernelName: string;
  saved?: tf.Tensor[];
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null };
  startTape(): void;
  endTape(): void;
  tidy<T>(name: string, fn: () => T): T;
}

/** The tensors `f` leaves saved on a gradient tape, by tape node; the tape's saved tensors are then freed. */
function savedOnTape(f: () => tf.Tensor): { kernel: string; shapes: number[][] }[] {
  const engine = tf.engine() as unknown as EngineInternals;
  engine.startTape();
  let y: tf.Tensor;
  try {
    y = engine.tidy('forward', f);
  } finally {
    engine.endTape();
  }
  const tape = engine.state.activeTape ?? [];
  engine.state.activeTape = null;
  const out = tape.map((n) => ({ kernel: n.kernelName, shapes: (n.saved ?? []).map((t) => t.shape) }));
  for (const n of tape) for (const t of n.saved ?? []) t.dispose();
  y.dispose();
  return out;
}

/** erf in float64: Simpson's rule on 2 / sqrt(pi) exp(-t^2) over [0, x] (error < 1e-10). */
function erf64(x: number): number {
  const n = 2000;
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

// The wasm backend runs native kernels (native/norm_gelu.c), the cpu backend the composed tfjs
// ops inside the same custom gradients: both are checked.
describe.each(['wasm', 'cpu'])('fused ops with lean tapes on %s', (backend) => {
  let x: tf.Tensor;
  let w: tf.Tensor;
  let b: tf.Tensor;
  let dy: tf.Tensor;
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend(backend);
    x = tf.randomNormal([3, 5, 48], 0.3, 2, 'float32', 1);
    w = tf.randomNormal([48], 1, 0.2, 'float32', 2);
    b = tf.randomNormal([48], 0, 0.2, 'float32', 3);
    dy = tf.randomNormal([3, 5, 48], 0, 1, 'float32', 4);
  });
  afterAll(async () => {
    tf.dispose([x, w, b, dy]);
    await tf.setBackend(previous);
  });

  it('layerNorm equals LayerNorm in float64 and the composed ops\' gradients within float32 rounding', () => {
    const before = tf.memory().numTensors;
    const ref = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => composedLayerNorm(a, c, d, 1e-6))([x, w, b], dy);
    const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => layerNorm(a, c as tf.Tensor1D, d as tf.Tensor1D, 1e-6))([x, w, b], dy);
    const y = layerNorm(x, w as tf.Tensor1D, b as tf.Tensor1D, 1e-6);
    const [xv, wv, bv, yv] = [x, w, b, y].map((t) => t.dataSync());
    let worst = 0;
    for (let r = 0; r < 15; r++) {
      const row = Array.from(xv.subarray(r * 48, r * 48 + 48));
      const mean = row.reduce((s2, v) => s2 + v, 0) / 48;
      const rstd = 1 / Math.sqrt(row.reduce((s2, v) => s2 + (v - mean) ** 2, 0) / 48 + 1e-6);
      row.forEach((v, j) => (worst = Math.max(worst, Math.abs(yv[r * 48 + j] - ((v - mean) * rstd * wv[j] + bv[j])))));
    }
    expect(worst).toBeLessThan(4e-6);
    ours.forEach((g, i) => expect(relDiff(g, ref[i])).toBeLessThan(2e-6));
    tf.dispose([ref, ours, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('geluExact equals GELU in float64 and the composed ops\' gradient within float32 rounding', () => {
    const before = tf.memory().numTensors;
    const [ref] = tf.grads((a: tf.Tensor) => composedGelu(a))([x], dy);
    const [ours] = tf.grads((a: tf.Tensor) => geluExact(a))([x], dy);
    const y = geluExact(x);
    const xv = x.dataSync();
    const yv = y.dataSync();
    // A&S 7.1.26 (tfjs's erf and ours) is within 1.5e-7 of erf; then float32 rounding.
    xv.forEach((v, i) => {
      const exact = 0.5 * v * (1 + erf64(v / Math.SQRT2));
      if (!(Math.abs(yv[i] - exact) <= 1.5e-7 * Math.abs(v) + 2.4e-7 * Math.abs(exact) + 1e-30)) throw new Error(`gelu(${v}) = ${yv[i]}, exact ${exact}`);
    });
    expect(relDiff(ours, ref)).toBeLessThan(2e-6);
    tf.dispose([ref, ours, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leanReshape, leanAdd and leanScale have tfjs gradients under leanVariableGrads', () => {
    const v = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 5));
    const f = (reshape: typeof tf.reshape, add: (p: tf.Tensor, q: tf.Tensor) => tf.Tensor, scale: (p: tf.Tensor, s: number) => tf.Tensor) => () =>
      tf.sum(tf.mul(reshape(add(tf.square(v), scale(v, 0.25)), [2, 12]), tf.range(0, 24).reshape([2, 12]))) as tf.Scalar;
    const ref = leanVariableGrads(f(tf.reshape, tf.add, tf.mul), [v]);
    const before = tf.memory().numTensors;
    const ours = leanVariableGrads(f(leanReshape as typeof tf.reshape, leanAdd, leanScale), [v]);
    expect(Array.from(ours.grads[v.name].dataSync())).toEqual(Array.from(ref.grads[v.name].dataSync()));
    tf.dispose([ours.value, ours.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ref.value, ref.grads, v]);
  });

  it('keep only their inputs on the tape: layerNorm x and weight, geluExact x, the lean ops nothing', () => {
    const ones = tf.ones([15, 48]);
    const tape = savedOnTape(() => leanScale(leanAdd(leanReshape(geluExact(layerNorm(x, w as tf.Tensor1D, b as tf.Tensor1D, 1e-5)), [15, 48]), ones), 2));
    ones.dispose();
    expect(tape.flatMap((n) => n.shapes)).toEqual([[3, 5, 48], [48], [3, 5, 48]]);
    const composed = savedOnTape(() => composedGelu(composedLayerNorm(x, w, b, 1e-5)));
    expect(composed.flatMap((n) => n.shapes).length).toBeGreaterThan(8);
  });

  it('leanAdd refuses operands of different shapes', () => {
    expect(() => leanAdd(tf.zeros([2, 3]), tf.zeros([3]))).toThrow(/one shape, got \[2, 3\] and \[3\]/);
  });
});
