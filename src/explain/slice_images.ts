import * as tf from '@tensorflow/tfjs';
import { repeatChannels } from '../ops/repeat_channels';

/**
 * The slices of one volume as a slice encoder's images `[D, H, W, inChannels]`: a gray volume
 * `[D, H, W]` (or `[D, H, W, 1]`) repeated to the encoder's channels, as the MST does; a
 * multi-channel volume `[D, H, W, C]` as it is when C is the encoder's channel count.
 *
 * @example
 * const images = sliceImages(volume, mst.encoder.inChannels); // [D, H, W, 3] from a gray [D, H, W]
 */
export function sliceImages(volume: tf.Tensor, inChannels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [d, h, w] = volume.shape;
    const c = volume.rank === 4 ? volume.shape[3] : 1;
    if (volume.rank !== 3 && volume.rank !== 4) throw new Error(`sliceImages: expected a volume [D, H, W] or [D, H, W, C], got shape [${volume.shape.join(', ')}]`);
    if (c !== 1 && c !== inChannels) throw new Error(`sliceImages: the encoder takes ${inChannels} channels (or 1, repeated), got ${c} in [${volume.shape.join(', ')}]`);
    const stack = tf.reshape(volume, [d, h, w, c]);
    return (c === inChannels ? tf.clone(stack) : repeatChannels(stack as tf.Tensor4D, inChannels)) as tf.Tensor4D;
  });
}
