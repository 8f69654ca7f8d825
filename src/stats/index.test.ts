import * as fs from 'node:fs';
import * as path from 'node:path';

/** Relative imports of a TypeScript file, resolved to files; bare imports returned as names. */
function imports(file: string): { files: string[]; packages: string[] } {
  const text = fs.readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) {
      const base = path.resolve(path.dirname(file), spec);
      files.push(fs.existsSync(`${base}.ts`) ? `${base}.ts` : path.join(base, 'index.ts'));
    } else packages.push(spec);
  }
  return { files, packages };
}

describe('mst-ts/stats loads no tensor library', () => {
  test('the static import graph of src/stats/index.ts reaches only node builtins and fflate', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const stack = [path.join(__dirname, 'index.ts')];
    while (stack.length > 0) {
      const file = stack.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const { files, packages: p } = imports(file);
      p.forEach((x) => packages.add(x));
      stack.push(...files);
    }
    expect(seen.size).toBeGreaterThan(10);
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['fflate']);
  });

  test('requiring it in a fresh module registry never asks for @tensorflow', () => {
    const asked: string[] = [];
    jest.isolateModules(() => {
      for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node']) {
        jest.doMock(name, () => {
          asked.push(name);
          throw new Error(`${name} must not be loaded by mst-ts/stats`);
        }, { virtual: true });
      }
      const stats = require('./index');
      expect(stats.auc([0, 1], [0.1, 0.9])).toBe(1);
    });
    expect(asked).toEqual([]);
  });
});
