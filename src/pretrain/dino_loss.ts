import * as tf from '@tensorflow/tfjs';

/**
 * The teacher's targets: `softmax((teacherOut - center) / temp)` over the prototypes, DINO's
 * centring (against collapse onto one prototype) and sharpening (against the uniform output).
 *
 * @param teacherOut `[N, K]` head outputs of the teacher on the global crops.
 * @param center `[1, K]` or `[K]`.
 * @example
 * const q = teacherTargets(tf.randomNormal([4, 16]) as tf.Tensor2D, tf.zeros([1, 16]), 0.04);
 */
export function teacherTargets(teacherOut: tf.Tensor2D, center: tf.Tensor, temp: number): tf.Tensor2D {
  if (!(temp > 0)) throw new Error(`teacherTargets: temperature must be positive, got ${temp}`);
  return tf.tidy(() => tf.softmax(tf.div(tf.sub(teacherOut, center), temp)) as tf.Tensor2D);
}

/**
 * DINO's loss (`DINOLoss.forward` without the centre update): the cross-entropy between every
 * teacher target and every student view but the same one, averaged over the batch and over the
 * pairs. Rows are crop-major, as DINO's `MultiCropWrapper` orders them: the student's `[nCrops *
 * B, K]` are global crop 1 (B images), global crop 2, then the local crops; the teacher's targets
 * `[nGlobal * B, K]` are global crops 1 and 2.
 *
 * @param studentOut raw head outputs of the student (divided here by `studentTemp`, DINO: 0.1).
 * @param targets the teacher's probabilities ({@link teacherTargets}), constants for the gradient.
 * @example
 * const loss = dinoLoss(studentOut, teacherTargets(teacherOut, center, 0.04), 6);
 */
export function dinoLoss(studentOut: tf.Tensor2D, targets: tf.Tensor2D, nCrops: number, studentTemp = 0.1): tf.Scalar {
  const [rows, k] = studentOut.shape;
  if (!(Number.isInteger(nCrops) && nCrops >= 1 && rows % nCrops === 0)) {
    throw new Error(`dinoLoss: the student's ${rows} rows are not ${nCrops} crops of the same batch`);
  }
  const b = rows / nCrops;
  const nGlobal = targets.shape[0] / b;
  if (targets.shape[1] !== k || !Number.isInteger(nGlobal) || nGlobal < 1) {
    throw new Error(`dinoLoss: expected teacher targets [g * ${b}, ${k}], got [${targets.shape.join(', ')}]`);
  }
  const pairs = nGlobal * nCrops - Math.min(nGlobal, nCrops);
  if (pairs === 0) throw new Error('dinoLoss: one crop has no other view to be compared with');
  return tf.tidy(() => {
    const ls = tf.reshape(tf.logSoftmax(tf.div(studentOut, studentTemp)), [nCrops, b, k]);
    const q = tf.reshape(targets, [nGlobal, b, k]);
    // Every (teacher view, student view) pair, minus those of a view with itself.
    const all = tf.sum(tf.mul(tf.sum(q, 0), tf.sum(ls, 0)));
    const same = Math.min(nGlobal, nCrops);
    const self = tf.sum(tf.mul(tf.slice(q, [0, 0, 0], [same, b, k]), tf.slice(ls, [0, 0, 0], [same, b, k])));
    return tf.div(tf.neg(tf.sub(all, self)), b * pairs) as tf.Scalar;
  });
}

/**
 * DINO's centre update, `center = m * center + (1 - m) * mean(teacherOut)` over the batch (rows).
 * The new centre replaces the variable's value.
 *
 * @example
 * updateCenter(center, teacherOut, 0.9);
 */
export function updateCenter(center: tf.Variable, teacherOut: tf.Tensor2D, momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`updateCenter: momentum must be in [0, 1], got ${momentum}`);
  tf.tidy(() => {
    const batch = tf.reshape(tf.mean(teacherOut, 0), center.shape);
    center.assign(tf.add(tf.mul(center, momentum), tf.mul(batch, 1 - momentum)));
  });
}
