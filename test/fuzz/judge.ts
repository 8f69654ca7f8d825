/** What counts as a reader's failure on a fuzz input. */
import type { Outcome } from './pool';
import { SOURCE } from './targets';

/** A judged outcome: a failure (a bug) and/or a note (an error that does not name its file). */
export interface Verdict {
  failure: string | null;
  note: string | null;
  /** A stable key for the kind of failure, to count each kind once. */
  signature: string;
}

// Errors a reader throws on purpose are plain `Error`s naming the problem; engine errors
// (TypeError "Cannot read properties of undefined", RangeError "Invalid typed array length",
// "Maximum call stack size exceeded") mean an unchecked field.
const READER_ERROR = 'Error';

const finiteAll = (a: unknown): boolean => Array.isArray(a) && a.flat(2).every((v) => typeof v === 'number' && Number.isFinite(v));

/** Checks an accepted volume or state dict summary for silently wrong results. */
function invariants(summary: Record<string, unknown>): string | null {
  if (Array.isArray(summary.shape) && 'affine' in summary) {
    const shape = summary.shape as number[];
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 1)) return `volume shape [${shape}] has an empty or invalid axis`;
    if (shape.reduce((a, b) => a * b, 1) !== summary.length) return `volume shape [${shape}] does not match its ${summary.length} voxels`;
    if (!finiteAll(summary.affine)) return 'volume affine is not finite';
    if (!(summary.spacing as number[]).every((s) => Number.isFinite(s) && s > 0)) return `volume spacing [${summary.spacing}] is not positive and finite`;
  }
  if (summary.prototype === 'object') return 'a state dict has a prototype (a key can replace it)';
  // The npy target also reads the array as a volume: that reader must fail cleanly too.
  const inner = summary.volume as Record<string, unknown> | undefined;
  if (inner && typeof inner === 'object') {
    if ('error' in inner) return inner.name === READER_ERROR ? null : `as a volume, ${String(inner.name)}: ${String(inner.error)}`;
    const bad = invariants(inner);
    if (bad) return `as a volume, ${bad}`;
  }
  return null;
}

const normalise = (s: string): string => s.replace(SOURCE, '').replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/gi, 'N').replace(/'[^']*'/g, "'_'").slice(0, 100);

/** Judges one outcome of `target`. */
export function judge(target: string, o: Outcome): Verdict {
  if (o.status !== 'accepted' && o.status !== 'rejected') {
    return { failure: `${o.status}: ${o.detail}`, note: null, signature: `${target}:${o.status}` };
  }
  if (o.leaked > 0) return { failure: `${o.leaked} tensor(s) leaked`, note: null, signature: `${target}:leak` };
  if (o.status === 'rejected') {
    if (o.name !== READER_ERROR) {
      const where = o.stack.split('\n').find((l) => /\bat\b/.test(l))?.trim() ?? '';
      return { failure: `${o.name}: ${o.message} ${where}`, note: null, signature: `${target}:${o.name}:${normalise(o.message)}` };
    }
    const note = o.message.includes(SOURCE) ? null : `error does not name the file: ${o.message.slice(0, 200)}`;
    return { failure: null, note, signature: `${target}:rejected:${normalise(o.message)}` };
  }
  const bad = invariants(o.summary);
  return { failure: bad ? `accepted but ${bad}` : null, note: null, signature: `${target}:accepted:${bad ?? ''}` };
}
