import * as tf from '@tensorflow/tfjs';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { leanVariableGrads, recordForBackward, type RecordedForward } from '../ops/lean_backprop';
import { crossEntropy } from './losses';
import { repeatChannels } from '../ops/repeat_channels';

/** Options of {@link checkpointedGradients}. */
export interface CheckpointedGradientsOptions {
  /**
   * Slices encoded at once (default 8). Peak memory grows with the chunk, not with the volume:
   * only one chunk's encoder activations are alive at a time.
   */
  chunkSize?: number;
  /** `(logits [B, C], labels) -> scalar` (default: mean cross-entropy). */
  lossFn?: (logits: tf.Tensor2D, labels: readonly number[]) => tf.Scalar;
  /** Variables to differentiate (default: every trainable parameter of the model). */
  varList?: tf.Variable[];
  /**
   * MiB of encoder tapes kept from the first pass (default 1024): chunks are encoded with a
   * gradient tape while their tapes fit, and only the others are encoded again in the backward
   * pass, so memory buys back recomputation (a DINOv2-S tape is ~100 MiB per 224-px slice).
   * 0 recomputes every chunk. Encoders with buffers (batch-norm statistics) always recompute.
   */
  tapeBudgetMiB?: number;
}

/** What {@link checkpointedGradients} returns; the caller disposes both. */
export interface CheckpointedGradientsResult {
  loss: tf.Scalar;
  /** Gradients keyed by `tf.Variable.name`, as `tf.variableGrads` returns them. */
  grads: tf.NamedTensorMap;
}

/**
 * The loss and parameter gradients of a {@link MedicalSliceTransformer} training step with
 * activation checkpointing over slices, so memory does not grow with the slice count:
 * 1. every chunk of slices is encoded without a tape, keeping only its features `[chunk, E]`;
 * 2. the fusion and head are differentiated down to the slice features `[B * D, E]`;
 * 3. each chunk is encoded again, this time with a tape, and backpropagated from its slice of the
 *    feature gradient (`sum(features * dFeatures)`), accumulating the encoder's gradients.
 * The encoder runs twice (about 4/3 of a plain step's compute); with a frozen encoder step 3 is
 * skipped. Chunks whose tapes fit `tapeBudgetMiB` keep them from step 1 and skip the second
 * encoding. The gradients equal `tf.variableGrads` of the plain forward for encoders whose output
 * per slice does not depend on the other slices in the batch (DINOv2, ResNet in eval mode, no
 * dropout). Batch-norm layers in training mode see per-chunk statistics; their running statistics
 * are updated once per chunk (the no-tape pass is undone).
 *
 * @param volumes `[B, D, H, W]` or `[B, D, H, W, C]` float32.
 * @param labels `B` class indices.
 * @example
 * const { loss, grads } = checkpointedGradients(model, volumes, [0, 1], { chunkSize: 8 });
 * optimizer.step(grads);
 * tf.dispose([loss, grads]);
 */
export function checkpointedGradients(
  model: MedicalSliceTransformer,
  volumes: tf.Tensor,
  labels: readonly number[],
  options: CheckpointedGradientsOptions = {},
): CheckpointedGradientsResult {
  const chunkSize = options.chunkSize ?? 8;
  if (!(Number.isInteger(chunkSize) && chunkSize > 0)) throw new Error(`checkpointedGradients: chunkSize must be a positive integer, got ${chunkSize}`);
  if (!(volumes instanceof tf.Tensor) || (volumes.rank !== 4 && volumes.rank !== 5) || volumes.dtype !== 'float32') {
    const got = volumes instanceof tf.Tensor ? `${volumes.dtype} [${volumes.shape.join(', ')}]` : typeof volumes;
    throw new Error(`checkpointedGradients: expected float32 volumes [B, D, H, W] or [B, D, H, W, C], got ${got}`);
  }
  const [B, D, H, W] = volumes.shape;
  const C = volumes.rank === 5 ? volumes.shape[4] : 1;
  const want = model.encoder.inChannels;
  if (C !== 1 && C !== want) throw new Error(`checkpointedGradients: the encoder takes ${want} channels (or 1, repeated), got ${C}`);
  if (labels.length !== B) throw new Error(`checkpointedGradients: expected ${B} labels, got ${labels.length}`);
  const lossFn = options.lossFn ?? ((logits, y) => crossEntropy(logits, y) as tf.Scalar);
  const vars = (options.varList ?? model.trainableVariables()).filter((v) => v.trainable);
  const encoderOwn = new Set(model.encoder.namedParameters().map(([, v]) => v));
  const encoderVars = vars.filter((v) => encoderOwn.has(v));
  const headVars = vars.filter((v) => !encoderOwn.has(v));
  const N = B * D;
  // [chunk, H, W, want]: one chunk of the slice stack, gray repeated to the encoder's channels.
  const chunkImages = (start: number, size: number): tf.Tensor4D =>
    tf.tidy(() => {
      const stack = tf.slice(tf.reshape(volumes, [N, H, W, C]), [start, 0, 0, 0], [size, H, W, C]);
      return (C === want ? stack : repeatChannels(stack as tf.Tensor4D, want)) as tf.Tensor4D;
    });
  const chunks: [number, number][] = [];
  for (let s = 0; s < N; s += chunkSize) chunks.push([s, Math.min(chunkSize, N - s)]);

  // 1. Features without a tape; batch-norm statistics are restored afterwards.
  const budget = (options.tapeBudgetMiB ?? 1024) * 2 ** 20;
  if (!(budget >= 0)) throw new Error(`checkpointedGradients: tapeBudgetMiB must be >= 0, got ${options.tapeBudgetMiB}`);
  const buffers = model.encoder.namedBuffers().map(([, v]) => [v, tf.clone(v)] as const);
  // Tapes kept from the first pass, by chunk; a chunk is taped while the tapes so far plus one more
  // of the largest size seen fit the budget.
  const recorded = new Map<number, RecordedForward>();
  let kept = 0;
  let largest = 0;
  const canKeep = (): boolean => buffers.length === 0 && encoderVars.length > 0 && kept + largest <= budget;
  let features: tf.Tensor2D;
  try {
    features = tf.tidy(() =>
      tf.concat(
        chunks.map(([s, n], i) => {
          if (!canKeep()) return tf.tidy(() => checkFeatures(model, model.encoder.encode(chunkImages(s, n)).features, n));
          const images = chunkImages(s, n);
          const rec = recordForBackward(() => checkFeatures(model, model.encoder.encode(images).features, n), encoderVars);
          images.dispose();
          if (kept + rec.savedBytes > budget) {
            // The first chunk's tape alone is over the budget: recompute it like the others.
            rec.dispose();
            largest = rec.savedBytes;
            return rec.value;
          }
          recorded.set(i, rec);
          kept += rec.savedBytes;
          largest = Math.max(largest, rec.savedBytes);
          return tf.keep(rec.value);
        }),
        0,
      ),
    ) as tf.Tensor2D;
  } catch (e) {
    for (const rec of recorded.values()) {
      rec.dispose();
      rec.value.dispose();
    }
    throw e;
  }
  for (const [v, saved] of buffers) {
    v.assign(saved);
    saved.dispose();
  }

  // 2. Head gradients and the gradient of the loss with respect to the features.
  const featureVar = tf.variable(features, true);
  features.dispose();
  const head = leanVariableGrads(() => lossFn(model.fuseFeatures(featureVar, B, D).logits, labels), [...headVars, featureVar]);
  const dFeatures = head.grads[featureVar.name];
  delete head.grads[featureVar.name];
  featureVar.dispose();
  const grads: tf.NamedTensorMap = head.grads;

  // 3. Recompute each chunk with a tape and backpropagate its feature gradient.
  const accumulate = (part: tf.NamedTensorMap): void => {
    for (const [name, g] of Object.entries(part)) {
      const prev = grads[name];
      grads[name] = prev ? tf.add(prev, g) : g;
      if (prev) tf.dispose([prev, g]);
    }
  };
  if (encoderVars.length > 0 && dFeatures) {
    for (const [i, [s, n]] of chunks.entries()) {
      const dy = tf.slice(dFeatures, [s, 0], [n, -1]);
      const rec = recorded.get(i);
      if (rec) {
        recorded.delete(i);
        const g = rec.backward(dy);
        rec.value.dispose();
        const part: tf.NamedTensorMap = {};
        encoderVars.forEach((v, k) => {
          const t = g[k];
          if (t) part[v.name] = t;
        });
        dy.dispose();
        accumulate(part);
        continue;
      }
      const images = chunkImages(s, n);
      const part = leanVariableGrads(() => tf.sum(tf.mul(model.encoder.encode(images).features, dy)) as tf.Scalar, encoderVars);
      tf.dispose([images, dy, part.value]);
      accumulate(part.grads);
    }
  }
  for (const rec of recorded.values()) {
    rec.dispose();
    rec.value.dispose();
  }
  dFeatures?.dispose();
  return { loss: head.value, grads };
}

function checkFeatures(model: MedicalSliceTransformer, feats: tf.Tensor2D, n: number): tf.Tensor2D {
  const E = model.encoder.featureSize;
  if (feats.rank !== 2 || feats.shape[0] !== n || feats.shape[1] !== E) {
    throw new Error(`checkpointedGradients: the encoder returned features [${feats.shape.join(', ')}] for ${n} slices, expected [${n}, ${E}]`);
  }
  return feats;
}
