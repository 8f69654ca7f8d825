import * as tf from '@tensorflow/tfjs';
import type { MedicalSliceTransformer, Prediction } from '../models/medical_slice_transformer';
import { predictInEvalMode } from '../models/eval_prediction';

/** What {@link predictWithPool} needs of a pool: {@link SliceEncoderPool} (Node) or {@link WebSliceEncoderPool} (browser). */
export interface SliceFeaturePool {
  readonly featureSize: number;
  encode(data: Float32Array, shape: [number, number, number, number]): Promise<Float32Array>;
}

/**
 * {@link MedicalSliceTransformer.predict} with the slice encoder in a {@link SliceEncoderPool}
 * (Node worker threads) or a {@link WebSliceEncoderPool} (browser Web Workers):
 * the volume's slices are encoded on the pool's worker threads (all cores), then the slice
 * fusion and head run here. The pool must hold the model's encoder weights (it copies them at
 * creation). The volume is not disposed.
 *
 * @param volume `[D, H, W]` or `[D, H, W, C]` float32.
 * @example
 * const pool = await SliceEncoderPool.create(model.encoder);
 * const { probabilities } = await predictWithPool(model, pool, tf.randomNormal([32, 224, 224]));
 * await pool.dispose();
 */
export async function predictWithPool(model: MedicalSliceTransformer, pool: SliceFeaturePool, volume: tf.Tensor): Promise<Prediction> {
  if (!(volume instanceof tf.Tensor) || (volume.rank !== 3 && volume.rank !== 4) || volume.dtype !== 'float32') {
    const got = volume instanceof tf.Tensor ? `${volume.dtype} [${volume.shape.join(', ')}]` : typeof volume;
    throw new Error(`predictWithPool: expected one float32 volume [D, H, W] or [D, H, W, C], got ${got}`);
  }
  if (pool.featureSize !== model.encoder.featureSize) {
    throw new Error(`predictWithPool: the pool's encoder gives ${pool.featureSize} features, the model's ${model.encoder.featureSize}`);
  }
  const [D, H, W] = volume.shape;
  const C = volume.rank === 4 ? volume.shape[3] : 1;
  if (C !== 1 && C !== model.encoder.inChannels) throw new Error(`predictWithPool: the encoder takes ${model.encoder.inChannels} channels (or 1, repeated), got ${C}`);
  const features = await pool.encode((await volume.data()) as Float32Array, [D, H, W, C]);
  return predictInEvalMode(model, () => model.fuseFeatures(tf.tensor2d(features, [D, pool.featureSize]), 1, D).logits);
}
