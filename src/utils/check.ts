/** Shape and value checks whose errors name what was expected and what was given. */

/** Throws unless `shape` has one of the allowed ranks. */
export function assertRank(what: string, shape: readonly number[], ranks: number[], layout?: string): void {
  if (!ranks.includes(shape.length)) {
    const expect = layout ?? `rank ${ranks.join(' or ')}`;
    throw new Error(`${what}: expected ${expect}, got shape [${shape.join(', ')}] (rank ${shape.length})`);
  }
}

/** Throws unless `actual` equals `expected` on every axis that `expected` does not leave null. */
export function assertShape(what: string, actual: readonly number[], expected: readonly (number | null)[]): void {
  const ok = actual.length === expected.length && expected.every((d, i) => d === null || d === actual[i]);
  if (!ok) {
    const fmt = expected.map((d) => (d === null ? '*' : String(d))).join(', ');
    throw new Error(`${what}: expected shape [${fmt}], got [${actual.join(', ')}]`);
  }
}

/** Throws unless the dtype is float32. */
export function assertFloat32(what: string, dtype: string): void {
  if (dtype !== 'float32') throw new Error(`${what}: expected dtype float32, got ${dtype}`);
}
