/**
 * Runs `start` (which may load emscripten glue, e.g. tfjs-backend-wasm's runtime) and removes the
 * `uncaughtException` and `unhandledRejection` handlers it added to Node's `process`. Emscripten's
 * glue installs handlers that rethrow, so any later uncaught error of the user's own program would
 * print the whole minified glue file and exit with code 7 instead of Node's normal report (code 1).
 * Handlers that were there before stay. Outside Node it just runs `start`.
 *
 * @example
 * const backend = withoutAddedProcessHandlers(() => createBackend());
 * await withoutAddedProcessHandlers(() => tf.setBackend('wasm'));
 */
export function withoutAddedProcessHandlers<T>(start: () => T): T {
  const proc: NodeJS.EventEmitter | null = typeof process !== 'undefined' && typeof process.listeners === 'function' ? process : null;
  if (!proc) return start();
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const before = events.map((e) => new Set(proc.listeners(e)));
  const restore = () =>
    events.forEach((e, i) => {
      for (const l of proc.listeners(e)) if (!before[i].has(l)) proc.removeListener(e, l as (...args: unknown[]) => void);
    });
  let result: T;
  try {
    result = start();
  } catch (err) {
    restore();
    throw err;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
