/**
 * A seed derived from a run seed and integers (epoch, position, purpose), so every random stream
 * of a training run is a pure function of its coordinates: a resumed run replays the same data
 * order and augmentations as an uninterrupted one.
 *
 * @example
 * new Rng(deriveSeed(42, epoch, 0)); // the data order of one epoch
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  // murmur3's 32-bit finaliser over the parts, chained.
  let h = (Math.floor(seed) ^ 0x5bd1e995) >>> 0;
  for (const p of [...parts, parts.length]) {
    h = Math.imul(h ^ (Math.floor(p) >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}
