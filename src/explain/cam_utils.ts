import * as tf from '@tensorflow/tfjs';

/** How a CAM is min-max normalised: over the whole tensor (the authors') or per batch item. */
export type CamNormalization = 'global' | 'perItem' | 'none';

/** The spatial axes `1 .. rank-2` of a channels-last activation `[B, ...spatial, C]`. */
export function spatialAxes(activations: tf.Tensor, what: string): number[] {
  if (activations.rank < 3) {
    throw new Error(`${what}: expected a channels-last activation [B, ...spatial, C] with at least one spatial axis, got [${activations.shape.join(', ')}]`);
  }
  return Array.from({ length: activations.rank - 2 }, (_, i) => i + 1);
}

/**
 * Min-max normalisation of a map to [0, 1]: `(x - min) / (max - min)`. A constant map becomes
 * zeros (the authors' code would divide by zero). 'global' takes min and max over the whole
 * tensor, as the authors' `compute_attention_maps` does over a batch; 'perItem' per batch item.
 *
 * @example
 * normalizeMinMax(tf.tensor([1, 2, 3]), 'global'); // [0, 0.5, 1]
 */
export function normalizeMinMax(x: tf.Tensor, scope: CamNormalization = 'global'): tf.Tensor {
  if (scope === 'none') return tf.clone(x);
  return tf.tidy(() => {
    const axes = scope === 'global' || x.rank === 0 ? undefined : Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
    const lo = tf.min(x, axes, true);
    const range = tf.sub(tf.max(x, axes, true), lo);
    const safe = tf.where(tf.greater(range, 0), range, tf.onesLike(range));
    return tf.div(tf.sub(x, lo), safe);
  });
}

/**
 * The class activation map from channel weights: `relu(sum_c w_c * A_c)` over the channel axis,
 * then min-max normalised.
 *
 * @param activations `[B, ...spatial, C]`
 * @param weights `[B, 1, ..., 1, C]` (or anything broadcasting to the activations)
 * @returns `[B, ...spatial]`
 * @example
 * const cam = camFromWeights(act, gradCamWeights(grad)); // [1, 2, 4, 4, 512] -> [1, 2, 4, 4]
 */
export function camFromWeights(activations: tf.Tensor, weights: tf.Tensor, scope: CamNormalization = 'global'): tf.Tensor {
  spatialAxes(activations, 'camFromWeights');
  return tf.tidy(() => normalizeMinMax(tf.relu(tf.sum(tf.mul(weights, activations), -1)), scope));
}

/** A network whose forward can stop at, and restart from, a named layer (ResNet, ResNet3D, ResNet2D). */
export interface LayeredNetwork {
  /** Input -> the named layer's channels-last output; unknown names throw listing the valid ones. */
  forwardTo(name: string, x: tf.Tensor): tf.Tensor;
  /** The named layer's output -> scores `[B, classes]`. */
  forwardFrom(name: string, activation: tf.Tensor): tf.Tensor;
}

/** A network split at a layer, so gradients can be taken with respect to that layer's output. */
export interface LayerSplit {
  /** Input -> the layer's output (channels-last `[B, ...spatial, C]`). */
  head(input: tf.Tensor): tf.Tensor;
  /** The layer's output -> the scores `[B, classes]` whose gradient drives the CAM. */
  tail(activation: tf.Tensor): tf.Tensor;
}

/** Splits a layered network at a named layer for {@link computeCam}. */
export function splitAt(net: LayeredNetwork, layer: string): LayerSplit {
  return { head: (x) => net.forwardTo(layer, x), tail: (a) => net.forwardFrom(layer, a) };
}

/** Options shared by the CAM methods. */
export interface ComputeCamOptions {
  /**
   * Target score per batch item: one class for all items, or one per item. Default: each item's
   * highest score (the authors' `output.argmax(dim=1)`).
   */
  targetClass?: number | number[];
  /** Min-max scope (default 'global', the authors' normalisation over the whole batch). */
  normalization?: CamNormalization;
}

/** Options of a CAM method at a named layer of a {@link LayeredNetwork}. */
export interface NamedLayerCamOptions extends ComputeCamOptions {
  /** The layer whose output is explained (default 'layer4', the output of its last block). */
  layer?: string;
}

/** What a CAM method returns; the caller disposes the tensors. */
export interface CamResult {
  /** `[B, ...spatial]` at the layer's resolution, ReLU'd and normalised to [0, 1]. */
  cam: tf.Tensor;
  /** The scores `[B, classes]` of the forward pass. */
  scores: tf.Tensor2D;
  /** The class each item's CAM explains. */
  targetClass: number[];
}

/** What {@link computeCamOnDevice} returns: a {@link CamResult} whose targets are still a tensor. */
export interface CamTensors {
  cam: tf.Tensor;
  scores: tf.Tensor2D;
  /** `[B]` int32: the class each item's CAM explains. */
  targets: tf.Tensor1D;
}

/**
 * The CAM machinery shared by Grad-CAM and Grad-CAM++: one forward to the layer, then the tail
 * under `tf.valueAndGrad`, so the gradient of the target scores with respect to the layer's output
 * comes without hooks; `weightsOf(activation, gradient)` gives the channel weights. The input is not
 * disposed and nothing else is left behind. Reading the default target (argmax) is synchronous:
 * on `webgpu`, whose synchronous reads throw in Node, use {@link computeCamOnDevice}.
 *
 * @example
 * const r = computeCam({ head: (x) => net.forwardTo('layer3', x), tail: (a) => net.forwardFrom('layer3', a) }, x,
 *   (a, g) => gradCamWeights(g));
 */
export function computeCam(split: LayerSplit, input: tf.Tensor, weightsOf: (activation: tf.Tensor, grad: tf.Tensor) => tf.Tensor, options: ComputeCamOptions = {}): CamResult {
  const { cam, scores, targets } = computeCamOnDevice(split, input, weightsOf, options);
  const targetClass = Array.from(targets.dataSync());
  targets.dispose();
  return { cam, scores, targetClass };
}

/**
 * {@link computeCam} without reading anything back: the default target (argmax) selects the score
 * on the device, and the targets come back as a tensor the caller reads (asynchronously) and disposes.
 *
 * @example
 * const r = computeCamOnDevice(split, x, (a, g) => gradCamWeights(g));
 * const targetClass = Array.from(await r.targets.data());
 */
export function computeCamOnDevice(split: LayerSplit, input: tf.Tensor, weightsOf: (activation: tf.Tensor, grad: tf.Tensor) => tf.Tensor, options: ComputeCamOptions = {}): CamTensors {
  const normalization = options.normalization ?? 'global';
  let targets: tf.Tensor1D | null = null;
  let scores: tf.Tensor2D | null = null;
  try {
    const cam = tf.tidy(() => {
      const act = split.head(input);
      spatialAxes(act, 'computeCam (layer output)');
      // Errors inside the gradient tape would leave its tensors behind: record them, throw after.
      let failure: Error | null = null;
      const f = (a: tf.Tensor): tf.Scalar => {
        const s = split.tail(a);
        try {
          if (s.rank !== 2) throw new Error(`computeCam: expected scores [B, classes] from the network, got [${s.shape.join(', ')}]`);
          targets = tf.keep(resolveTargets(options.targetClass, s as tf.Tensor2D));
        } catch (err) {
          failure = err as Error;
          return tf.sum(s) as tf.Scalar;
        }
        scores = tf.keep(s) as tf.Tensor2D;
        return tf.sum(tf.mul(s, tf.oneHot(targets, s.shape[1] as number))) as tf.Scalar;
      };
      const { grad } = tf.valueAndGrad(f)(act);
      if (failure) throw failure;
      return camFromWeights(act, weightsOf(act, grad), normalization);
    });
    return { cam, scores: scores as unknown as tf.Tensor2D, targets: targets as unknown as tf.Tensor1D };
  } catch (err) {
    tf.dispose([scores, targets].filter((t) => t !== null) as tf.Tensor[]);
    throw err;
  }
}

/**
 * The CAM of a gradient-free method (Eigen-CAM): one forward to the layer and on to the scores,
 * `weightsOf(activation)` giving the channel weights; as {@link computeCamOnDevice} otherwise.
 *
 * @example
 * const r = computeForwardCamOnDevice(splitAt(net, 'layer4'), x, (a) => eigenCamWeights(a));
 */
export function computeForwardCamOnDevice(split: LayerSplit, input: tf.Tensor, weightsOf: (activation: tf.Tensor) => tf.Tensor, options: ComputeCamOptions = {}): CamTensors {
  return tf.tidy(() => {
    const act = split.head(input);
    spatialAxes(act, 'computeCam (layer output)');
    const scores = split.tail(act);
    if (scores.rank !== 2) throw new Error(`computeCam: expected scores [B, classes] from the network, got [${scores.shape.join(', ')}]`);
    const targets = resolveTargets(options.targetClass, scores as tf.Tensor2D);
    return { cam: camFromWeights(act, weightsOf(act), options.normalization ?? 'global'), scores: scores as tf.Tensor2D, targets };
  });
}

/**
 * The target class per item as an int32 tensor `[B]`: the given class(es), checked against the
 * scores' class count, or each item's argmax.
 *
 * @example
 * resolveTargets(undefined, scores); // argmax per row
 */
export function resolveTargets(target: number | number[] | undefined, scores: tf.Tensor2D): tf.Tensor1D {
  const [b, classes] = scores.shape;
  if (target === undefined) return tf.argMax(scores, 1) as tf.Tensor1D;
  const list = typeof target === 'number' ? new Array<number>(b).fill(target) : target;
  if (list.length !== b) throw new Error(`computeCam: expected ${b} target classes (one per item), got ${list.length}`);
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`computeCam: target class ${c} is out of range: the network has ${classes} classes (0..${classes - 1})`);
  }
  return tf.tensor1d(list, 'int32');
}
