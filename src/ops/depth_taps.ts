import * as tf from '@tensorflow/tfjs';
import { DEPTH_TAPS, DEPTH_TAPS_GRAD, type DepthTapsAttrs } from '../kernels/wasm_depth_taps';
import { padAxis, sliceAxis } from './slice_axis';

/**
 * The input of a 3D convolution computed as a 2D one: `x [B, D, H, W, C]` zero-padded by
 * `[pd, ph, pw]` on each side, and its `kd` depth taps (planes `t, t + sd, ...`) stacked along
 * channels, `[B Do, Hp, Wp, kd C]` (channel `t C + c`). As tfjs ops this leaves every padded copy
 * and tap on the tape (Reshape and Slice save their inputs); as one op the tape keeps nothing,
 * because its gradient is a pure rearrangement of the output gradient: tap `t`'s channels go back
 * to planes `t + sd j` (summed where taps overlap) and the padding is cut off.
 *
 * @example
 * depthTaps(tf.ones([1, 4, 8, 8, 2]), 3, 1, [1, 1, 1]).shape; // [4, 10, 10, 6]
 */
export function depthTaps(x: tf.Tensor, kd: number, sd: number, padding: [number, number, number]): tf.Tensor4D {
  const [b, d, h, w, c] = x.shape;
  const [pd, ph, pw] = padding;
  const dp = d + 2 * pd;
  const hp = h + 2 * ph;
  const wp = w + 2 * pw;
  if (dp < kd) throw new Error(`depthTaps: depth ${d} with padding ${pd} is smaller than the kernel depth ${kd}`);
  const dOut = Math.floor((dp - kd) / sd) + 1;
  const inner = hp * wp * c;
  // The wasm backend has a native kernel for both directions (native/depth_taps.c).
  const backendName = tf.getBackend();
  const native = x.dtype === 'float32' && tf.getKernel(DEPTH_TAPS, backendName) != null;
  const attrs: DepthTapsAttrs = { kd, sd, padding, xShape: [b, d, h, w, c] };
  const runNative = (name: string, t: tf.Tensor): tf.Tensor => tf.engine().runKernel(name, { x: t }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const op = tf.customGrad(((input: tf.Tensor) => {
    if (native) return { value: runNative(DEPTH_TAPS, input), gradFunc: (dy: tf.Tensor) => runNative(DEPTH_TAPS_GRAD, dy) };
    const padded = padAxis(padAxis(padAxis(input, 1, pd, pd), 2, ph, ph), 3, pw, pw);
    const taps: tf.Tensor[] = [];
    for (let t = 0; t < kd; t++) taps.push(tf.reshape(sliceAxis(padded, 1, t, dOut, sd), [b * dOut * hp * wp, c]));
    const value = tf.reshape(kd === 1 ? taps[0] : tf.concat(taps, 1), [b * dOut, hp, wp, kd * c]) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        // [rows, kd, C] -> per tap [B, Do, inner], placed at planes t + sd j of [B, Dp, inner].
        const perTap = tf.reshape(dy, [b * dOut * hp * wp, kd, c]);
        const placed: tf.Tensor[] = [];
        for (let t = 0; t < kd; t++) {
          let g = tf.reshape(tf.slice(perTap, [0, t, 0], [-1, 1, -1]), [b, dOut, inner]);
          if (sd > 1) g = tf.reshape(tf.pad(tf.reshape(g, [b * dOut, 1, inner]), [[0, 0], [0, sd - 1], [0, 0]]), [b, dOut * sd, inner]);
          const len = g.shape[1] as number;
          if (len + t > dp) g = tf.slice(g, [0, 0, 0], [b, dp - t, inner]);
          placed.push(tf.pad(g, [[0, 0], [t, dp - t - Math.min(len, dp - t)], [0, 0]]));
        }
        const dPadded = tf.reshape(placed.length === 1 ? placed[0] : tf.addN(placed), [b, dp, hp, wp, c]);
        return sliceAxis(sliceAxis(sliceAxis(dPadded, 1, pd, d), 2, ph, h), 3, pw, w);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}
