import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { Attention } from './attention';
import { LayerNorm } from './layer_norm';
import { LayerScale } from './layer_scale';
import { Mlp } from './mlp';
import { leanAdd } from '../ops/lean_shape';
import { SwiGLUFFN } from './swiglu_ffn';
import type { Rng } from '../utils/rng';

/** The feed-forward kind of a DINOv2 block: `mlp` (ViT-S/B/L) or fused `swiglu` (ViT-g). */
export type FfnLayer = 'mlp' | 'swiglu';

/** Options of {@link Dinov2Block}. */
export interface Dinov2BlockOptions {
  dim: number;
  numHeads: number;
  /** Feed-forward width over E (4). */
  mlpRatio?: number;
  /** Bias on `attn.qkv` (default true, as DINOv2's models). */
  qkvBias?: boolean;
  /** Bias on `attn.proj` (default true). */
  projBias?: boolean;
  /** Biases of the feed-forward (default true). */
  ffnBias?: boolean;
  /** Feed-forward kind (default 'mlp'). */
  ffnLayer?: FfnLayer;
  /** Initial LayerScale gamma; 0 or null means no LayerScale (default 1e-5). */
  layerScaleInit?: number | null;
  /** LayerNorm eps (DINOv2: 1e-6). */
  eps: number;
  /** Seed source for the initial weights. */
  rng?: Rng;
}

/** Output of {@link Dinov2Block.forward}. */
export interface Dinov2BlockOutput {
  /** `[N, T, E]`. */
  output: tf.Tensor3D;
  /** `[N, heads, T, T]` attention probabilities, when asked for. */
  weights?: tf.Tensor4D;
}

/**
 * DINOv2's pre-norm transformer block (`dinov2/layers/block.py`, inference path; drop-path is 0
 * in the released models): `x + ls1(attn(norm1(x)))`, then `x + ls2(mlp(norm2(x)))`. Keys
 * `norm1`, `attn.qkv`, `attn.proj`, `ls1.gamma`, `norm2`, `mlp.fc1`/`mlp.fc2` (or `mlp.w12`/`mlp.w3`),
 * `ls2.gamma`.
 *
 * @example
 * const block = new Dinov2Block({ dim: 384, numHeads: 6, eps: 1e-6 });
 * block.forward(tf.zeros([2, 257, 384]) as tf.Tensor3D).output.shape; // [2, 257, 384]
 */
export class Dinov2Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1?: LayerScale;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp | SwiGLUFFN;
  readonly ls2?: LayerScale;

  constructor(options: Dinov2BlockOptions) {
    super();
    const { dim, rng } = options;
    const hidden = Math.floor(dim * (options.mlpRatio ?? 4));
    const bias = options.ffnBias ?? true;
    const lsInit = options.layerScaleInit === undefined ? 1e-5 : options.layerScaleInit;
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, options.eps));
    this.attn = this.registerModule(
      'attn',
      new Attention({ dim, numHeads: options.numHeads, qkvBias: options.qkvBias ?? true, projBias: options.projBias ?? true, rng }),
    );
    if (lsInit) this.ls1 = this.registerModule('ls1', new LayerScale(dim, lsInit));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, options.eps));
    const ffn = options.ffnLayer ?? 'mlp';
    if (ffn !== 'mlp' && ffn !== 'swiglu') throw new Error(`Dinov2Block: expected ffnLayer 'mlp' or 'swiglu', got '${String(ffn)}'`);
    this.mlp = this.registerModule(
      'mlp',
      ffn === 'mlp' ? new Mlp({ inFeatures: dim, hiddenFeatures: hidden, bias, rng }) : new SwiGLUFFN({ inFeatures: dim, hiddenFeatures: hidden, bias, rng }),
    );
    if (lsInit) this.ls2 = this.registerModule('ls2', new LayerScale(dim, lsInit));
  }

  /** `[N, T, E] -> [N, T, E]`, plus this block's attention probabilities when `returnWeights`. */
  forward(x: tf.Tensor3D, options: { returnWeights?: boolean } = {}): Dinov2BlockOutput {
    return tf.tidy(() => {
      const a = this.attn.forward(this.norm1.forward(x) as tf.Tensor3D, options);
      // Residual adds that keep nothing on the gradient tape (tfjs's Add keeps both inputs).
      const h = leanAdd(x, this.ls1 ? this.ls1.forward(a.output) : a.output);
      const f = this.mlp.forward(this.norm2.forward(h));
      const output = leanAdd(h, this.ls2 ? this.ls2.forward(f) : f) as tf.Tensor3D;
      return a.weights ? { output, weights: a.weights } : { output };
    });
  }
}
