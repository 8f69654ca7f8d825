import { argsortFloat64 } from './rank';
import { Rng } from '../utils/rng';

function reference(values: Float64Array): number[] {
  return Array.from(values.keys()).sort((a, b) => values[a] - values[b] || a - b);
}

describe('argsortFloat64', () => {
  test('sorts negatives, zeros, infinities and subnormals, keeping ties in input order', () => {
    const v = new Float64Array([3, -1, 0, -Infinity, 2.5, -1, Infinity, 5e-324, -5e-324, 0, -1e300, 1e-300]);
    expect(Array.from(argsortFloat64(v))).toEqual(reference(v));
    // The same values tiled past the comparison-sort cut-off go through the radix passes.
    const big = new Float64Array(4096).map((_, i) => v[(i * 7) % v.length]);
    expect(Array.from(argsortFloat64(big))).toEqual(reference(big));
  });

  test('equals a comparison sort on random data with many ties', () => {
    const rng = new Rng(5);
    const v = new Float64Array(5000).map(() => Math.floor(rng.normal() * 20) / 7);
    expect(Array.from(argsortFloat64(v))).toEqual(reference(v));
  });

  test('handles float32-derived values (constant low digits are skipped) and one element', () => {
    const rng = new Rng(6);
    const v = new Float64Array(new Float32Array(3000).map(() => rng.uniform()));
    expect(Array.from(argsortFloat64(v))).toEqual(reference(v));
    expect(Array.from(argsortFloat64(new Float64Array([7])))).toEqual([0]);
    expect(argsortFloat64(new Float64Array(0)).length).toBe(0);
  });
});
