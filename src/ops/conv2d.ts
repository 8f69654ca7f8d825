import * as tf from '@tensorflow/tfjs';

/**
 * A 2D convolution that trains on every backend. On wasm the forward pass and the filter
 * gradient are mst-ts's native kernels (src/kernels/wasm_conv2d.ts); elsewhere the forward is
 * the backend's own Conv2D. The gradients are written with forward convolutions only, because
 * wasm has no Conv2DBackpropFilter and its Conv2DBackpropInput runs several times slower than a
 * forward convolution (bench/RESULTS.md):
 * - filter: natively on wasm; elsewhere one convolution of the input, batch and channels swapped,
 *   by the output gradient used as a filter with dilation = stride (a plain matMul for 1x1 kernels);
 * - input: per stride phase, a full correlation of the output gradient with the flipped sub-filter.
 *
 * It runs as its own kernel name, registered on first use for the active backend by delegating to
 * that backend's Conv2D, so tfjs's tape evaluates each gradient only when it is needed (no input
 * gradient for a network's first layer).
 */
const KERNEL = 'MstConv2D';
/** Native filter gradient (wasm, src/kernels/wasm_conv2d.ts); other backends compose tfjs ops. */
const FILTER_GRAD_KERNEL = 'MstConv2DFilterGrad';
const registeredBackends = new Set<string>();

/** Unpadded (`'valid'`) 2D convolution, channels-last. */
export interface Conv2dArgs {
  /** `[sh, sw]`. */
  strides: [number, number];
}

function ensureKernel(): void {
  const backendName = tf.getBackend();
  if (registeredBackends.has(backendName)) return;
  if (registeredBackends.size === 0) {
    tf.registerGradient({
      kernelName: KERNEL,
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
        const g = dy as tf.Tensor4D;
        const strides = (attrs as unknown as Conv2dArgs).strides;
        return {
          x: () => conv2dInputGrad(g, filter, x.shape, strides),
          filter: () => conv2dFilterGrad(x, g, filter.shape, strides),
        };
      },
    });
  }
  registeredBackends.add(backendName);
  // wasm has mst-ts's native kernel (installed by setBackend); elsewhere the backend's Conv2D.
  if (tf.getKernel(KERNEL, backendName)) return;
  const base = tf.getKernel('Conv2D', backendName);
  if (!base) throw new Error(`conv2d: the backend '${backendName}' has no Conv2D kernel`);
  tf.registerKernel({ kernelName: KERNEL, backendName, kernelFunc: base.kernelFunc });
}

/**
 * `[N, H, W, I] * [kh, kw, I, O] -> [N, Ho, Wo, O]` without padding (pad explicitly first), with
 * `Ho = floor((H - kh) / sh) + 1`. Differentiable in both arguments on every backend.
 *
 * @example
 * const y = conv2dValid(tf.ones([1, 5, 5, 2]), tf.ones([3, 3, 2, 4]), [2, 2]); // [1, 2, 2, 4]
 */
export function conv2dValid(x: tf.Tensor4D, filter: tf.Tensor4D, strides: [number, number]): tf.Tensor4D {
  if (x.shape[3] !== filter.shape[2]) {
    throw new Error(`conv2d: expected input channels ${filter.shape[2]} (filter [kh, kw, I, O] = [${filter.shape.join(', ')}]), got input [${x.shape.join(', ')}]`);
  }
  if (x.shape[1] < filter.shape[0] || x.shape[2] < filter.shape[1]) {
    throw new Error(`conv2d: input [${x.shape.join(', ')}] is smaller than the kernel ${filter.shape[0]}x${filter.shape[1]}`);
  }
  ensureKernel();
  const attrs = { strides, pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
  return tf.engine().runKernel(KERNEL, { x, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dL/dW `[kh, kw, I, O]` of {@link conv2dValid}. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
): tf.Tensor4D {
  const [kh, kw, inC, outC] = filterShape;
  const [n, , , ] = x.shape;
  const [, ho, wo] = dy.shape;
  const [sh, sw] = strides;
  if (tf.getKernel(FILTER_GRAD_KERNEL, tf.getBackend())) {
    return tf.engine().runKernel(FILTER_GRAD_KERNEL, { x, dy }, { filterShape, strides } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    if (kh === 1 && kw === 1) {
      // [N, Ho, Wo, I]^T [N Ho Wo, O]: a plain matMul with an explicit transpose (no slow flags).
      const xs = sh === 1 && sw === 1 ? tf.slice(x, [0, 0, 0, 0], [n, ho, wo, inC]) : tf.stridedSlice(x, [0, 0, 0, 0], [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, inC], [1, sh, sw, 1]);
      const g = tf.matMul(tf.transpose(tf.reshape(xs, [-1, inC])), tf.reshape(dy, [-1, outC]));
      return tf.reshape(g, [1, 1, inC, outC]) as tf.Tensor4D;
    }
    // dW[a, b, i, o] = sum_{n, h, w} x[n, sh h + a, sw w + b, i] dy[n, h, w, o]: a convolution of
    // x as [I, H, W, N] by dy as a [Ho, Wo, N, O] filter dilated by the stride.
    const xt = tf.transpose(x, [3, 1, 2, 0]);
    const dyt = tf.transpose(dy, [1, 2, 0, 3]);
    const full = tf.conv2d(xt, dyt as tf.Tensor4D, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(tf.slice(full, [0, 0, 0, 0], [inC, kh, kw, outC]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dL/dx `[N, H, W, I]` of {@link conv2dValid}. */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  strides: [number, number],
): tf.Tensor4D {
  const [n, h, w, inC] = xShape;
  const [kh, kw] = filter.shape;
  const [sh, sw] = strides;
  return tf.tidy(() => {
    // Row h = sh i + r only meets kernel rows a = sh m + r, and then dy row i - m: phase (r, c) of
    // dx is a full correlation of dy with the flipped sub-filter filter[r::sh, c::sw].
    const rowsPerPhase = Math.ceil(h / sh);
    const colsPerPhase = Math.ceil(w / sw);
    const rows: tf.Tensor[] = [];
    for (let r = 0; r < sh; r++) {
      const cols: tf.Tensor[] = [];
      for (let c = 0; c < sw; c++) cols.push(phase(dy, filter, [h, w], [sh, sw], [r, c], [rowsPerPhase, colsPerPhase], [n, inC]));
      // [N, Lr, Lc, sw, I] -> [N, Lr, Lc sw, I]: columns interleaved as j sw + c.
      rows.push(tf.reshape(tf.stack(cols, 3), [n, rowsPerPhase, colsPerPhase * sw, inC]));
    }
    // [N, Lr, sh, Lc sw, I] -> [N, Lr sh, Lc sw, I]: rows interleaved as i sh + r.
    const all = tf.reshape(tf.stack(rows, 2), [n, rowsPerPhase * sh, colsPerPhase * sw, inC]);
    return (all.shape[1] === h && all.shape[2] === w ? all : tf.slice(all, [0, 0, 0, 0], [n, h, w, inC])) as tf.Tensor4D;
  });

  function phase(
    g: tf.Tensor4D,
    f: tf.Tensor4D,
    [hIn, wIn]: [number, number],
    [sRow, sCol]: [number, number],
    [r, c]: [number, number],
    [outRows, outCols]: [number, number],
    [batch, channels]: [number, number],
  ): tf.Tensor {
    const kmr = Math.max(0, Math.ceil((kh - r) / sRow));
    const kmc = Math.max(0, Math.ceil((kw - c) / sCol));
    // Rows/cols of this phase that exist in x; the rest of [outRows, outCols] is zero padding.
    const lr = Math.ceil((hIn - r) / sRow);
    const lc = Math.ceil((wIn - c) / sCol);
    if (kmr === 0 || kmc === 0 || lr <= 0 || lc <= 0) return tf.zeros([batch, outRows, outCols, channels]);
    const [, ho, wo] = g.shape;
    // Taps (r + sRow m, c + sCol q) of the filter in reverse order, swapped to [kmr, kmc, O, I]: one
    // concatenation of whole contiguous [I, O] blocks (tfjs-wasm's Reverse, StridedSlice and Gather
    // go element by element and took a quarter of a 3D ResNet's backward pass on filters alone).
    const [inC, outC] = [f.shape[2], f.shape[3]];
    const flat = tf.reshape(f, [kh * kw, inC * outC]);
    const taps: tf.Tensor[] = [];
    for (let m = kmr - 1; m >= 0; m--) for (let q = kmc - 1; q >= 0; q--) taps.push(tf.slice(flat, [(r + sRow * m) * kw + c + sCol * q, 0], [1, inC * outC]));
    const blocks = taps.length === 1 ? taps[0] : tf.concat(taps, 0);
    const flipped = tf.transpose(tf.reshape(blocks, [kmr, kmc, inC, outC]), [0, 1, 3, 2]) as tf.Tensor4D;
    const padded = tf.pad(g, [[0, 0], [kmr - 1, lr - ho], [kmc - 1, lc - wo], [0, 0]]);
    const out = conv2dValid(padded as tf.Tensor4D, flipped, [1, 1]);
    return outRows === lr && outCols === lc ? out : tf.pad(out, [[0, 0], [0, outRows - lr], [0, outCols - lc], [0, 0]]);
  }
}
