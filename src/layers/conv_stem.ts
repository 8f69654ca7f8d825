import * as tf from '@tensorflow/tfjs';
import { Module, ModuleList } from '../nn/module';
import { rngOrDefault } from '../nn/init';
import { assertRank } from '../utils/check';
import type { Rng } from '../utils/rng';
import { BatchNorm2d } from './batch_norm';
import { Conv2d } from './conv2d';

/** Options of {@link ConvStem}. */
export interface ConvStemOptions {
  /** Input channels of the images. */
  inChannels: number;
  /** Output channels of each 3x3 convolution, first to last (at least one). */
  channels: number[];
  /** Stride of each convolution (default 2 for every one); the product must divide the patch size. */
  strides?: number[];
  /** Seed source of the initialisation. */
  rng?: Rng;
}

/** The JSON-safe part of {@link ConvStemOptions}, as a model configuration stores it. */
export type ConvStemConfig = Pick<ConvStemOptions, 'channels' | 'strides'>;

/**
 * A convolutional stem for small Vision Transformers trained from scratch ("early convolutions",
 * Xiao et al. 2021): 3x3 convolutions (padding 1), each followed by BatchNorm and ReLU, in front of
 * the patch embedding. A ViT's linear patch embedding sees each patch as one flat vector; a few
 * convolutions give it local edge and texture detectors first, which a small model cannot learn
 * from a few hundred cases otherwise. Keys `convs.N.weight` `[O, I, 3, 3]`, `convs.N.bias` and
 * `norms.N.*` (PyTorch's `Conv2d` and `BatchNorm2d`). It trains on every backend: the
 * convolutions' gradients use forward convolutions only (see `src/ops/conv2d.ts`).
 *
 * @example
 * const stem = new ConvStem({ inChannels: 1, channels: [16, 32], strides: [1, 2] });
 * stem.forward(tf.zeros([4, 32, 32, 1]) as tf.Tensor4D).shape; // [4, 16, 16, 32]
 */
export class ConvStem extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Product of the strides: how much smaller the output grid is than the image. */
  readonly stride: number;
  readonly convs: ModuleList<Conv2d>;
  readonly norms: ModuleList<BatchNorm2d>;

  constructor(options: ConvStemOptions) {
    super();
    const { inChannels, channels } = options;
    const strides = options.strides ?? channels.map(() => 2);
    if (channels.length === 0 || strides.length !== channels.length) {
      throw new Error(`ConvStem: expected one stride per convolution and at least one, got channels [${channels.join(', ')}] and strides [${strides.join(', ')}]`);
    }
    if (!channels.every((c) => Number.isInteger(c) && c >= 1) || !strides.every((s) => Number.isInteger(s) && s >= 1)) {
      throw new Error(`ConvStem: expected positive integer channels and strides, got channels [${channels.join(', ')}] and strides [${strides.join(', ')}]`);
    }
    const rng = rngOrDefault(options.rng);
    this.inChannels = inChannels;
    this.outChannels = channels[channels.length - 1];
    this.stride = strides.reduce((a, s) => a * s, 1);
    const convs = channels.map((c, i) => new Conv2d(i === 0 ? inChannels : channels[i - 1], c, { kernelSize: 3, stride: strides[i], padding: 1, rng }));
    this.convs = this.registerModule('convs', new ModuleList(convs));
    this.norms = this.registerModule('norms', new ModuleList(channels.map((c) => new BatchNorm2d(c))));
  }

  /** `[N, H, W, C] -> [N, H / stride, W / stride, outChannels]` (H and W multiples of the stride). */
  forward(images: tf.Tensor4D): tf.Tensor4D {
    assertRank('ConvStem', images.shape, [4], `images [N, H, W, ${this.inChannels}]`);
    const [, h, w, c] = images.shape;
    if (c !== this.inChannels || h % this.stride !== 0 || w % this.stride !== 0) {
      throw new Error(`ConvStem: expected images [N, H, W, ${this.inChannels}] with H and W multiples of ${this.stride}, got [${images.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      this.convs.items.forEach((conv, i) => {
        x = tf.relu(this.norms.items[i].forward(conv.forward(x))) as tf.Tensor4D;
      });
      return x;
    });
  }
}
