import * as tf from '@tensorflow/tfjs';
import { camFromWeights, resolveTargets, spatialAxes, type CamResult, type LayeredNetwork, type NamedLayerCamOptions } from './cam_utils';
import { trilinearUpsample } from './trilinear_upsample';

/** Options of {@link scoreCam} and {@link scoreCamChannelWeights}. */
export interface ScoreCamOptions {
  /** Masked inputs per forward pass (default 8). */
  batchSize?: number;
  /**
   * At most this many masked forward passes per item (default: one per channel). When the layer
   * has more channels, those whose maps vary the most (largest max - min) are kept and the others
   * weigh 0: a constant map gives an empty mask and no information.
   */
  maxForwardPasses?: number;
}

function positiveInt(what: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`scoreCam: ${what} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Score-CAM channel weights (Wang et al. 2020, Algorithm 1) for one item: each channel's map is
 * upsampled to the input (trilinear, `align_corners=False`), min-max normalised to [0, 1], and
 * multiplies the input; the target class's softmax probability on each masked input, passed
 * through a softmax over the channels, is the channel's weight. No gradient; one forward pass
 * per channel, batched. `classify` runs the whole model.
 *
 * @param activation the layer's output for one item, `[1, ...s, C]` (s: 2 or 3 spatial axes)
 * @param input that item's input `[1, ...S, Cin]` with as many spatial axes
 * @param classify `[n, ...S, Cin]` -> scores `[n, classes]`
 * @param target the class explained
 * @returns `[1, 1, ..., 1, C]`
 * @example
 * const w = await scoreCamChannelWeights(act, x, (xs) => net.forward(xs), 1, { batchSize: 16 });
 */
export async function scoreCamChannelWeights(
  activation: tf.Tensor,
  input: tf.Tensor,
  classify: (inputs: tf.Tensor) => tf.Tensor,
  target: number,
  options: ScoreCamOptions = {},
): Promise<tf.Tensor> {
  const axes = spatialAxes(activation, 'scoreCamChannelWeights');
  if (activation.shape[0] !== 1 || input.shape[0] !== 1 || input.rank !== activation.rank || (axes.length !== 2 && axes.length !== 3)) {
    throw new Error(
      `scoreCamChannelWeights: expected one item's activation [1, ...s, C] and input [1, ...S, Cin] with 2 or 3 spatial axes each, got [${activation.shape.join(', ')}] and [${input.shape.join(', ')}]`,
    );
  }
  const batchSize = positiveInt('batchSize', options.batchSize ?? 8);
  const c = activation.shape[activation.rank - 1];
  const budget = Math.min(c, positiveInt('maxForwardPasses', options.maxForwardPasses ?? c));
  let channels = Array.from({ length: c }, (_, i) => i);
  if (budget < c) {
    const range = tf.tidy(() => tf.reshape(tf.sub(tf.max(activation, axes), tf.min(activation, axes)), [c]));
    const r = await range.data();
    range.dispose();
    channels = channels.sort((a, b) => r[b] - r[a] || a - b).slice(0, budget).sort((a, b) => a - b);
  }
  const spatial = input.shape.slice(1, -1);
  const size = (spatial.length === 3 ? spatial : [1, ...spatial]) as [number, number, number];
  const probs = new Float64Array(channels.length);
  for (let i = 0; i < channels.length; i += batchSize) {
    const chunk = channels.slice(i, i + batchSize);
    const p = tf.tidy(() => {
      const a = tf.gather(activation, tf.tensor1d(chunk, 'int32'), activation.rank - 1);
      const up = trilinearUpsample(axes.length === 3 ? a : tf.expandDims(a, 1), { size }); // [1, D, H, W, k]
      const lo = tf.min(up, [0, 1, 2, 3], true);
      const range = tf.sub(tf.max(up, [0, 1, 2, 3], true), lo);
      const masks = tf.div(tf.sub(up, lo), tf.where(tf.greater(range, 0), range, tf.onesLike(range)));
      const perChannel = tf.reshape(tf.transpose(masks, [4, 1, 2, 3, 0]), [chunk.length, ...spatial, 1]);
      const scores = classify(tf.mul(input, perChannel));
      return tf.reshape(tf.slice(tf.softmax(scores), [0, target], [chunk.length, 1]), [chunk.length]);
    });
    probs.set(await p.data(), i);
    p.dispose();
  }
  // Softmax over the kept channels, in float64.
  const top = Math.max(...probs);
  const e = Array.from(probs, (v) => Math.exp(v - top));
  const total = e.reduce((s, v) => s + v, 0);
  const w = new Float32Array(c);
  channels.forEach((ch, k) => (w[ch] = e[k] / total));
  return tf.tensor(w, [1, ...axes.map(() => 1), c]);
}

/**
 * Score-CAM of a network with named layers at any layer (default `layer4`): gradient-free, one
 * forward pass per channel (batched, at most `maxForwardPasses` per item); 2D and 3D alike.
 *
 * @example
 * const { cam } = await scoreCam(resnet3d, volumes, { layer: 'layer4', batchSize: 16, maxForwardPasses: 128 });
 */
export async function scoreCam(net: LayeredNetwork, input: tf.Tensor, options: NamedLayerCamOptions & ScoreCamOptions = {}): Promise<CamResult> {
  const layer = options.layer ?? 'layer4';
  const act = net.forwardTo(layer, input);
  const kept: tf.Tensor[] = [act];
  const weights: tf.Tensor[] = [];
  try {
    const scores = net.forwardFrom(layer, act) as tf.Tensor2D;
    kept.push(scores);
    const targets = resolveTargets(options.targetClass, scores);
    const targetClass = Array.from(await targets.data());
    targets.dispose();
    const classify = (x: tf.Tensor) => {
      const a = net.forwardTo(layer, x);
      const s = net.forwardFrom(layer, a);
      a.dispose();
      return s;
    };
    // A channel-less input ([B, D, H, W] for ResNet3D) gets its channel axis for the masks.
    const channelled = input.rank === act.rank ? input : tf.expandDims(input, -1);
    if (channelled !== input) kept.push(channelled);
    for (const [b, target] of targetClass.entries()) {
      const one = (t: tf.Tensor) => tf.slice(t, [b], [1]);
      const [a, x] = [one(act), one(channelled)];
      try {
        weights.push(await scoreCamChannelWeights(a, x, classify, target, options));
      } finally {
        tf.dispose([a, x]);
      }
    }
    const cam = tf.tidy(() => camFromWeights(act, tf.concat(weights, 0), options.normalization ?? 'global'));
    tf.dispose([...weights, act, ...(channelled !== input ? [channelled] : [])]);
    return { cam, scores, targetClass };
  } catch (err) {
    tf.dispose([...kept, ...weights]);
    throw err;
  }
}
