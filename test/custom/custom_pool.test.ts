import * as tf from '@tensorflow/tfjs';
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TinyCnn } from '../../examples/custom_encoder';
import { MedicalSliceTransformer, type MstModelConfig } from '../../src/models/medical_slice_transformer';
import { checkpointedGradients } from '../../src/train/checkpointed_step';
import { needs } from '../helpers';

// Worker threads run the built package's ES modules, so the README's custom encoder goes to them as
// a built file of its own: the example compiled to an ES module with 'mst-ts' left as an import
// (resolved to the built package by name), registered with `module` so each worker imports it.
const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const built = fs.existsSync(path.join(dist, 'index.cjs')) && fs.existsSync(path.join(dist, 'parallel', 'encoder_worker.cjs'));

describe('a custom slice encoder on the worker pool', () => {
  if (!needs(built, 'the built package (dist/)', 'npm run build')) {
    it.skip('trains data-parallel', () => undefined);
    return;
  }
  type Models = typeof import('../../src/models/index');
  type Parallel = typeof import('../../src/parallel/index');
  const models = require(path.join(dist, 'models', 'index.cjs')) as Models;
  const parallel = require(path.join(dist, 'parallel', 'index.cjs')) as Parallel;
  const moduleFile = path.join(root, 'test', 'custom', '.build', 'custom_encoder.mjs');

  beforeAll(() => {
    fs.mkdirSync(path.dirname(moduleFile), { recursive: true });
    buildSync({ entryPoints: [path.join(root, 'examples', 'custom_encoder.ts')], outfile: moduleFile, bundle: true, format: 'esm', platform: 'node', external: ['mst-ts', '@tensorflow/tfjs'], logLevel: 'silent' });
    // The built package's registry (the pool's) learns which file registers 'tiny-cnn': each worker
    // imports it and builds the encoder there (jest itself maps 'mst-ts' to the sources).
    models.registerEncoder('tiny-cnn', { create: (o) => new TinyCnn(o as { channels: number; featureSize: number }) as never, module: moduleFile });
  });

  it('DataParallelGradients on 2 workers equals the whole batch’s gradients to 1e-5', async () => {
    const model = new MedicalSliceTransformer({ encoder: 'tiny-cnn', encoderOptions: { channels: 8, featureSize: 32 }, fusion: 'transformer', fusionOptions: { heads: 4 }, numClasses: 2, seed: 5 });
    expect(model.encoder).toBeInstanceOf(TinyCnn);
    const config = model.modelConfig();
    const x = tf.randomNormal([4, 5, 16, 16], 0, 1, 'float32', 6);
    const labels = [0, 1, 1, 0];
    const whole = checkpointedGradients(model, x, labels, { chunkSize: 5 });
    const dp = await parallel.DataParallelGradients.create(config, { workers: 2 });
    try {
      const got = await dp.gradients(model, x, labels, { chunkSize: 5 });
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(whole.grads).sort());
      expect(Math.abs(got.loss.dataSync()[0] - whole.loss.dataSync()[0])).toBeLessThan(1e-6);
      for (const k of Object.keys(whole.grads)) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(got.grads[k], whole.grads[k]))).dataSync()[0]);
        expect([k, d < 1e-5]).toEqual([k, true]);
      }
      tf.dispose([got.loss, got.grads]);
    } finally {
      await dp.dispose();
      tf.dispose([x, whole.loss, whole.grads]);
      model.dispose();
    }
  });

  it('an encoder registered nowhere is refused before any worker starts', async () => {
    const config: MstModelConfig = {
      model: 'mst',
      encoder: { name: 'not-registered-anywhere', options: {} },
      fusion: { name: 'average', options: {} },
      options: { numClasses: 2, seed: 0, bottleneck: false, freezeEncoder: false },
    };
    await expect(parallel.DataParallelGradients.create(config, { workers: 1 })).rejects.toThrow(/unknown slice encoder 'not-registered-anywhere'/);
  });
});
