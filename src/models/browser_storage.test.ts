import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { fixturePath, maxAbsDiff } from '../../test/helpers';
import { buildModel, configOf, type ConfigurableModel } from './model_config';
import type { MedicalSliceTransformer } from './medical_slice_transformer';
import { encodeModel } from './save_model';
import { disposeStateDict } from '../nn/module';
import {
  deleteModelFromIndexedDB,
  downloadModel,
  listModelsInIndexedDB,
  loadModelFrom,
  loadModelFromFiles,
  loadModelFromIndexedDB,
  modelArtifacts,
  saveModelTo,
  saveModelToIndexedDB,
} from './browser_storage';
import type { NamedBytesFile } from '../io/volume_files';
import { encodeSafetensors } from '../io/safetensors';

/** A small MST over a slimmed ResNet-18 (ResNetSliceTrans names on disk). */
function tinyMst(): ConfigurableModel {
  return buildModel({
    model: 'mst',
    encoder: { name: 'resnet2d', options: { block: 'basic', layers: [2, 2, 2, 2], blockInplanes: [2, 2, 4, 8], feedForward: false, seed: 1 } },
    fusion: { name: 'transformer', options: { heads: 4 } },
    options: { numClasses: 2, bottleneck: false, freezeEncoder: false, seed: 2 },
  });
}

/** Every tensor of both models byte for byte (PyTorch layout). */
async function expectSameWeights(a: ConfigurableModel, b: ConfigurableModel): Promise<void> {
  const [da, db] = [a.stateDict(), b.stateDict()];
  const [ea, eb] = [await encodeSafetensors(da), await encodeSafetensors(db)];
  disposeStateDict(da);
  disposeStateDict(db);
  expect(Buffer.from(eb).equals(Buffer.from(ea))).toBe(true);
}

const file = (name: string, bytes: Uint8Array | string): NamedBytesFile => ({
  name,
  arrayBuffer: async () => {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  },
});

describe('browser IO (byte-level pieces in Node)', () => {
  it('round-trips through a tfjs IO handler bit-identically', async () => {
    const model = tinyMst();
    let saved: tf.io.ModelArtifacts | undefined;
    await saveModelTo(model, tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    expect(saved!.weightSpecs!.some((s) => s.name.startsWith('model.layer1.'))).toBe(true);
    const again = await loadModelFrom(tf.io.fromMemory(saved!));
    expect(configOf(again)).toEqual(configOf(model));
    await expectSameWeights(model, again);
    model.dispose();
    again.dispose();
  });

  it('loads the saveModel pair, a lone mst-ts safetensors and a foreign checkpoint from picked files', async () => {
    const before = tf.memory().numTensors;
    const model = tinyMst();
    const { weights, json } = await encodeModel(model);
    for (const files of [[file('m.safetensors', weights), file('m.json', json)], [file('m.safetensors', weights)]]) {
      const again = await loadModelFromFiles(files);
      await expectSameWeights(model, again);
      again.dispose();
    }
    const foreign = await loadModelFromFiles([file('mst_dinov2.ckpt', new Uint8Array(fs.readFileSync(fixturePath('pretrained', 'mst_dinov2.ckpt'))))], { numHeads: 4, sliceHeads: 4 });
    expect((foreign as MedicalSliceTransformer).numClasses).toBe(3);
    foreign.dispose();
    await expect(loadModelFromFiles([file('a.json', json)])).rejects.toThrow(/expected one weights file .* got a\.json/);
    await expect(loadModelFromFiles([file('m.safetensors', weights), file('m.json', '{"format":"other"}')])).rejects.toThrow(/m\.json: expected format 'mst-ts-model', got "other"/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says where downloads work instead of touching a missing document', async () => {
    const model = tinyMst();
    await expect(downloadModel(model, 'm.safetensors')).rejects.toThrow(/needs a browser document; in Node use saveModel/);
    await expect(loadModelFromIndexedDB('x')).rejects.toThrow(/IndexedDB is not available here/);
    model.dispose();
  });

  it('stores, lists, loads and deletes models in IndexedDB (fake-indexeddb)', async () => {
    const { indexedDB } = await import('fake-indexeddb');
    (globalThis as { indexedDB?: unknown }).indexedDB = indexedDB;
    try {
      const model = tinyMst();
      await saveModelToIndexedDB(model, 'tiny');
      expect(await listModelsInIndexedDB()).toEqual(['tiny']);
      const again = await loadModelFromIndexedDB('tiny');
      await expectSameWeights(model, again);
      const x = tf.randomNormal([1, 2, 32, 32], 0, 1, 'float32', 3);
      const [ya, yb] = [(model as MedicalSliceTransformer).eval().forward(x).logits, (again as MedicalSliceTransformer).eval().forward(x).logits];
      expect(maxAbsDiff(ya, yb)).toBe(0);
      tf.dispose([x, ya, yb]);
      await expect(loadModelFromIndexedDB('nope')).rejects.toThrow(/no model 'nope' .* stored: tiny/);
      await deleteModelFromIndexedDB('tiny');
      expect(await listModelsInIndexedDB()).toEqual([]);
      model.dispose();
      again.dispose();
    } finally {
      delete (globalThis as { indexedDB?: unknown }).indexedDB;
    }
  });

  it('keeps a tfjs artifact’s weights in PyTorch layout', async () => {
    const model = tinyMst();
    const a = await modelArtifacts(model);
    const fc = a.weightSpecs!.find((s) => s.name === 'linear.weight');
    expect(fc?.shape).toEqual([2, 8]);
    model.dispose();
  });
});
