import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { rngOrDefault, torchDefaultUniform } from '../nn/init';
import { linear } from '../ops/linear';
import { assertFloat32, assertRank } from '../utils/check';
import type { Rng } from '../utils/rng';

/** Options of {@link PatchEmbed}. */
export interface PatchEmbedOptions {
  /** Side of a square patch and the stride (14 for DINOv2). */
  patchSize: number;
  /** Input channels (3). */
  inChannels: number;
  /** Token width. */
  embedDim: number;
  /** Seed source for PyTorch's default Conv2d initialisation. */
  rng?: Rng;
}

/**
 * ViT patch embedding, DINOv2's `PatchEmbed`: a `p x p` convolution with stride `p` turning
 * `[N, H, W, C]` images into `[N, (H/p)(W/p), E]` tokens in row-major patch order. It is computed
 * as patch extraction (reshape and transpose) plus one matMul, so it trains on every backend
 * (wasm has no Conv2DBackpropFilter). Keys `proj.weight` `[E, C, p, p]` and `proj.bias` `[E]`,
 * as PyTorch's `nn.Conv2d`.
 *
 * @example
 * const pe = new PatchEmbed({ patchSize: 14, inChannels: 3, embedDim: 384 });
 * pe.forward(tf.zeros([2, 224, 224, 3]) as tf.Tensor4D).shape; // [2, 256, 384]
 */
export class PatchEmbed extends Module {
  readonly patchSize: number;
  readonly inChannels: number;
  readonly embedDim: number;
  /** The projection, PyTorch's `proj` Conv2d. */
  readonly proj: PatchProjection;

  constructor(options: PatchEmbedOptions) {
    super();
    this.patchSize = options.patchSize;
    this.inChannels = options.inChannels;
    this.embedDim = options.embedDim;
    this.proj = this.registerModule('proj', new PatchProjection(options));
  }

  /** Patch grid `[rows, cols]` of an `h x w` image; throws unless both are multiples of the patch size. */
  gridSize(h: number, w: number): [number, number] {
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0 || h <= 0 || w <= 0) {
      throw new Error(`PatchEmbed: expected image height and width that are positive multiples of the patch size ${p}, got ${h}x${w}`);
    }
    return [h / p, w / p];
  }

  /** `[N, H, W, C] -> [N, (H/p)(W/p), E]`. */
  forward(images: tf.Tensor4D): tf.Tensor3D {
    assertRank('PatchEmbed', images.shape, [4], 'images [N, H, W, C]');
    assertFloat32('PatchEmbed', images.dtype);
    const [n, h, w, c] = images.shape;
    if (c !== this.inChannels) throw new Error(`PatchEmbed: expected ${this.inChannels} channels in [N, H, W, C], got shape [${images.shape.join(', ')}]`);
    const [gh, gw] = this.gridSize(h, w);
    const p = this.patchSize;
    return tf.tidy(() => {
      // [N, H, W, C] -> [N*gh, p, gw, p*C] -> [N*gh, gw, p, p*C]: each patch flattened as (kh, kw, C),
      // the order of the [kh, kw, C, E] filter.
      const rows = tf.reshape(images, [n * gh, p, gw, p * c]);
      const patches = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [n * gh * gw, p * p * c]);
      const tokens = this.proj.apply(patches as tf.Tensor2D);
      return tf.reshape(tokens, [n, gh * gw, this.embedDim]) as tf.Tensor3D;
    });
  }
}

/**
 * The `proj` of {@link PatchEmbed}: weight `[p, p, C, E]` in our layout (`conv2d`, PyTorch's
 * `[E, C, p, p]`), bias `[E]`.
 */
export class PatchProjection extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(options: PatchEmbedOptions) {
    super();
    const { patchSize: p, inChannels: c, embedDim: e } = options;
    const rng = rngOrDefault(options.rng);
    const fanIn = c * p * p;
    this.weight = this.registerParameter('weight', torchDefaultUniform([p, p, c, e], fanIn, rng), 'conv2d');
    this.bias = this.registerParameter('bias', torchDefaultUniform([e], fanIn, rng));
  }

  /** Flattened patches `[M, p*p*C] -> [M, E]`. */
  apply(patches: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [p, , c, e] = this.weight.shape;
      const w = tf.reshape(this.weight, [p * p * c, e]) as tf.Tensor2D;
      return linear(patches, w, this.bias as tf.Tensor1D) as tf.Tensor2D;
    });
  }
}
