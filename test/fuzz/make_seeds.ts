/**
 * Writes the fuzz seeds that mst-ts itself produces: two tiny models saved as `saveModel` does
 * (safetensors with the config in its metadata, and the JSON beside it) and a CSV of predictions.
 * The seeds written by NumPy, PyTorch, nibabel and pydicom come from tools/reference/fuzz_seeds.py.
 * Run: `npm run fuzz -- --make-seeds`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, type ModelConfig } from '../../src/models/model_config';
import { encodeModel } from '../../src/models/save_model';

export async function makeSeeds(root: string): Promise<void> {
  await tf.setBackend('cpu');
  const dir = path.join(root, 'test', 'fixtures', 'fuzz', 'seeds');
  const configs: Record<string, ModelConfig> = {
    'dinov2-tiny': { model: 'dinov2', options: { embedDim: 16, depth: 1, numHeads: 2, imgSize: 16, patchSize: 8, seed: 1 } },
    'resnet3d-tiny': { model: 'resnet3d', options: { block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [2, 2, 2, 2], numClasses: 2 } as never },
  };
  for (const [name, config] of Object.entries(configs)) {
    const model = buildModel(config);
    const { weights, json } = await encodeModel(model, {}, `${name}.safetensors`);
    model.dispose();
    fs.writeFileSync(path.join(dir, 'pretrained', `${name}.safetensors`), weights);
    fs.writeFileSync(path.join(dir, 'bundle', `${name}.json`), json);
  }
  fs.writeFileSync(path.join(dir, 'csv', 'predictions.csv'), 'UID,GT,NN_pred\ncase-1,1,0.91\n"case,2",0,0.12\ncase-3,1,"0.5"\r\n');
}
