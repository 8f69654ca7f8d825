import * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';

/** What a model's `predict` resolves to. */
export interface Prediction {
  logits: number[];
  /** Softmax of the logits. */
  probabilities: number[];
}

/**
 * Runs `logitsOf` with `model` in evaluation mode and reads the logits and their softmax back
 * asynchronously (so it works on every backend); the mode each submodule had is restored and
 * every intermediate tensor freed. The one path behind every model's `predict`.
 *
 * @example
 * const { probabilities } = await predictInEvalMode(net, () => net.forward(tf.expandDims(volume, 0)));
 */
export async function predictInEvalMode(model: Module, logitsOf: () => tf.Tensor): Promise<Prediction> {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    const [logits, probs] = tf.tidy(() => {
      const l = logitsOf();
      return [l, tf.softmax(l)];
    });
    try {
      const [l, p] = await Promise.all([logits.data(), probs.data()]);
      return { logits: Array.from(l), probabilities: Array.from(p) };
    } finally {
      tf.dispose([logits, probs]);
    }
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
}
