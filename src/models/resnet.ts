import * as tf from '@tensorflow/tfjs';
import { adaptiveAvgPool } from '../layers/adaptive_avg_pool';
import type { BatchNorm } from '../layers/batch_norm';
import { Linear } from '../layers/linear';
import { MaxPool2d, MaxPool3d } from '../layers/max_pool';
import {
  BasicBlock,
  Bottleneck,
  Downsample,
  batchNormNd,
  convNd,
  type ConvNd,
  type Shortcut,
  type SpatialDims,
} from '../layers/resnet_blocks';
import { Module, ModuleList } from '../nn/module';
import { Rng } from '../utils/rng';

/** Residual block kind: two 3x3 convolutions or the 1x1-3x3-1x1 bottleneck. */
export type ResNetBlockKind = 'basic' | 'bottleneck';

/** Options of {@link ResNet}, MONAI's `ResNet` arguments in camelCase. */
export interface ResNetOptions {
  /** Block kind. */
  block: ResNetBlockKind;
  /** Blocks per stage, e.g. `[2, 2, 2, 2]` for ResNet-18. */
  layers: [number, number, number, number];
  /** 2 for images `[N, H, W, C]`, 3 for volumes `[B, D, H, W, C]`. */
  spatialDims: SpatialDims;
  /** Input channels of `conv1`. */
  nInputChannels: number;
  /** Stage widths before `widenFactor` (default `[64, 128, 256, 512]`). */
  blockInplanes?: [number, number, number, number];
  /** Kernel size of `conv1`, one or per axis (default 7); padding is `k // 2`. */
  conv1TSize?: number | number[];
  /** Stride of `conv1`, one or per axis (default 1, MONAI's; torchvision uses 2). */
  conv1TStride?: number | number[];
  /** Skip the 3x3 stride-2 max pool after the stem (default false). */
  noMaxPool?: boolean;
  /** 'B' (default): 1x1 conv + norm shortcut; 'A': strided identity with zero channels. */
  shortcutType?: 'A' | 'B';
  /** Multiplies every stage width (default 1). */
  widenFactor?: number;
  /** Classes of the `fc` head (default 400, MONAI's). */
  numClasses?: number;
  /** Add the `fc` head (default true); without it the output is the pooled features. */
  feedForward?: boolean;
  /** Bias in the shortcut 'B' convolution (default true, MONAI's; torchvision has none). */
  biasDownsample?: boolean;
  /** `fc` bias init: 'zero' as MONAI (default) or 'torch-default' as torchvision. */
  fcBiasInit?: 'zero' | 'torch-default';
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /**
   * Leave conv weights zero instead of drawing the Kaiming initialisation, for a checkpoint
   * loaded right after (a ResNet3D-152 draws 117 M normals, tens of seconds in JavaScript).
   */
  skipInit?: boolean;
}

/** What {@link ResNet.forwardWithIntermediates} returns; the caller disposes every tensor. */
export interface ResNetIntermediates {
  /** `[B, numClasses]` (the pooled features `[B, C]` without an `fc` head). */
  logits: tf.Tensor2D;
  /** The requested layer outputs, channels-last (`avgpool` is `[B, C]`). */
  intermediates: Record<string, tf.Tensor>;
}

interface Step {
  name: string;
  run: (x: tf.Tensor) => tf.Tensor;
}

const STAGES = ['layer1', 'layer2', 'layer3', 'layer4'] as const;

/**
 * The ResNet of MONAI's `monai.networks.nets.ResNet`, for 2D and 3D (Hara et al.'s 3D ResNets;
 * with `conv1TStride: 2` and no shortcut bias it is torchvision's ResNet). Channels-last input;
 * state-dict keys as PyTorch: `conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`, `fc`.
 *
 * Any named layer's output can be read and the rest of the network run from it, without hooks:
 * the names are those of {@link layerNames}, i.e. `conv1`, `bn1`, `relu` (alias `act`),
 * `maxpool`, `layerK.i` (block outputs), `layerK` (its last block), `avgpool` (`[B, C]`).
 * For Grad-CAM at `layer4`: `forwardTo('layer4', x)`, then `tf.grad` of `forwardFrom('layer4', a)`.
 *
 * @example
 * const net = new ResNet({ block: 'basic', layers: [2, 2, 2, 2], spatialDims: 3, nInputChannels: 1, numClasses: 2 }).eval();
 * const { logits, intermediates } = net.forwardWithIntermediates(tf.zeros([1, 16, 64, 64, 1]), ['layer4']);
 * intermediates.layer4.shape; // [1, 1, 4, 4, 512]
 */
export class ResNet extends Module {
  readonly spatialDims: SpatialDims;
  readonly nInputChannels: number;
  /** Channels of the `layer4` output (512 or 2048 at widen factor 1). */
  readonly featureChannels: number;
  readonly numClasses: number;
  readonly conv1: ConvNd;
  readonly bn1: BatchNorm;
  readonly maxpool?: MaxPool2d | MaxPool3d;
  readonly stages: ModuleList<BasicBlock | Bottleneck>[];
  readonly fc?: Linear;
  /** The options it was built with (without `skipInit`), JSON-safe, so `new ResNet(config)` rebuilds it. */
  readonly config: ResNetOptions;
  private readonly steps: Step[];
  private readonly aliases: Record<string, string>;

  constructor(options: ResNetOptions) {
    super();
    this.config = { ...options };
    delete this.config.skipInit;
    const {
      block,
      layers,
      spatialDims: dims,
      nInputChannels,
      conv1TSize = 7,
      conv1TStride = 1,
      noMaxPool = false,
      shortcutType = 'B',
      widenFactor = 1,
      numClasses = 400,
      feedForward = true,
      biasDownsample = true,
      fcBiasInit = 'zero',
    } = options;
    if (dims !== 2 && dims !== 3) throw new Error(`ResNet: spatialDims must be 2 or 3, got ${String(dims)}`);
    if (block !== 'basic' && block !== 'bottleneck') throw new Error(`ResNet: block must be 'basic' or 'bottleneck', got '${String(block)}'`);
    if (shortcutType !== 'A' && shortcutType !== 'B') throw new Error(`ResNet: shortcutType must be 'A' or 'B', got '${String(shortcutType)}'`);
    if (layers.length !== 4 || !layers.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`ResNet: layers must be 4 positive integers, got [${layers.join(', ')}]`);
    if (!(Number.isInteger(nInputChannels) && nInputChannels >= 1)) throw new Error(`ResNet: nInputChannels must be a positive integer, got ${nInputChannels}`);
    if (feedForward && !(Number.isInteger(numClasses) && numClasses >= 1)) throw new Error(`ResNet: numClasses must be a positive integer, got ${numClasses}`);
    const rng = new Rng(options.seed ?? 0);
    const Block = block === 'basic' ? BasicBlock : Bottleneck;
    const planes = (options.blockInplanes ?? [64, 128, 256, 512]).map((p) => Math.trunc(p * widenFactor));
    this.spatialDims = dims;
    this.nInputChannels = nInputChannels;

    const kernel = perAxis('conv1TSize', conv1TSize, dims);
    const skipInit = options.skipInit ?? false;
    const init = skipInit ? 'zeros' : 'kaiming-normal-fan-out';
    this.conv1 = this.registerModule('conv1', convNd(dims, nInputChannels, planes[0], {
      kernelSize: kernel,
      stride: perAxis('conv1TStride', conv1TStride, dims),
      padding: kernel.map((k) => Math.floor(k / 2)),
      bias: false,
      init,
      rng,
    }));
    this.bn1 = this.registerModule('bn1', batchNormNd(dims, planes[0]));
    if (!noMaxPool) {
      const pool = { kernelSize: 3, stride: 2, padding: 1 };
      this.maxpool = this.registerModule('maxpool', dims === 2 ? new MaxPool2d(pool) : new MaxPool3d(pool));
    }

    let inPlanes = planes[0];
    this.stages = STAGES.map((stageName, k) => {
      const stride = k === 0 ? 1 : 2;
      const out = planes[k] * Block.expansion;
      let shortcut: Shortcut | undefined;
      if (stride !== 1 || inPlanes !== out) {
        shortcut = shortcutType === 'A' ? { type: 'A', outChannels: out, stride } : new Downsample(dims, inPlanes, out, { stride, bias: biasDownsample, rng, skipInit });
      }
      const blocks: (BasicBlock | Bottleneck)[] = [new Block(inPlanes, planes[k], { spatialDims: dims, stride, shortcut, rng, skipInit })];
      inPlanes = out;
      for (let i = 1; i < layers[k]; i++) blocks.push(new Block(inPlanes, planes[k], { spatialDims: dims, rng, skipInit }));
      return this.registerModule(stageName, new ModuleList<BasicBlock | Bottleneck>(blocks));
    });
    this.featureChannels = inPlanes;
    this.numClasses = feedForward ? numClasses : inPlanes;
    if (feedForward) {
      this.fc = this.registerModule('fc', new Linear(inPlanes, numClasses, { rng }));
      const bias = this.fc.bias;
      if (fcBiasInit === 'zero' && bias) tf.tidy(() => bias.assign(tf.zerosLike(bias)));
    }

    const steps: Step[] = [
      { name: 'conv1', run: (x) => this.conv1.forward(x) },
      { name: 'bn1', run: (x) => this.bn1.forward(x) },
      { name: 'relu', run: (x) => tf.relu(x) },
    ];
    const pool = this.maxpool;
    if (pool) steps.push({ name: 'maxpool', run: (x) => pool.forward(x) });
    this.aliases = { act: 'relu' };
    this.stages.forEach((stage, k) => {
      stage.items.forEach((b, i) => steps.push({ name: `${STAGES[k]}.${i}`, run: (x) => b.forward(x) }));
      this.aliases[STAGES[k]] = `${STAGES[k]}.${stage.length - 1}`;
    });
    steps.push({ name: 'avgpool', run: (x) => tf.reshape(adaptiveAvgPool(x, new Array<number>(dims).fill(1)), [x.shape[0], -1]) });
    const fc = this.fc;
    if (fc) steps.push({ name: 'fc', run: (x) => fc.forward(x) });
    this.steps = steps;
  }

  /**
   * The layers Grad-CAM can cut at: every named layer before the pooling, plus the aliases
   * (`layer4` for its last block, `act` for `relu`).
   */
  camLayerNames(): string[] {
    return [...this.layerNames().filter((n) => n !== 'avgpool' && n !== 'fc'), ...Object.keys(this.aliases)];
  }

  /** Names accepted by the intermediate-layer methods, in forward order (aliases excluded). */
  layerNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /** `[B, ...S, nInputChannels] -> [B, numClasses]` logits (pooled features without `fc`). */
  forward(x: tf.Tensor): tf.Tensor2D {
    return this.withInput(x, (input) => this.runSteps(input, 0, this.steps.length)) as tf.Tensor2D;
  }

  /** The `layer4` output `[B, ...S', featureChannels]`, before pooling. */
  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return this.forwardTo('layer4', x);
  }

  /** Pooling and `fc` on `layer4` features: `[B, ...S', C] -> [B, numClasses]`. */
  forwardHead(features: tf.Tensor): tf.Tensor2D {
    return this.forwardFrom('layer4', features);
  }

  /** The output of the named layer (see {@link layerNames}) for the input `x`. */
  forwardTo(name: string, x: tf.Tensor): tf.Tensor {
    const end = this.stepIndex(name) + 1;
    return this.withInput(x, (input) => this.runSteps(input, 0, end));
  }

  /**
   * Runs the network from the output of the named layer to the logits, so gradients with
   * respect to that activation can be taken with `tf.grad` (Grad-CAM at any layer).
   */
  forwardFrom(name: string, activation: tf.Tensor): tf.Tensor2D {
    return this.runSteps(activation, this.stepIndex(name) + 1, this.steps.length) as tf.Tensor2D;
  }

  /** Runs the network from the output of layer `from` to the output of layer `to` (inclusive). */
  forwardBetween(from: string, to: string, activation: tf.Tensor): tf.Tensor {
    const start = this.stepIndex(from) + 1;
    const end = this.stepIndex(to) + 1;
    if (end < start) throw new Error(`ResNet: layer '${to}' comes before '${from}'`);
    return this.runSteps(activation, start, end);
  }

  /**
   * Logits plus the outputs of the named layers, in one forward pass.
   *
   * @example
   * const { logits, intermediates } = net.forwardWithIntermediates(x, ['layer3', 'layer4']);
   */
  forwardWithIntermediates(x: tf.Tensor, names: string[]): ResNetIntermediates {
    const wanted = new Map<number, string[]>();
    for (const n of names) {
      const i = this.stepIndex(n);
      wanted.set(i, [...(wanted.get(i) ?? []), n]);
    }
    const intermediates: Record<string, tf.Tensor> = {};
    const logits = this.withInput(x, (input) =>
      this.runSteps(input, 0, this.steps.length, (i, t) => {
        for (const n of wanted.get(i) ?? []) intermediates[n] = tf.clone(t);
      }),
    ) as tf.Tensor2D;
    return { logits, intermediates };
  }

  /** Validates and reshapes the input to `[B, ...S, C]`; subclasses accept other layouts. */
  protected checkInput(x: tf.Tensor): tf.Tensor {
    const rank = this.spatialDims + 2;
    const layout = this.spatialDims === 3 ? '[B, D, H, W, C]' : '[N, H, W, C]';
    if (x.rank !== rank || x.shape[rank - 1] !== this.nInputChannels) {
      throw new Error(`ResNet: expected input ${layout} with C = ${this.nInputChannels}, got shape [${x.shape.join(', ')}]`);
    }
    if (x.dtype !== 'float32') throw new Error(`ResNet: expected dtype float32, got ${x.dtype}`);
    return x;
  }

  /** Runs `fn` on the checked input and frees any reshaped copy `checkInput` made. */
  private withInput(x: tf.Tensor, fn: (input: tf.Tensor) => tf.Tensor): tf.Tensor {
    const input = this.checkInput(x);
    try {
      return fn(input);
    } finally {
      if (input !== x) input.dispose();
    }
  }

  private stepIndex(name: string): number {
    const resolved = this.aliases[name] ?? name;
    const i = this.steps.findIndex((s) => s.name === resolved);
    if (i < 0) throw new Error(`ResNet: unknown layer '${name}'; expected one of ${[...this.layerNames(), ...Object.keys(this.aliases)].join(', ')}`);
    return i;
  }

  /**
   * Runs steps [from, to) on `x`. Each intermediate is freed as soon as the next exists, so the
   * peak memory of a forward pass is two activations (tfjs's tape keeps its own copies of what a
   * gradient needs). `x` itself is never disposed; when `to <= from` a clone of it is returned.
   */
  private runSteps(x: tf.Tensor, from: number, to: number, visit?: (index: number, t: tf.Tensor) => void): tf.Tensor {
    let cur = x;
    for (let i = from; i < to; i++) {
      const next = tf.tidy(() => this.steps[i].run(cur));
      if (cur !== x) cur.dispose();
      cur = next;
      visit?.(i, cur);
    }
    return cur === x ? tf.clone(x) : cur;
  }
}

function perAxis(what: string, v: number | number[], dims: number): number[] {
  const out = typeof v === 'number' ? new Array<number>(dims).fill(v) : v.slice();
  if (out.length !== dims || !out.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`ResNet: ${what} must be a positive integer or ${dims} of them, got ${JSON.stringify(v)}`);
  }
  return out;
}
