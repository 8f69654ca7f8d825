import * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';

/**
 * DINO's teacher update: every parameter of `teacher` becomes `m * teacher + (1 - m) * student`
 * (the student's parameter of the same state-dict name). Buffers (batch-norm statistics) are the
 * teacher's own, as DINO updates `parameters()` only.
 *
 * @example
 * emaUpdate(teacher, student, 0.996);
 */
export function emaUpdate(teacher: Module, student: Module, momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`emaUpdate: momentum must be in [0, 1], got ${momentum}`);
  const from = new Map(student.namedParameters());
  const pairs = teacher.namedParameters().map(([name, t]) => {
    const s = from.get(name);
    if (!s || !tf.util.arraysEqual(s.shape, t.shape)) throw new Error(`emaUpdate: the student has no parameter '${name}' of shape [${t.shape.join(', ')}]`);
    return [t, s] as const;
  });
  tf.tidy(() => {
    for (const [t, s] of pairs) t.assign(tf.add(tf.mul(t, momentum), tf.mul(s, 1 - momentum)));
  });
}

/**
 * DINO's `clip_gradients`: each gradient whose L2 norm exceeds `clip` is scaled to
 * `clip / (norm + 1e-6)` of itself, parameter by parameter. Returns new tensors and disposes the
 * given ones.
 *
 * @example
 * const clipped = clipGradients(grads, 3.0);
 */
export function clipGradients(grads: tf.NamedTensorMap, clip: number): tf.NamedTensorMap {
  if (!(clip > 0)) throw new Error(`clipGradients: clip must be positive, got ${clip}`);
  const out = tf.tidy(() => {
    const o: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) {
      const coef = tf.div(clip, tf.add(tf.norm(g), 1e-6));
      o[k] = tf.mul(g, tf.minimum(coef, 1));
    }
    return o;
  });
  tf.dispose(grads);
  return out;
}
