/**
 * A `require` that resolves from this file (the package's own dependencies): CommonJS's own (the
 * CommonJS build, test runners), else in an ES module `createRequire` from
 * `process.getBuiltinModule` (Node >= 20.16); null in an ES module on an older Node, where tfjs's
 * default stays until `setBackend`; null outside Node.
 */
export function nodeRequire(): NodeJS.Require | null {
  if (typeof process === 'undefined' || !process.versions?.node) return null;
  // `module.exports` tells a CommonJS module from an ES module evaluated by `node -e`, where
  // `module` is a global (Node's module class) and the bundler's `require` shim only throws.
  if (typeof module !== 'undefined' && typeof module.exports === 'object' && typeof require === 'function') return require;
  const builtin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const nodeModule = builtin?.('node:module') as typeof import('node:module') | undefined;
  return nodeModule ? nodeModule.createRequire(typeof __filename === 'string' ? __filename : `${process.cwd()}/`) : null;
}
