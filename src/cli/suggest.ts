/** Edit distance (insertions, deletions, substitutions, adjacent transpositions) between two words. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate a mistyped word most likely meant: the only candidate it is a prefix of, else the
 * nearest by {@link editDistance} when that is at most a third of the word's length (at least 1,
 * at most 3) and no other candidate is as near. Undefined when nothing is close.
 *
 * @example
 * nearest('stat', ['predict', 'stats', 'train']); // returns 'stats'
 * nearest('--scor', ['--csv', '--score']);        // returns '--score'
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => c.startsWith(word) && c !== word);
  if (prefixed.length === 1 && word.replace(/^-+/, '').length >= 2) return prefixed[0];
  const limit = Math.min(3, Math.max(1, Math.floor(word.replace(/^-+/, '').length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  let tie = false;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
      tie = false;
    } else if (dist === bestD) tie = true;
  }
  return best !== undefined && bestD <= limit && !tie ? best : undefined;
}
