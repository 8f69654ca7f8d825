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

describe('fused ops with lean tapes', () => {
  const x = tf.randomNormal([3, 5, 48], 0.3, 2, 'float32', 1);
  const w = tf.randomNormal([48], 1, 0.2, 'float32', 2);
  const b = tf.randomNormal([48], 0, 0.2, 'float32', 3);
  const dy = tf.randomNormal([3, 5, 48], 0, 1, 'float32', 4);
  afterAll(() => tf.dispose([x, w, b, dy]));

  it('layerNorm equals the composed ops (values identical, gradients within float32 rounding)', () => {
    const before = tf.memory().numTensors;
    const ref = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => composedLayerNorm(a, c, d, 1e-6))([x, w, b], dy);
    const ours = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => layerNorm(a, c as tf.Tensor1D, d as tf.Tensor1D, 1e-6))([x, w, b], dy);
    const [y, yRef] = tf.tidy(() => [layerNorm(x, w as tf.Tensor1D, b as tf.Tensor1D, 1e-6), composedLayerNorm(x, w, b, 1e-6)]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(yRef.dataSync()));
    ours.forEach((g, i) => expect(relDiff(g, ref[i])).toBeLessThan(2e-6));
    tf.dispose([ref, ours, y, yRef]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('geluExact equals the composed ops (values identical, gradient within float32 rounding)', () => {
    const before = tf.memory().numTensors;
    const [ref] = tf.grads((a: tf.Tensor) => composedGelu(a))([x], dy);
    const [ours] = tf.grads((a: tf.Tensor) => geluExact(a))([x], dy);
    const [y, yRef] = tf.tidy(() => [geluExact(x), composedGelu(x)]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(yRef.dataSync()));
    expect(relDiff(ours, ref)).toBeLessThan(2e-6);
    tf.dispose([ref, ours, y, yRef]);
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
