/**
 * Builds the page from examples/web with the repository's node_modules (no install of its own).
 * tfjs-backend-wasm's .wasm binaries are served beside the page under tfjs-wasm/ (the worker
 * points `setWasmPaths` there), copied into the build and served by the dev server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const librarySrc = join(here, '..', '..', 'src');
const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

function tfjsWasmFiles(): Plugin {
  return {
    name: 'mst-ts-tfjs-wasm-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].match(/\/tfjs-wasm\/([\w.-]+\.wasm)$/)?.[1];
        if (!name || !WASM_FILES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(join(wasmDir, name)));
      });
    },
    generateBundle() {
      for (const name of WASM_FILES) this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${name}`, source: readFileSync(join(wasmDir, name)) });
    },
  };
}

/**
 * The library imports node:fs and node:path lazily, inside functions that take paths (Node only);
 * the page passes bytes and never calls them. Those imports resolve to a module that rejects with
 * a clear error, in a chunk of its own that the page never loads.
 */
function nodeOnlyImports(): Plugin {
  const prefix = '\0mst-ts-node-only:';
  return {
    name: 'mst-ts-node-only-imports',
    enforce: 'pre',
    resolveId(id, importer) {
      if (id.startsWith('node:') && importer?.startsWith(librarySrc)) return prefix + id;
      return null;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      const name = id.slice(prefix.length);
      return `throw new Error(${JSON.stringify(`${name} is not available in the browser: pass mst-ts bytes (await file.arrayBuffer()) instead of a path`)});\nexport {};\n`;
    },
  };
}

/**
 * NiiVue reads Zarr through zarrita, which loads the blosc, zstd and lz4 codecs (WebAssembly inlined
 * in JavaScript) on a Zarr file's demand. The page gives NiiVue NIfTI bytes only, so those imports
 * resolve to a module that rejects with a clear error and the codecs stay out of the build.
 */
function noZarrCodecs(): Plugin {
  const prefix = '\0mst-ts-no-zarr-codec:';
  return {
    name: 'mst-ts-no-zarr-codecs',
    enforce: 'pre',
    resolveId(id) {
      return /^numcodecs\/(blosc|zstd|lz4)$/.test(id) ? prefix + id : null;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      return `throw new Error(${JSON.stringify(`${id.slice(prefix.length)} is not part of this page: its viewer shows NIfTI and DICOM, not Zarr`)});\nexport default undefined;\n`;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [nodeOnlyImports(), noZarrCodecs(), tfjsWasmFiles()],
  worker: { format: 'es', plugins: () => [nodeOnlyImports()] },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { fs: { allow: [join(here, '../..')] } },
});
