/**
 * Stable ascending argsort of doubles by LSD radix sort on their bit patterns: O(N), about 10x
 * faster than a comparison sort of indices in JavaScript, which is what makes DeLong on 10^6 cases
 * take tens of milliseconds.
 */

const RADIX_BITS = 16;
const RADIX = 1 << RADIX_BITS;
const MASK = RADIX - 1;
/** Below this length a comparison sort is faster. */
const SMALL = 2048;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A stable ascending sort of doubles: the permutation and the sorted values. */
export interface SortedValues {
  /** [N] input index of the i-th smallest value (ties in input order). */
  order: Uint32Array;
  /** [N] the values in ascending order, values[order[i]]. */
  sorted: Float64Array;
}

/**
 * Indices that sort `values` ascending; ties keep their input order. NaN must not occur
 * (callers validate); -0 and 0 must have been made equal by the caller (`x + 0`).
 *
 * @example
 * argsortFloat64(new Float64Array([0.3, -1, 0.3, 2])); // returns Uint32Array [1, 0, 2, 3]
 */
export function argsortFloat64(values: Float64Array): Uint32Array {
  return sortFloat64(values).order;
}

/**
 * Stable ascending sort returning both the permutation and the sorted values (decoded from the
 * radix keys, so callers need not gather `values[order[i]]` from random addresses).
 *
 * @example
 * sortFloat64(new Float64Array([0.3, -1])); // returns { order: [1, 0], sorted: [-1, 0.3] }
 */
export function sortFloat64(values: Float64Array): SortedValues {
  const n = values.length;
  if (n < SMALL) {
    // Four 2^16-bucket histograms cost more than a comparison sort at this size.
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => values[a] - values[b] || a - b);
    const sorted = new Float64Array(n);
    for (let i = 0; i < n; i++) sorted[i] = values[order[i]];
    return { order, sorted };
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  // Map IEEE bits to unsigned keys in the same order: negative numbers flip all bits, others the sign.
  const loWord = LITTLE_ENDIAN ? 0 : 1;
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
    const low = pass % 2 === 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const pos = count[low ? k & MASK : k >>> RADIX_BITS]++;
      idxOut[pos] = idx[i];
      hiOut[pos] = hi[i];
      loOut[pos] = lo[i];
    }
    [idx, idxOut] = [idxOut, idx];
    [hi, hiOut] = [hiOut, hi];
    [lo, loOut] = [loOut, lo];
  }
  // Decode the sorted keys back to doubles (the inverse of the mapping above).
  const sorted = new Float64Array(n);
  const out = new Uint32Array(sorted.buffer);
  for (let i = 0; i < n; i++) {
    const h = hi[i];
    if (h & 0x80000000) {
      out[2 * i + 1 - loWord] = (h & 0x7fffffff) >>> 0;
      out[2 * i + loWord] = lo[i];
    } else {
      out[2 * i + 1 - loWord] = ~h >>> 0;
      out[2 * i + loWord] = ~lo[i] >>> 0;
    }
  }
  return { order: idx, sorted };
}
