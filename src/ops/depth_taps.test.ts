import * as tf from '@tensorflow/tfjs';
import { depthTaps } from './depth_taps';

/** out[b Do + j, y, x, t C + c] = x[b, j sd + t - pd, y - ph, x - pw, c], 0 outside; written as loops. */
function reference(x: Float32Array, [b, d, h, w, c]: number[], kd: number, sd: number, [pd, ph, pw]: number[]): Float32Array {
  const dOut = Math.floor((d + 2 * pd - kd) / sd) + 1;
  const hp = h + 2 * ph;
  const wp = w + 2 * pw;
  const out = new Float32Array(b * dOut * hp * wp * kd * c);
  let o = 0;
  for (let bi = 0; bi < b; bi++)
    for (let j = 0; j < dOut; j++)
      for (let yy = 0; yy < hp; yy++)
        for (let xx = 0; xx < wp; xx++)
          for (let t = 0; t < kd; t++)
            for (let ch = 0; ch < c; ch++, o++) {
              const z = j * sd + t - pd;
              const sy = yy - ph;
              const sx = xx - pw;
              const inside = z >= 0 && z < d && sy >= 0 && sy < h && sx >= 0 && sx < w;
              out[o] = inside ? x[(((bi * d + z) * h + sy) * w + sx) * c + ch] : 0;
            }
  return out;
}

describe('depthTaps', () => {
  const cases: [number[], number, number, number[]][] = [
    [[2, 5, 4, 3, 3], 3, 1, [1, 1, 1]],
    [[1, 7, 5, 4, 2], 3, 2, [1, 1, 0]],
    [[1, 6, 3, 3, 20], 1, 2, [0, 0, 0]],
    [[1, 9, 4, 4, 1], 7, 1, [3, 3, 3]],
  ];
  it.each(cases)('equals the gather for x %j, kd %d, sd %d, padding %j, and its gradient is the adjoint', (shape, kd, sd, padding) => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const y = depthTaps(x, kd, sd, padding as [number, number, number]);
    const want = reference(x.dataSync() as Float32Array, shape, kd, sd, padding);
    expect(y.size).toBe(want.length);
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    // <depthTaps(x), r> = <x, dx> for every x: dx[i] = <depthTaps(e_i), r>, checked through the loops.
    const r = tf.randomNormal(y.shape, 0, 1, 'float32', 2);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(depthTaps(a, kd, sd, padding as [number, number, number]), r)))(x);
    const rv = r.dataSync();
    const dxv = dx.dataSync();
    const unit = new Float32Array(x.size);
    for (let i = 0; i < x.size; i += Math.max(1, Math.floor(x.size / 40))) {
      unit.fill(0);
      unit[i] = 1;
      const e = reference(unit, shape, kd, sd, padding);
      let dot = 0;
      for (let k = 0; k < e.length; k++) dot += e[k] * rv[k];
      expect(dxv[i]).toBeCloseTo(dot, 4);
    }
    tf.dispose([x, y, r, dx]);
  });
});
