import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installWebGpuGlobals, setBackend, type DawnModule } from '../../src/backend';
import { disposeExplanation, explainVolume, type ExplainableModel, type ExplainOptions } from '../../src/explain/explain_volume';
import { loadSafetensors } from '../../src/io/safetensors';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { ResNet3D } from '../../src/models/resnet3d';
import { disposeStateDict } from '../../src/nn/module';
import { stateDictFromSpec, type WeightSpec } from '../fixture_weights';
import { CI, fixturePath } from '../helpers';

// The WebGPU backend (Dawn through the `webgpu` package; on CI, Mesa's lavapipe from
// .ci/install-lavapipe.sh) against wasm in one process: MST inference and explanations, ResNet3D
// Grad-CAM, to 1e-4. Results are read only with async data(): dataSync throws on webgpu in Node.
// Where WebGPU has no adapter the tests skip with the reason, except under CI, where they fail.

const TOL = 1e-4;
const root = path.join(__dirname, '..', '..');

interface ChildReport {
  error?: string;
  backend?: string;
  adapter?: string;
  product?: number[];
}

/**
 * Runs `setBackend('webgpu')` in a plain Node process (jest's CommonJS sandbox cannot import the
 * ESM-only `webgpu` package): src/backend.ts bundled by esbuild next to node_modules, then a small
 * matMul read back. Synchronous, so that its answer can decide which tests run.
 */
function runSetBackendInNode(env: NodeJS.ProcessEnv = {}): ChildReport {
  const dir = path.join(root, 'node_modules', '.cache', 'mst-ts-webgpu-test');
  try {
    fs.mkdirSync(dir, { recursive: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({
      entryPoints: [path.join(root, 'src', 'backend.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      external: ['@tensorflow/*'],
      outfile: path.join(dir, 'backend.mjs'),
      logLevel: 'error',
    });
    fs.writeFileSync(
      path.join(dir, 'run.mjs'),
      `import * as tf from '@tensorflow/tfjs';
import { setBackend } from './backend.mjs';
const out = {};
try {
  await setBackend('webgpu');
  const info = (await navigator.gpu.requestAdapter()).info;
  out.adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ');
  out.backend = tf.getBackend();
  const c = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([0.5, -1, 2, 0.25, -3, 1], [3, 2]));
  out.product = Array.from(await c.data());
} catch (e) {
  out.error = e.message;
}
console.log(JSON.stringify(out));
`,
    );
    const stdout = execFileSync(process.execPath, [path.join(dir, 'run.mjs')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 90_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return JSON.parse(stdout.trim().split('\n').pop() as string) as ChildReport;
  } catch (e) {
    return { error: `running setBackend('webgpu') in Node failed: ${(e as Error).message}` };
  }
}

const probe = runSetBackendInNode();
const unavailable = probe.error ?? null;
if (unavailable) {
  const what = CI ? 'fail under CI' : 'skipped';
  console.warn(`WebGPU tests ${what}: ${unavailable}`);
}
// Under CI a missing adapter is a failure, not a skip: each test then throws the reason.
const gpuTest = unavailable && !CI ? test.skip : test;

function requireGpu(): void {
  if (unavailable) throw new Error(`WebGPU unavailable under CI (.ci/install-lavapipe.sh should have installed lavapipe): ${unavailable}`);
}

/** The `webgpu` package's native addon, which jest's require can load (its ESM index it cannot). */
function dawnAddon(): DawnModule {
  const dir = path.dirname(require.resolve('webgpu/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(dir, 'dist', `${process.platform}-${process.arch}`, 'dawn.node')) as DawnModule;
}

/** Every number an explanation holds, read asynchronously, its tensors then disposed. */
async function explainAndRead(model: ExplainableModel, volume: tf.Tensor, options: ExplainOptions): Promise<Record<string, number[]>> {
  const e = await explainVolume(model, volume, options);
  const out: Record<string, number[]> = { probabilities: e.probabilities };
  if (e.logits) out.logits = e.logits;
  if (e.targetClass !== undefined) out.targetClass = [e.targetClass];
  for (const k of ['sliceAttention', 'planeAttention', 'saliency', 'saliencyUpsampled'] as const) {
    const t = e[k];
    if (t) out[k] = Array.from(await t.data());
  }
  disposeExplanation(e);
  return out;
}

function maxAbs(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Asserts that a map is not constant: an all-zero or flat map on both backends would otherwise agree. */
function expectVaries(name: string, values: readonly number[]): void {
  const spread = Math.max(...values) - Math.min(...values);
  expect({ name, spread: spread > 0.5 * Math.max(...values.map(Math.abs)) && spread > 0, distinct: new Set(values).size > 2 }).toEqual({ name, spread: true, distinct: true });
}

/** Max abs difference per field; every field present on both sides. */
function diffs(a: Record<string, number[]>, b: Record<string, number[]>): Record<string, number> {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  return Object.fromEntries(Object.keys(a).map((k) => [k, maxAbs(a[k], b[k])]));
}

/** Runs `work` on a backend. */
async function onBackend<T>(name: 'wasm' | 'webgpu', work: () => Promise<T>): Promise<T> {
  await setBackend(name);
  return work();
}

describe('WebGPU backend equals wasm', () => {
  beforeAll(() => {
    if (unavailable) return;
    installWebGpuGlobals(dawnAddon());
  });
  // Leave the file's other users of tfjs on the default backend.
  afterAll(async () => {
    await setBackend('wasm');
  });

  gpuTest("setBackend('webgpu') alone sets WebGPU up in plain Node (the webgpu package) and computes", () => {
    requireGpu();
    expect(probe.backend).toBe('webgpu');
    expect(probe.product).toHaveLength(4);
    // [[1, 2, 3], [4, 5, 6]] x [[0.5, -1], [2, 0.25], [-3, 1]]
    expect(maxAbs(probe.product as number[], [-4.5, 2.5, -6, 3.25])).toBeLessThan(1e-6);
  });

  gpuTest('without a Vulkan driver setBackend names lavapipe', () => {
    requireGpu();
    const r = runSetBackendInNode({ VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' });
    expect(r.error).toMatch(/no adapter.*lavapipe.*bookworm-backports mesa-vulkan-drivers libvulkan1/);
  });

  gpuTest('rank-5 and rank-6 element-wise ops (per-channel operands, where) equal wasm', async () => {
    requireGpu();
    const run = async () => {
      const before = tf.memory().numTensors;
      const results = tf.tidy(() => {
        // tf.add(x, 0) puts each input on the device first: fresh tensors would run on the CPU.
        const dev = (t: tf.Tensor) => tf.add(t, 0);
        const x5 = dev(tf.randomNormal([2, 3, 4, 5, 6], 0, 1, 'float32', 1));
        const x6 = dev(tf.randomNormal([2, 2, 3, 2, 3, 5], 0, 1, 'float32', 2));
        const c6 = dev(tf.randomNormal([6], 0, 1, 'float32', 3));
        const c5 = dev(tf.randomNormal([5], 0, 1, 'float32', 4));
        return [
          tf.add(x5, c6),
          tf.mul(c6, x5),
          tf.sub(x5, c6),
          tf.div(x5, tf.add(tf.abs(c6), 1)),
          tf.maximum(x6, c5),
          tf.prelu(x5, c6),
          tf.where(tf.greater(x5, 0), x5, tf.mul(x5, 0.5)),
          tf.where(tf.greater(x6, 0.2), x6, tf.zerosLike(x6)),
        ];
      });
      const out = await Promise.all(results.map(async (t) => Array.from(await t.data())));
      tf.dispose(results);
      expect(tf.memory().numTensors).toBe(before);
      return out;
    };
    const wasm = await onBackend('wasm', run);
    const gpu = await onBackend('webgpu', run);
    // [op index, max abs difference] of every op off by more than float rounding.
    expect(gpu.map((g, i) => [i, maxAbs(g, wasm[i])]).filter(([, d]) => !(d < 1e-5))).toEqual([]);
  });

  gpuTest('MST-DINOv2 (tiny) logits, attention, rollout and transformer attributions to 1e-4; logits equal PyTorch’s', async () => {
    requireGpu();
    const spec = JSON.parse(fs.readFileSync(fixturePath('mst', 'mst_dinov2_tiny.json'), 'utf8')) as WeightSpec & { inputs: WeightSpec };
    const ref = await loadSafetensors(fixturePath('mst', 'mst_dinov2_tiny.safetensors'));
    const torchLogits = Array.from(await ref['tiny.logits'].data());
    disposeStateDict(ref);
    const run = async () => {
      const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 24, depth: 2, numHeads: 4, imgSize: 70 }), numClasses: 2 });
      const sd = stateDictFromSpec(spec);
      model.loadStateDict(sd);
      disposeStateDict(sd);
      model.eval();
      const { x } = stateDictFromSpec(spec.inputs); // [2, 3, 42, 56]: 2 volumes of 3 slices
      // The first pass caches the positional embedding resized to this grid.
      const { logits } = model.forward(x);
      const before = tf.memory().numTensors;
      const out: Record<string, Record<string, number[]>> = { forward: { logits: Array.from(await logits.data()) } };
      const volume = tf.tidy(() => tf.squeeze(tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1]), [0]));
      const { logits: predicted, probabilities } = await model.predict(volume);
      out.predict = { logits: predicted, probabilities };
      out.attention = await explainAndRead(model, volume, { method: 'attention' });
      out.rollout = await explainAndRead(model, volume, { method: 'rollout' });
      out.attribution = await explainAndRead(model, volume, { method: 'transformer-attribution', targetClass: 1 });
      out.gradientAttention = await explainAndRead(model, volume, { method: 'gradient-attention' });
      volume.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, x]);
      model.dispose();
      return out;
    };
    const wasm = await onBackend('wasm', run);
    const gpu = await onBackend('webgpu', run);
    expect(maxAbs(gpu.forward.logits, torchLogits)).toBeLessThan(TOL);
    expect(maxAbs(gpu.forward.logits, wasm.forward.logits)).toBeLessThan(TOL);
    expect(gpu.attention.saliencyUpsampled).toHaveLength(3 * 42 * 56);
    for (const method of ['predict', 'attention', 'rollout', 'attribution', 'gradientAttention']) {
      const d = diffs(gpu[method], wasm[method]);
      expect(Object.entries(d).filter(([, v]) => !(v < TOL))).toEqual([]);
    }
    for (const method of ['attention', 'rollout']) for (const k of ['sliceAttention', 'saliency', 'saliencyUpsampled']) expectVaries(`${method}.${k}`, gpu[method][k]);
  });

  gpuTest('ResNet3D forward and the CAM family and occlusion (default target: the argmax, on the device) to 1e-4', async () => {
    requireGpu();
    const run = async () => {
      const net = new ResNet3D({ block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [4, 8, 8, 16], numClasses: 3, seed: 7 }).eval();
      const volume = tf.randomNormal([8, 24, 24], 0, 1, 'float32', 11);
      const before = tf.memory().numTensors;
      const logits = tf.tidy(() => net.forward(tf.reshape(volume, [1, 8, 24, 24, 1])));
      const out: Record<string, Record<string, number[]>> = { forward: { logits: Array.from(await logits.data()) } };
      out.gradcam = await explainAndRead(net, volume, { method: 'gradcam' });
      out.gradcampp = await explainAndRead(net, volume, { method: 'gradcam++', targetClass: 2 });
      // HiResCAM and LayerCAM share Grad-CAM's path but for their weight function: XGrad-CAM stands for them.
      for (const method of ['xgradcam', 'eigencam'] as const) out[method] = await explainAndRead(net, volume, { method });
      out.scorecam = await explainAndRead(net, volume, { method: 'scorecam', maxForwardPasses: 4 });
      out.occlusion = await explainAndRead(net, volume, { method: 'occlusion', window: [4, 12, 12] });
      logits.dispose();
      expect(tf.memory().numTensors).toBe(before);
      volume.dispose();
      net.dispose();
      return out;
    };
    const wasm = await onBackend('wasm', run);
    const gpu = await onBackend('webgpu', run);
    expect(maxAbs(gpu.forward.logits, wasm.forward.logits)).toBeLessThan(TOL);
    expect(gpu.gradcam.targetClass).toEqual(wasm.gradcam.targetClass);
    expect(gpu.gradcampp.targetClass).toEqual([2]);
    for (const method of ['gradcam', 'gradcampp', 'xgradcam', 'eigencam', 'scorecam', 'occlusion']) {
      const d = diffs(gpu[method], wasm[method]);
      expect(Object.entries(d).filter(([, v]) => !(v < TOL))).toEqual([]);
      for (const k of ['saliency', 'saliencyUpsampled']) expectVaries(`${method}.${k}`, gpu[method][k]);
    }
  });
});
