/**
 * Stable ascending argsort of doubles by LSD radix sort on their bit patterns: O(N), about 10x
 * faster than a comparison sort of indices in JavaScript, which is what makes DeLong on 10^6 cases
 * take tens of milliseconds.
 */

const RADIX_BITS = 16;
const RADIX = 1 << RADIX_BITS;
const MASK = RADIX - 1;

/**
 * Indices that sort `values` ascending; ties keep their input order. NaN must not occur
 * (callers validate); -0 and 0 must have been made equal by the caller (`x + 0`).
 *
 * @example
 * argsortFloat64(new Float64Array([0.3, -1, 0.3, 2])); // returns Uint32Array [1, 0, 2, 3]
 */
export function argsortFloat64(values: Float64Array): Uint32Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  // Map IEEE bits to unsigned keys in the same order: negative numbers flip all bits, others the sign.
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const loWord = le ? 0 : 1;
  for (let i = 0; i < n; i++) {
    const h = bits[2 * i + 1 - loWord];
    const l = bits[2 * i + loWord];
    if (h & 0x80000000) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  const counts = [new Uint32Array(RADIX), new Uint32Array(RADIX), new Uint32Array(RADIX), new Uint32Array(RADIX)];
  for (let i = 0; i < n; i++) {
    counts[0][lo[i] & MASK]++;
    counts[1][lo[i] >>> RADIX_BITS]++;
    counts[2][hi[i] & MASK]++;
    counts[3][hi[i] >>> RADIX_BITS]++;
  }
  let idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let idxOut = new Uint32Array(n);
  let loOut = new Uint32Array(n);
  let hiOut = new Uint32Array(n);
  for (let pass = 0; pass < 4; pass++) {
    const count = counts[pass];
    // A digit shared by all keys (e.g. the low mantissa bits of float32-derived scores) sorts nothing.
    const first = pass < 2 ? (pass === 0 ? lo[0] & MASK : lo[0] >>> RADIX_BITS) : pass === 2 ? hi[0] & MASK : hi[0] >>> RADIX_BITS;
    if (count[first] === n) continue;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    const keys = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : RADIX_BITS;
    const carryLo = pass < 2;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const d = shift === 0 ? k & MASK : k >>> RADIX_BITS;
      const pos = count[d]++;
      idxOut[pos] = idx[i];
      hiOut[pos] = hi[i];
      if (carryLo) loOut[pos] = lo[i];
    }
    [idx, idxOut] = [idxOut, idx];
    [hi, hiOut] = [hiOut, hi];
    if (carryLo) [lo, loOut] = [loOut, lo];
  }
  return idx;
}
