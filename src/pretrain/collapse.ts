import * as tf from '@tensorflow/tfjs';

/** What a batch tells about the teacher, logged every step (means over an epoch in the log). */
export interface TeacherStats {
  /** Mean entropy of the teacher's target distributions, in nats (0: one-hot; log K: uniform). */
  entropy: number;
  /** Entropy of the batch's mean target distribution: how many prototypes the batch uses, log-scaled. */
  marginalEntropy: number;
  /**
   * Per-dimension std over the batch of the L2-normalised class-token features, averaged over
   * dimensions and multiplied by sqrt(E): about 1 for features spread over the sphere, 0 when
   * every image maps to the same vector.
   */
  featureStd: number;
}

/**
 * The {@link TeacherStats} of a batch: `targets` `[N, K]` are the teacher's centred, sharpened
 * probabilities, `features` `[N, E]` its backbone's class tokens.
 *
 * @example
 * const s = await teacherStats(targets, features); // { entropy, marginalEntropy, featureStd }
 */
export async function teacherStats(targets: tf.Tensor2D, features: tf.Tensor2D): Promise<TeacherStats> {
  const e = features.shape[1];
  const [h, hm, std] = tf.tidy(() => {
    const plogp = (p: tf.Tensor, axis: number): tf.Tensor => tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), axis));
    const x = tf.div(features, tf.maximum(tf.norm(features, 2, 1, true), 1e-12));
    return [tf.mean(plogp(targets, 1)), plogp(tf.mean(targets, 0), 0), tf.mul(tf.mean(tf.sqrt(tf.moments(x, 0).variance)), Math.sqrt(e))];
  });
  const [entropy, marginalEntropy, featureStd] = (await Promise.all([h.data(), hm.data(), std.data()])).map((d) => d[0]);
  tf.dispose([h, hm, std]);
  return { entropy, marginalEntropy, featureStd };
}

/** Thresholds of {@link collapseDiagnosis}. */
export interface CollapseThresholds {
  /** Below this {@link TeacherStats.featureStd} the features are the same for every image (default 0.05). */
  minFeatureStd?: number;
  /** Below this marginal entropy (nats) the whole batch falls on one or two prototypes (default log 2). */
  minMarginalEntropy?: number;
  /** Above this fraction of log K the teacher's targets are uniform (default 0.98). */
  maxEntropyFraction?: number;
}

/**
 * Names the collapse DINO guards against, from an epoch's mean {@link TeacherStats} over `k`
 * prototypes, or returns null for a healthy run: every image mapped to one feature vector (the
 * representation collapsed), every image mapped to the same prototype (too little centring), or a
 * uniform teacher (too little sharpening).
 *
 * @example
 * collapseDiagnosis({ entropy: 0.1, marginalEntropy: 0.2, featureStd: 0.01 }, 1024); // 'features ...'
 */
export function collapseDiagnosis(stats: TeacherStats, k: number, thresholds: CollapseThresholds = {}): string | null {
  const minStd = thresholds.minFeatureStd ?? 0.05;
  const minMarginal = thresholds.minMarginalEntropy ?? Math.log(2);
  const maxFrac = thresholds.maxEntropyFraction ?? 0.98;
  const problems: string[] = [];
  if (!(stats.featureStd >= minStd)) problems.push(`features collapsed: every image gets nearly the same class token (feature std ${stats.featureStd.toFixed(3)} x sqrt(E), below ${minStd})`);
  if (!(stats.marginalEntropy >= minMarginal)) problems.push(`prototypes collapsed: the teacher puts every image on the same prototype (batch entropy ${stats.marginalEntropy.toFixed(3)} nats, below ${minMarginal.toFixed(3)}); centring is too weak`);
  if (!(stats.entropy <= maxFrac * Math.log(k))) problems.push(`uniform teacher: its targets are nearly uniform over the ${k} prototypes (entropy ${stats.entropy.toFixed(3)} of at most ${Math.log(k).toFixed(3)} nats); sharpening is too weak`);
  return problems.length ? problems.join('; ') : null;
}
