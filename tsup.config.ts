import { defineConfig } from 'tsup';

// One entry per public subpath of package.json's `exports`, plus the CLI.
export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'layers/index': 'src/layers/index.ts',
      'models/index': 'src/models/index.ts',
      'nn/index': 'src/nn/index.ts',
      'explain/index': 'src/explain/index.ts',
      'stats/index': 'src/stats/index.ts',
      'io/index': 'src/io/index.ts',
      'train/index': 'src/train/index.ts',
      'data/index': 'src/data/index.ts',
      'parallel/index': 'src/parallel/index.ts',
      'export/index': 'src/export/index.ts',
      // The SliceEncoderPool's worker thread script, found next to parallel/index at run time.
      'parallel/encoder_worker': 'src/parallel/encoder_worker.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: true,
    // `__dirname` in the ESM build, for locating the worker script.
    shims: true,
    external: [/^@tensorflow\//, 'onnxruntime-node'],
  },
  {
    // The cohort worker thread script, found next to cli.js at run time.
    entry: { cli: 'src/cli.ts', 'cli/cohort_worker': 'src/cli/cohort_worker.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // `__dirname` for locating worker scripts (cohort workers, data-parallel training's workers).
    shims: true,
    external: [/^@tensorflow\//, 'onnxruntime-node'],
  },
]);
