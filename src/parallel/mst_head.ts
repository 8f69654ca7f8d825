import * as tf from '@tensorflow/tfjs';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { sliceTransformerForward, type SliceTransformerParts } from '../models/slice_transformer';

/**
 * The part of {@link MedicalSliceTransformer.forward} after the encoder: slice features
 * `[B * D, E]` -> logits `[B, numClasses]` (bottleneck, fusion, linear head). Lets the encoder
 * run elsewhere (in chunks, or in worker threads) while the fusion runs here.
 *
 * @example
 * const logits = tf.tidy(() => mstHeadForward(model, features, 1, 32)); // features [32, 384]
 */
export function mstHeadForward(model: MedicalSliceTransformer, features: tf.Tensor, B: number, D: number): tf.Tensor2D {
  const E = model.encoder.featureSize;
  if (features.rank !== 2 || features.shape[0] !== B * D || features.shape[1] !== E) {
    throw new Error(`mstHeadForward: expected slice features [${B * D}, ${E}] for ${B} x ${D} slices, got [${features.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    let h: tf.Tensor = features;
    if (model.bottleneck) h = model.bottleneck.forward(h);
    h = tf.reshape(h, [B, D, model.width]);
    let fused: tf.Tensor;
    if (model.sliceFusionType === 'transformer') {
      fused = sliceTransformerForward(model as unknown as SliceTransformerParts, h).features;
    } else if (model.sliceFusionType === 'linear') {
      if (D !== model.numSlices) throw new Error(`mstHeadForward: 'linear' fusion was built for ${model.numSlices} slices, got ${D}`);
      fused = tf.reshape(h, [B, D * model.width]);
    } else {
      fused = tf.mean(h, 1);
    }
    return model.linear.forward(fused) as tf.Tensor2D;
  });
}
