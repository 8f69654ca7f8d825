import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from '../layers/batch_norm';
import { gelu } from '../layers/gelu';
import { Linear } from '../layers/linear';
import { Module } from '../nn/module';
import { rngOrDefault, torchDefaultUniform, truncNormal } from '../nn/init';
import type { Rng } from '../utils/rng';

/** Options of {@link DinoHead}; the defaults are DINO's `DINOHead`. */
export interface DinoHeadOptions {
  /** Width of the backbone features it projects (the class token's E). */
  inDim: number;
  /** Prototypes K: the width of the softmax output (DINO: 65536). */
  outDim: number;
  /** Hidden width of the MLP (default 2048). */
  hiddenDim?: number;
  /** Width before the last layer, where the features are L2-normalised (default 256). */
  bottleneckDim?: number;
  /** Linear layers of the MLP, 1 to any (default 3). */
  nLayers?: number;
  /**
   * Fix the weight-norm gain of the last layer at 1 (`norm_last_layer`, default true), which
   * DINO found to stabilise training; false trains it.
   */
  normLastLayer?: boolean;
  /**
   * Batch normalisation after each hidden Linear (`use_bn_in_head`, default false; DINO uses it for
   * convolutional backbones). It rescales the differences between the images of a batch before the
   * L2 normalisation, which keeps a small encoder's nearly identical early features apart.
   */
  useBn?: boolean;
  /** Seed source of the initialisation. */
  rng?: Rng;
}

/**
 * The MLP of {@link DinoHead}, PyTorch's `nn.Sequential` of Linear, (BatchNorm1d,) GELU: the
 * children keep their Sequential indices (`mlp.0`, `mlp.2`, `mlp.4`; with batch norm `mlp.0`,
 * `mlp.1`, `mlp.3`, `mlp.4`, `mlp.6`), so the keys match DINO's.
 */
class HeadMlp extends Module {
  readonly layers: { linear: Linear; norm?: BatchNorm }[] = [];

  constructor(widths: number[], useBn: boolean, rng: Rng) {
    super();
    let index = 0;
    for (let i = 0; i + 1 < widths.length; i++) {
      const lin = this.registerModule(String(index++), new Linear(widths[i], widths[i + 1], { rng }));
      // DINO's _init_weights: trunc_normal(std 0.02) weights, zero biases.
      tf.tidy(() => {
        lin.weight.assign(truncNormal([widths[i], widths[i + 1]], 0.02, rng));
        lin.bias?.assign(tf.zeros([widths[i + 1]]));
      });
      const hidden = i + 2 < widths.length;
      const norm = hidden && useBn ? this.registerModule(String(index++), new BatchNorm(widths[i + 1], 2, {}, 'BatchNorm1d')) : undefined;
      if (hidden) index++; // the GELU
      this.layers.push({ linear: lin, norm });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach(({ linear, norm }, i) => {
        h = linear.forward(h);
        if (norm) h = norm.forward(h);
        if (i < this.layers.length - 1) h = gelu(h);
      });
      return h;
    });
  }
}

/**
 * A linear layer without bias under `torch.nn.utils.weight_norm`: `W = g * v / ||v||` with the
 * norm per output row. Keys `weight_g` `[out, 1]` and `weight_v` `[out, in]`.
 */
class WeightNormLinear extends Module {
  /** `[out, 1]`, PyTorch's layout. */
  readonly weightG: tf.Variable;
  /** `[in, out]` (PyTorch's `[out, in]` in the state dict). */
  readonly weightV: tf.Variable;

  constructor(inDim: number, outDim: number, trainGain: boolean, rng: Rng) {
    super();
    this.weightG = this.registerParameter('weight_g', tf.ones([outDim, 1]));
    this.weightG.trainable = trainGain;
    this.weightV = this.registerParameter('weight_v', torchDefaultUniform([inDim, outDim], inDim, rng), 'linear');
  }

  /** `[N, in] -> [N, out]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(this.weightV), 0, true));
      const w = tf.mul(tf.div(this.weightV, norm), tf.transpose(this.weightG));
      return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
    });
  }
}

/**
 * DINO's projection head (`DINOHead`): an MLP (Linear, GELU, ..., Linear to the bottleneck), an
 * L2 normalisation, and a weight-normalised linear layer without bias to `outDim` prototypes. The
 * student's output divided by its temperature and the teacher's centred and sharpened output are
 * the two sides of the DINO loss ({@link dinoLoss}). Keys as DINO's: `mlp.0.*`, `mlp.2.*`,
 * `mlp.4.*`, `last_layer.weight_g`, `last_layer.weight_v`.
 *
 * @example
 * const head = new DinoHead({ inDim: 64, outDim: 1024, hiddenDim: 256, bottleneckDim: 64 });
 * head.forward(tf.zeros([8, 64])).shape; // [8, 1024]
 */
export class DinoHead extends Module {
  readonly inDim: number;
  readonly outDim: number;
  readonly mlp: HeadMlp;
  readonly lastLayer: WeightNormLinear;

  constructor(options: DinoHeadOptions) {
    super();
    const nLayers = options.nLayers ?? 3;
    const hidden = options.hiddenDim ?? 2048;
    const bottleneck = options.bottleneckDim ?? 256;
    for (const [name, v] of [['inDim', options.inDim], ['outDim', options.outDim], ['hiddenDim', hidden], ['bottleneckDim', bottleneck], ['nLayers', nLayers]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`DinoHead: ${name} must be a positive integer, got ${v}`);
    }
    const rng = rngOrDefault(options.rng);
    this.inDim = options.inDim;
    this.outDim = options.outDim;
    const widths = nLayers === 1 ? [options.inDim, bottleneck] : [options.inDim, ...Array<number>(nLayers - 1).fill(hidden), bottleneck];
    this.mlp = this.registerModule('mlp', new HeadMlp(widths, options.useBn ?? false, rng));
    this.lastLayer = this.registerModule('last_layer', new WeightNormLinear(bottleneck, options.outDim, !(options.normLastLayer ?? true), rng));
  }

  /** `[N, inDim] -> [N, outDim]`: the prototype scores, before any temperature. */
  forward(x: tf.Tensor): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.inDim) throw new Error(`DinoHead: expected features [N, ${this.inDim}], got [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = this.mlp.forward(x);
      // F.normalize(dim=-1, eps=1e-12): divide by max(||h||, eps).
      const n = tf.maximum(tf.sqrt(tf.sum(tf.square(h), -1, true)), 1e-12);
      return this.lastLayer.forward(tf.div(h, n)) as tf.Tensor2D;
    });
  }

  /** The parameters of the last layer (DINO leaves them untouched during the first epoch). */
  lastLayerVariables(): tf.Variable[] {
    return this.lastLayer.namedParameters().map(([, v]) => v);
  }
}
