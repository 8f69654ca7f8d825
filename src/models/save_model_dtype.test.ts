import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadClassifier } from '../classifier/classifier';
import { parseSafetensorsHeader } from '../io/safetensors';
import { createEncoder } from './encoder_registry';
import { MedicalSliceTransformer } from './medical_slice_transformer';
import { saveModel } from './save_model';
import type { WeightDtype } from '../io/safetensors';

// The web page's demo model: a 2-block, 64-d ViT MST on 16 x 32 x 32 volumes.
const encoderOptions = { embedDim: 64, depth: 2, numHeads: 4, patchSize: 8, imgSize: 32, inChannels: 1, seed: 0 };

describe('saveModel with float16, bfloat16 and int8 weights', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-dtype-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a float16 bundle is about half the bytes and predicts within 1e-3 of float32; bfloat16 and int8 load too', async () => {
    const model = new MedicalSliceTransformer({ encoder: createEncoder('dinov2', encoderOptions), numClasses: 2, heads: 4, seed: 1 }).eval();
    const sizes: Record<string, number> = {};
    for (const dtype of ['float32', 'float16', 'bfloat16', 'int8'] as WeightDtype[]) {
      await saveModel(model, path.join(dir, `${dtype}.safetensors`), { classNames: ['benign', 'malignant'], dtype });
      sizes[dtype] = fs.statSync(path.join(dir, `${dtype}.safetensors`)).size;
    }
    model.dispose();
    expect(sizes.float16 / sizes.float32).toBeGreaterThan(0.45);
    expect(sizes.float16 / sizes.float32).toBeLessThan(0.55);
    expect(Math.abs(sizes.bfloat16 - sizes.float16)).toBeLessThan(1024);
    expect(sizes.int8 / sizes.float32).toBeLessThan(0.3);
    const header = parseSafetensorsHeader(fs.readFileSync(path.join(dir, 'float16.safetensors')));
    expect(header.entries['encoder.blocks.0.attn.qkv.weight'].dtype).toBe('F16');
    expect(header.entries['encoder.blocks.0.attn.qkv.bias'].dtype).toBe('F32');

    const volumes = [0, 1, 2].map((s) => tf.randomNormal([16, 32, 32], 0, 1, 'float32', 10 + s) as tf.Tensor3D);
    const probabilities: Record<string, number[][]> = {};
    const before = tf.memory().numTensors;
    for (const dtype of ['float32', 'float16', 'bfloat16', 'int8']) {
      const clf = await loadClassifier(path.join(dir, `${dtype}.safetensors`), { workers: 1 });
      probabilities[dtype] = [];
      for (const v of volumes) probabilities[dtype].push((await clf.predict(v)).probabilities);
      clf.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(volumes);
    const maxDiff = (dtype: string) => Math.max(...probabilities[dtype].flatMap((p, i) => p.map((x, j) => Math.abs(x - probabilities.float32[i][j]))));
    expect(maxDiff('float16')).toBeLessThan(1e-3);
    expect(maxDiff('float16')).toBeGreaterThan(0);
    // bfloat16 keeps 8 significant bits and int8 7: close, not within float16's bound.
    expect(maxDiff('bfloat16')).toBeLessThan(2e-2);
    expect(maxDiff('int8')).toBeLessThan(2e-2);
  }, 60_000);

  it('names a bad dtype', async () => {
    const model = new MedicalSliceTransformer({ encoder: createEncoder('dinov2', encoderOptions), numClasses: 2, heads: 4, seed: 1 });
    await expect(saveModel(model, path.join(dir, 'bad.safetensors'), { dtype: 'float8' as WeightDtype })).rejects.toThrow(/dtype must be one of float32, float16, bfloat16, int8, got 'float8'/);
    model.dispose();
  });
});
