import * as tf from '@tensorflow/tfjs';
import { resnetGraph } from '../onnx/encoder_graphs';
import { exportOnnx, type OnnxExportOptions } from '../onnx/onnx_export';
import type { OnnxGraphBuilder } from '../onnx/onnx_graph';
import type { OnnxDim } from '../onnx/onnx_proto';
import type { ModelCapabilities } from './capabilities';
import { predictInEvalMode, type Prediction } from './eval_prediction';
import { ResNet, type ResNetOptions } from './resnet';

/** Options of {@link ResNet3D} and its factories: MONAI's `ResNet` arguments for `spatial_dims=3`. */
export type ResNet3DOptions = Partial<Omit<ResNetOptions, 'spatialDims' | 'fcBiasInit'>>;

/** Options of a MONAI {@link ResNet3D}, block kind and stage sizes included. */
export type ResNet3DConfigOptions = ResNet3DOptions & Pick<ResNetOptions, 'block' | 'layers'>;

/** Everything that rebuilds a 3D ResNet. */
export interface ResNet3DModelConfig {
  model: 'resnet3d';
  options: ResNet3DConfigOptions;
}

/**
 * MONAI's 3D ResNet (`monai.networks.nets.resnet18..152` with `spatial_dims=3`), the baseline of
 * the MST paper: one input channel, conv1 7x7x7 stride 1, max pool, shortcut 'B' with a biased
 * 1x1x1 conv, adaptive average pool and `fc`. Input `[B, D, H, W, 1]` or `[B, D, H, W]`; output
 * `[B, numClasses]`. MONAI checkpoints (and `model.*` of the authors' `ResNet`, prefix removed)
 * load with {@link Module.loadStateDict} directly.
 *
 * @example
 * const net = resnet3d18({ numClasses: 2 }).eval();
 * const logits = net.forward(tf.zeros([1, 32, 224, 224, 1])); // [1, 2]
 */
export class ResNet3D extends ResNet {
  constructor(options: ResNet3DOptions & Pick<ResNetOptions, 'block' | 'layers'>) {
    super({ nInputChannels: 1, ...options, spatialDims: 3, fcBiasInit: 'zero' });
  }

  /**
   * Writes the model as an ONNX graph (opset 17) to `path`, atomically: input `volume`
   * `[batch, slices, height, width]`, output `logits` (see `OnnxExportOptions`). Node only; in
   * the browser use `toOnnxBytes`.
   *
   * @example
   * await resnet3d18({ numClasses: 2 }).exportOnnx('resnet3d18.onnx');
   */
  async exportOnnx(path: string, options?: OnnxExportOptions): Promise<void> {
    await exportOnnx(this, path, options);
  }

  /**
   * Classifies one volume `[D, H, W]` (or `[D, H, W, C]`) in evaluation mode, restoring the
   * mode it found; reads back asynchronously, so it works on every backend. The same result as
   * `MedicalSliceTransformer.predict`, so either model of the registry predicts alike.
   *
   * @example
   * const { probabilities } = await resnet3d18({ numClasses: 2 }).predict(tf.zeros([16, 64, 64]));
   */
  async predict(volume: tf.Tensor): Promise<Prediction> {
    if (!(volume instanceof tf.Tensor) || (volume.rank !== 3 && volume.rank !== 4)) {
      const shape = volume instanceof tf.Tensor ? `[${volume.shape.join(', ')}]` : typeof volume;
      throw new Error(`ResNet3D.predict: expected one volume [D, H, W] or [D, H, W, C], got ${shape}`);
    }
    return predictInEvalMode(this, () => this.forward(tf.expandDims(volume, 0)));
  }

  /** The config that rebuilds this model (`buildModel`). */
  modelConfig(): ResNet3DModelConfig {
    const { spatialDims: _dims, fcBiasInit: _bias, ...options } = this.config;
    return { model: 'resnet3d', options };
  }

  /** What this model can do beyond predicting: Grad-CAM at any named layer, ONNX, block checkpointing. */
  get capabilities(): ModelCapabilities {
    return {
      sliceAttention: false,
      planeAttention: false,
      camLayers: this.camLayerNames(),
      onnx: !!this.fc,
      ...(this.fc ? {} : { onnxMissing: 'the network has no fc head (feedForward false)' }),
      gradients: ['plain', 'block-checkpointed', 'data-parallel'],
      paddingMask: false,
    };
  }

  /** Writes the network into an ONNX graph: input `volume` `[batch, slices, height, width]` (or with channels last), output `logits`. */
  toOnnx(g: OnnxGraphBuilder, options: OnnxExportOptions = {}): void {
    if (options.attention) throw new Error('exportOnnx: ResNet3D has no attention maps (explain it with Grad-CAM in mst-ts)');
    if (!this.fc) throw new Error('exportOnnx: this ResNet3D has no fc head (feedForward false); export needs logits');
    const c = this.nInputChannels;
    if (options.channels !== undefined && options.channels !== c) throw new Error(`exportOnnx: this ResNet3D takes ${c} input channel(s), got channels ${options.channels}`);
    const batch = options.batchSize ?? 'batch';
    const spatial: OnnxDim[] = [options.numSlices ?? 'slices', options.imageSize?.[0] ?? 'height', options.imageSize?.[1] ?? 'width'];
    let x: string;
    if (c === 1) {
      const volume = g.input('volume', [batch, ...spatial], 'float32 volumes [batch, slices, height, width], slices first');
      x = g.op('Unsqueeze', [volume, g.int64s([1])]);
    } else {
      const volume = g.input('volume', [batch, ...spatial, c], `float32 volumes [batch, slices, height, width, ${c}], channels last as mst-ts`);
      x = g.op('Transpose', [volume], { perm: [0, 4, 1, 2, 3] });
    }
    g.output('logits', resnetGraph(g, x, this, true), [batch, this.numClasses], 'class logits [batch, numClasses]');
  }

  /** Accepts `[B, D, H, W, C]`, or `[B, D, H, W]` when there is one input channel. */
  protected override checkInput(x: tf.Tensor): tf.Tensor {
    if (x.rank === 4 && this.nInputChannels === 1) return super.checkInput(x.expandDims(-1));
    if (x.rank !== 5) {
      const gray = this.nInputChannels === 1 ? ' or [B, D, H, W]' : '';
      throw new Error(`ResNet3D: expected input [B, D, H, W, ${this.nInputChannels}]${gray}, got shape [${x.shape.join(', ')}]`);
    }
    return super.checkInput(x);
  }
}

/**
 * 3D ResNet-18 (basic blocks `[2, 2, 2, 2]`), MONAI's `resnet18(spatial_dims=3, n_input_channels=1)`.
 *
 * @example
 * const net = resnet3d18({ numClasses: 2, seed: 1 });
 */
export function resnet3d18(options: ResNet3DOptions = {}): ResNet3D {
  return new ResNet3D({ ...options, block: 'basic', layers: [2, 2, 2, 2] });
}

/**
 * 3D ResNet-34 (basic blocks `[3, 4, 6, 3]`), the authors' default 3D baseline.
 *
 * @example
 * const net = resnet3d34({ numClasses: 2 });
 */
export function resnet3d34(options: ResNet3DOptions = {}): ResNet3D {
  return new ResNet3D({ ...options, block: 'basic', layers: [3, 4, 6, 3] });
}

/**
 * 3D ResNet-50 (bottleneck blocks `[3, 4, 6, 3]`, 2048 features).
 *
 * @example
 * const net = resnet3d50({ numClasses: 2 });
 */
export function resnet3d50(options: ResNet3DOptions = {}): ResNet3D {
  return new ResNet3D({ ...options, block: 'bottleneck', layers: [3, 4, 6, 3] });
}

/**
 * 3D ResNet-101 (bottleneck blocks `[3, 4, 23, 3]`).
 *
 * @example
 * const net = resnet3d101({ numClasses: 2 });
 */
export function resnet3d101(options: ResNet3DOptions = {}): ResNet3D {
  return new ResNet3D({ ...options, block: 'bottleneck', layers: [3, 4, 23, 3] });
}

/**
 * 3D ResNet-152 (bottleneck blocks `[3, 8, 36, 3]`).
 *
 * @example
 * const net = resnet3d152({ numClasses: 2 });
 */
export function resnet3d152(options: ResNet3DOptions = {}): ResNet3D {
  return new ResNet3D({ ...options, block: 'bottleneck', layers: [3, 8, 36, 3] });
}
