// `npm run fuzz`: bundles test/fuzz/main.ts with esbuild (no build step needed) and runs it.
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'node_modules', '.cache', 'mst-fuzz', `main-${process.pid}.cjs`);
esbuild.buildSync({
  entryPoints: [path.join(__dirname, 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  external: ['@tensorflow/*', 'onnxruntime-node', 'webgpu', 'fake-indexeddb', 'esbuild', 'fast-check'],
  logLevel: 'error',
});
require(out)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(2);
  });
