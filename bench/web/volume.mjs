// The benchmark's input volume, made the same way in the page and in Node: 32 x 224 x 224 float32
// values of a fixed linear congruential sequence mapped to [-2, 2) (no download, no tensor library).
export const SHAPE = [32, 224, 224];

/** The volume as a row-major Float32Array of SHAPE. */
export function benchVolume() {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const out = new Float32Array(n);
  let s = 20240601;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}
