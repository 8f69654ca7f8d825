import * as tf from '@tensorflow/tfjs';
import { leanGradients, leanVariableGrads } from './lean_backprop';

describe('leanGradients', () => {
  it('equals tf.grads with an output weight dy, and frees everything but the results', () => {
    const a = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
    const dy = tf.randomNormal([3, 2], 0, 1, 'float32', 3);
    const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor => tf.tanh(tf.add(tf.matMul(x, y), tf.square(tf.sum(x))));
    const ref = tf.grads(f)([a, b], dy);
    const before = tf.memory().numTensors;
    const ours = leanGradients(() => f(a, b), [a, b], dy);
    ours.grads.forEach((g, i) => expect(Array.from((g as tf.Tensor).dataSync())).toEqual(Array.from(ref[i].dataSync())));
    tf.dispose([ours.value, ...(ours.grads as tf.Tensor[])]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, dy, ref]);
  });

  it('recomputes inside a customGrad backward under both tf.grad and leanVariableGrads', () => {
    const x = tf.variable(tf.tensor1d([0.5, -1, 2]));
    // sin(x)^2 whose backward recomputes sin with a nested tape.
    const op = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
      save([t]);
      return {
        value: tf.square(tf.sin(t)),
        gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => {
          const inner = leanGradients(() => tf.square(tf.sin(s)), [s], dy);
          inner.value.dispose();
          return inner.grads[0] as tf.Tensor;
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const expected = [0.5, -1, 2].map((v) => 2 * Math.sin(v) * Math.cos(v) * 3);
    const g1 = tf.grad((t: tf.Tensor) => tf.mul(tf.sum(op(t)), 3))(x);
    const before = tf.memory().numTensors;
    const g2 = leanVariableGrads(() => tf.mul(tf.sum(op(x)), 3) as tf.Scalar, [x]);
    [g1, g2.grads[x.name]].forEach((g) => Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5)));
    tf.dispose([g2.value, g2.grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([g1, x]);
  });
});
