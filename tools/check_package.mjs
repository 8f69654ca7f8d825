#!/usr/bin/env node
// The package as users get it: `npm pack` (prepack builds), publint and attw on the tarball, then
// a fresh consumer project installs the tarball with @tensorflow/tfjs, typechecks one TypeScript
// consumer under node16 (ESM and CommonJS), bundler and node10 resolution, and runs it through
// `import` and `require`. Needs the npm registry (or a warm npm cache). Run: npm run test:package
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-ts-package-'));
const keep = process.argv.includes('--keep');

function run(cmd, args, cwd, options = {}) {
  process.stdout.write(`$ ${[cmd, ...args].map((a) => path.relative(work, a).startsWith('..') ? a : path.relative(work, a) || '.').join(' ')}\n`);
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const CONSUMER = `import * as tf from '@tensorflow/tfjs';
import { DinoVisionTransformer, MedicalSliceTransformer, auc, nativeKernelsInfo, wasmKernelsInstalled } from 'mst-ts';
import { ResNet3D } from 'mst-ts/models';
import { delongAuc } from 'mst-ts/stats';

async function main(): Promise<void> {
  const encoder = new DinoVisionTransformer({ embedDim: 16, depth: 1, numHeads: 2, imgSize: 28, patchSize: 14, seed: 1 });
  const model = new MedicalSliceTransformer({ encoder, numClasses: 2, heads: 2, seed: 2 }).eval();
  const volume = tf.randomUniform([3, 28, 28], -1, 1, 'float32', 4);
  const { probabilities } = await model.predict(volume);
  const labels = [0, 1, 1, 0, 1];
  const scores = [0.1, 0.9, 0.25, 0.3, 0.7];
  const result = {
    backend: tf.getBackend(),
    kernels: wasmKernelsInstalled(),
    native: nativeKernelsInfo()?.isa ?? null,
    probabilities,
    auc: auc(labels, scores),
    delong: delongAuc(labels, scores).auc,
    resnet: typeof ResNet3D,
  };
  volume.dispose();
  model.dispose();
  process.stdout.write(JSON.stringify(result));
}

main().catch((e: unknown) => {
  process.stderr.write(String(e));
  process.exitCode = 1;
});
`;

// skipLibCheck: tfjs's own declarations do not pass a strict check; the consumer's imports still must.
const base = { target: 'es2022', strict: true, skipLibCheck: true, types: ['node'], outDir: 'out' };
// name -> [folder, package.json type, compiler options, run the output?]
const SETTINGS = {
  'node16-esm': ['esm', 'module', { module: 'node16', moduleResolution: 'node16' }, true],
  'node16-cjs': ['cjs', 'commonjs', { module: 'node16', moduleResolution: 'node16' }, true],
  bundler: ['bundler', 'module', { module: 'esnext', moduleResolution: 'bundler', noEmit: true }, false],
  node10: ['node10', 'commonjs', { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, true],
};

const failures = [];
function check(what, fn) {
  try {
    fn();
    process.stdout.write(`ok   ${what}\n`);
  } catch (e) {
    failures.push(what);
    process.stdout.write(`FAIL ${what}\n${e.stdout ?? ''}${e.message}\n`);
  }
}

try {
  // prepack's build log comes first on stdout; npm's JSON report is the last thing printed.
  const packOut = run('npm', ['pack', '--json', '--pack-destination', work], root);
  const packed = JSON.parse(packOut.slice(packOut.lastIndexOf('\n[\n') + 1));
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  check('the tarball holds the build, the CLI, the types of every entry and LICENSE', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js', 'dist/stats/index.d.cts']) {
      if (!files.includes(f)) throw new Error(`missing ${f}`);
    }
  });
  // The native kernels ship where the packing machine built them (x86-64 with a C compiler).
  const addon = `dist/native/mst_kernels-${process.platform}-${process.arch}.node`;
  const addonBuilt = fs.existsSync(path.join(root, addon));
  const cpuAvx2 = fs.existsSync('/proc/cpuinfo') && /\bavx2\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  if (addonBuilt) check('the tarball holds the native kernels the build made', () => {
    if (!files.includes(addon)) throw new Error(`missing ${addon}`);
  });
  check('publint: no errors, warnings or suggestions', () => {
    const out = run(bin('publint'), ['run', tarball, '--strict'], work);
    if (!/All good!/.test(out)) throw new Error(out);
  });
  check('attw: no problems', () => {
    run(bin('attw'), [tarball, '--format', 'table-flipped'], work);
  });

  const consumer = path.join(work, 'consumer');
  write(path.join(consumer, 'package.json'), `${JSON.stringify({ name: 'mst-ts-consumer', private: true, version: '1.0.0' }, null, 2)}\n`);
  // As the README tells consumers: onnxruntime-node's install script must not fetch CUDA libraries.
  write(path.join(consumer, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const tfjsVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')).version;
  const typesNode = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@types/node/package.json'), 'utf8')).version;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@tensorflow/tfjs@${tfjsVersion}`, `@types/node@${typesNode}`], consumer);

  const outputs = {};
  for (const [name, [folder, type, options, execute]] of Object.entries(SETTINGS)) {
    const dir = path.join(consumer, folder);
    write(path.join(dir, 'package.json'), `${JSON.stringify({ type })}\n`);
    write(path.join(dir, 'consumer.ts'), CONSUMER);
    write(path.join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions: { ...base, ...options }, files: ['consumer.ts'] }, null, 2)}\n`);
    check(`typecheck ${name}`, () => run(bin('tsc'), ['-p', 'tsconfig.json'], dir));
    if (execute) check(`run ${name} (${type === 'module' ? 'import' : 'require'})`, () => {
      const out = JSON.parse(run(process.execPath, [path.join('out', 'consumer.js')], dir));
      if (out.backend !== 'wasm' || out.kernels !== true) throw new Error(`expected wasm with mst-ts's kernels, got ${JSON.stringify(out)}`);
      if (addonBuilt && cpuAvx2 && out.native !== 'avx2-fma') throw new Error(`expected the native kernels from the installed package, got ${JSON.stringify(out)}`);
      if (Math.abs(out.probabilities[0] + out.probabilities[1] - 1) > 1e-6) throw new Error(`probabilities ${out.probabilities}`);
      if (out.auc !== 5 / 6 || Math.abs(out.delong - 5 / 6) > 1e-12) throw new Error(`auc ${out.auc}, delong ${out.delong}`);
      outputs[name] = out;
    });
  }
  check('ESM and CommonJS give the same numbers', () => {
    const names = Object.keys(outputs);
    if (names.length !== 3) throw new Error(`only ${names.join(', ')} ran`);
    for (const n of names) if (JSON.stringify(outputs[n]) !== JSON.stringify(outputs[names[0]])) throw new Error(`${n}: ${JSON.stringify(outputs[n])} vs ${JSON.stringify(outputs[names[0]])}`);
  });
} catch (e) {
  failures.push(`setup: ${e.message}`);
} finally {
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  process.stdout.write(`\n${failures.length} package check(s) failed: ${failures.join('; ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('\nthe packed package is clean and works under every module setting\n');
}
