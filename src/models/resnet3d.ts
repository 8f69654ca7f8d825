import type * as tf from '@tensorflow/tfjs';
import { ResNet, type ResNetOptions } from './resnet';
import type { OnnxExportOptions } from '../export/to_onnx';

/** Options of {@link ResNet3D} and its factories: MONAI's `ResNet` arguments for `spatial_dims=3`. */
export type ResNet3DOptions = Partial<Omit<ResNetOptions, 'spatialDims' | 'fcBiasInit'>>;

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
    const { exportOnnx } = await import('../export/to_onnx');
    await exportOnnx(this, path, options);
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
