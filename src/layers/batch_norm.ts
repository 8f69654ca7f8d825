import * as tf from '@tensorflow/tfjs';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_SUMS, BN_MOMENTS } from '../kernels/wasm_batch_norm';
import { Module } from '../nn/module';

/** Options of {@link BatchNorm2d} and {@link BatchNorm3d}. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5, PyTorch's; tfjs's own 1e-3 is never used). */
  eps?: number;
  /** Weight of the new batch statistics in the running averages (default 0.1, PyTorch's). */
  momentum?: number;
}

/**
 * PyTorch's `_BatchNorm` over the channel (last) axis of a channels-last tensor of a fixed rank.
 * Keys `weight`, `bias` and the buffers `running_mean`, `running_var`, `num_batches_tracked`
 * (int), so PyTorch state dicts load strictly; a dict without `num_batches_tracked` (as many
 * converters write) sets it to 0, as PyTorch's strict load does.
 *
 * - eval mode: normalises with the running statistics;
 * - training mode: normalises with the batch mean and biased variance over every axis but the
 *   last, and updates `running_mean` and `running_var` (with the unbiased variance) by
 *   `(1 - momentum) * running + momentum * batch`, and `num_batches_tracked` by one, as PyTorch.
 */
export class BatchNorm extends Module {
  readonly eps: number;
  readonly momentum: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  /**
   * @param numFeatures channels `C`
   * @param rank rank of the inputs (4 for `[N, H, W, C]`, 5 for `[B, D, H, W, C]`)
   * @param label name used in error messages
   */
  constructor(readonly numFeatures: number, readonly rank: number, options: BatchNormOptions = {}, private readonly label = 'BatchNorm') {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    if (!(this.eps > 0)) throw new Error(`BatchNorm: eps must be positive, got ${this.eps}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`BatchNorm: momentum must be in [0, 1], got ${this.momentum}`);
    this.weight = this.registerParameter('weight', tf.ones([numFeatures]));
    this.bias = this.registerParameter('bias', tf.zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'), { fillWhenMissing: 0 });
  }

  /** `[..., C] -> [..., C]`; in training mode also updates the running statistics. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardFused(x);
  }

  /**
   * `relu(bn(x) + residual)` (the residual optional), the end of a ResNet block, as one step: in
   * training mode the tape keeps only `x` and `residual` (see {@link batchNormTrain}).
   */
  forwardFused(x: tf.Tensor, options: { relu?: boolean; residual?: tf.Tensor } = {}): tf.Tensor {
    const name = this.label;
    if (x.rank !== this.rank || x.shape[this.rank - 1] !== this.numFeatures) {
      const dims = this.rank === 5 ? 'B, D, H, W' : this.rank === 4 ? 'N, H, W' : `rank ${this.rank} with`;
      throw new Error(`${name}: expected [${dims}, ${this.numFeatures}], got shape [${x.shape.join(', ')}]`);
    }
    if (x.dtype !== 'float32') throw new Error(`${name}: expected dtype float32, got ${x.dtype}`);
    const { relu = false, residual } = options;
    if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) {
      throw new Error(`${name}: the residual [${residual.shape.join(', ')}] must have the input's shape [${x.shape.join(', ')}]`);
    }
    if (this.training) return this.forwardTraining(x, relu, residual);
    return tf.tidy(() => {
      // y = x * scale + shift, with the statistics folded into two per-channel vectors.
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps)));
      const shift = tf.sub(this.bias, tf.mul(this.runningMean, scale));
      if (tf.getKernel(BN_APPLY, tf.getBackend())) {
        // One pass on wasm: ((x - 0) * scale) * 1 + shift is x * scale + shift exactly, so the
        // result equals the tfjs ops' bit for bit.
        const [zeros, ones] = [tf.zerosLike(scale), tf.onesLike(scale)];
        return tf.engine().runKernel(BN_APPLY, { x, mean: zeros, invStd: scale, weight: ones, bias: shift, ...(residual ? { residual } : {}) }, { relu }) as tf.Tensor;
      }
      let y = tf.add(tf.mul(x, scale), shift);
      if (residual) y = tf.add(y, residual);
      return relu ? tf.relu(y) : y;
    });
  }

  private forwardTraining(x: tf.Tensor, relu: boolean, residual: tf.Tensor | undefined): tf.Tensor {
    const n = x.size / this.numFeatures;
    if (n <= 1) throw new Error(`${this.label}: expected more than 1 value per channel when training, got input shape [${x.shape.join(', ')}]`);
    const { y, mean, variance } = batchNormTrain(x, this.weight, this.bias, { eps: this.eps, relu, residual });
    const m = this.momentum;
    tf.tidy(() => {
      const unbiased = tf.mul(variance, n / (n - 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    tf.dispose([mean, variance]);
    return y;
  }
}

/**
 * Per-channel sums of `x` over every axis but the last, as `ones [1, N] @ x [N, C]`. tfjs-wasm's
 * Sum and Mean first transpose the reduced axes innermost, and its generic rank-5 transpose (a 3D
 * batch with more than one volume) made them ~100x slower than this product on our sgemm.
 */
function channelSums(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const rows = x.size / c;
    return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, c])), [c]) as tf.Tensor1D;
  });
}

/** Options of {@link batchNormTrain}. */
export interface BatchNormTrainOptions {
  eps: number;
  /** Apply a ReLU to the result (default false). */
  relu?: boolean;
  /** Added before the ReLU (a ResNet block's shortcut). */
  residual?: tf.Tensor;
}

/**
 * Training-mode batch norm over every axis but the last, `y = (x - mean) / sqrt(var + eps) * weight
 * + bias` with the batch mean and biased variance, optionally `+ residual` and ReLU, as one
 * differentiable op. Written as tfjs ops it leaves ~5 input-sized tensors on the tape (the
 * centred input, its square, the normalised input, ...) plus the ReLU's input; this op keeps only
 * `x` (and `residual`) and recomputes the rest in its backward pass:
 * `dx = weight / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))` with `g` the output
 * gradient masked by the ReLU. On wasm, native/batch_norm.c makes each direction two passes over
 * the input (channel sums in double); elsewhere tfjs ops compute it. Also returns the batch
 * statistics (not differentiated) for the running averages; the caller disposes them.
 *
 * @example
 * const { y, mean, variance } = batchNormTrain(x, weight, bias, { eps: 1e-5, relu: true });
 */
export function batchNormTrain(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  options: BatchNormTrainOptions,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const { eps, relu = false, residual } = options;
  const n = x.size / x.shape[x.rank - 1];
  const fused = x.dtype === 'float32' && tf.getKernel(BN_MOMENTS, tf.getBackend()) != null;
  let stats: [tf.Tensor, tf.Tensor] | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xs, w, b, r] = args as tf.Tensor[];
    const { y, mean, variance, invStd } = (fused ? fusedForward : composedForward)(xs, w, b, r, eps, relu, n);
    stats = [tf.keep(mean), tf.keep(variance)];
    save(r ? [xs, w, b, mean, invStd, r] : [xs, w, b, mean, invStd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => (fused ? fusedBackward : composedBackward)(dy as tf.Tensor, saved, relu, n),
    };
  });
  const y = residual ? op(x, weight, bias, residual) : op(x, weight, bias);
  const [mean, variance] = stats as unknown as [tf.Tensor, tf.Tensor];
  return { y, mean, variance };
}

type Forward = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, r: tf.Tensor | undefined, eps: number, relu: boolean, n: number) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor; invStd: tf.Tensor };
type Backward = (dy: tf.Tensor, saved: tf.Tensor[], relu: boolean, n: number) => tf.Tensor[];

/** The forward as tfjs ops (every backend). */
const composedForward: Forward = (x, w, b, r, eps, relu, n) => {
  const mean = tf.div(channelSums(x), n);
  const centred = tf.sub(x, mean);
  const variance = tf.div(channelSums(tf.square(centred)), n);
  const invStd = tf.rsqrt(tf.add(variance, eps));
  let y = tf.add(tf.mul(tf.mul(centred, invStd), w), b);
  if (r) y = tf.add(y, r);
  if (relu) y = tf.relu(y);
  return { y, mean, variance, invStd };
};

/** The forward on native/batch_norm.c's kernels (wasm): one pass for the moments, one for the output. */
const fusedForward: Forward = (x, w, b, r, eps, relu) => {
  const [mean, variance] = tf.engine().runKernel(BN_MOMENTS, { x }, {}) as tf.Tensor[];
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const y = tf.engine().runKernel(BN_APPLY, { x, mean, invStd, weight: w, bias: b, ...(r ? { residual: r } : {}) }, { relu }) as tf.Tensor;
  return { y, mean, variance, invStd };
};

/**
 * The gradients of `[x, weight, bias, residual?]` as tfjs ops. Input-sized temporaries are freed
 * as soon as they are used (a gradient function runs in one tidy): at full 3D-ResNet size each is
 * hundreds of MiB.
 */
const composedBackward: Backward = (dy, saved, relu, n) => {
  const [sx, sw, sb, smean, sinv, sr] = saved;
  const xhat = tf.tidy(() => tf.mul(tf.sub(sx, smean), sinv));
  let g = dy;
  if (relu) {
    g = tf.tidy(() => {
      let pre = tf.add(tf.mul(xhat, sw), sb);
      if (sr) pre = tf.add(pre, sr);
      return tf.mul(dy, tf.step(pre));
    });
  }
  const sumG = channelSums(g);
  const sumGX = tf.tidy(() => channelSums(tf.mul(g, xhat)));
  // dx = k g - k mean(g) - xhat k mean(g xhat), k = weight / sqrt(var + eps) per channel.
  const k = tf.mul(sw, sinv);
  const scaled = tf.mul(g, k);
  const centred = tf.sub(scaled, tf.mul(k, tf.div(sumG, n)));
  scaled.dispose();
  const correction = tf.mul(xhat, tf.mul(k, tf.div(sumGX, n)));
  xhat.dispose();
  const dx = tf.sub(centred, correction);
  tf.dispose([centred, correction]);
  return sr ? [dx, sumGX, sumG, g] : [dx, sumGX, sumG];
};

/** The gradients on native/batch_norm.c's kernels (wasm): one pass for the channel sums, one for dx. */
const fusedBackward: Backward = (dy, saved, relu, n) => {
  const [x, weight, bias, mean, invStd, r] = saved;
  // The residual only matters to the ReLU's mask; without a ReLU its gradient is dy itself.
  const inputs = { dy, x, mean, invStd, weight, bias, ...(r && relu ? { residual: r } : {}) };
  const [sumG, sumGX] = tf.engine().runKernel(BN_GRAD_SUMS, inputs, { relu }) as tf.Tensor[];
  const k = tf.mul(weight, invStd);
  const [dx, g] = tf.engine().runKernel(BN_GRAD_INPUT, { ...inputs, k, a: tf.mul(k, tf.div(sumG, n)), bc: tf.mul(k, tf.div(sumGX, n)) }, { relu }) as tf.Tensor[];
  return r ? [dx, sumGX, sumG, relu ? g : tf.reshape(dy, dy.shape)] : [dx, sumGX, sumG];
};

/**
 * `torch.nn.BatchNorm2d` on `[N, H, W, C]`; see {@link BatchNorm}.
 *
 * @example
 * const bn = new BatchNorm2d(64).eval();
 * bn.forward(tf.zeros([2, 8, 8, 64])).shape; // [2, 8, 8, 64]
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, 4, options, 'BatchNorm2d');
  }
}

/**
 * `torch.nn.BatchNorm3d` on `[B, D, H, W, C]`; see {@link BatchNorm}.
 *
 * @example
 * const bn = new BatchNorm3d(64).eval();
 * bn.forward(tf.zeros([1, 4, 8, 8, 64])).shape; // [1, 4, 8, 8, 64]
 */
export class BatchNorm3d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, 5, options, 'BatchNorm3d');
  }
}
