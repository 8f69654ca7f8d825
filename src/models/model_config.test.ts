import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withoutInit } from '../nn/init';
import { disposeStateDict } from '../nn/module';
import { checkModelConfig, configOf, estimateModelValues, upgradeConfigV1 } from './model_config';
import { createModel, MODEL_REGISTRY } from './registry';
import { fromPretrained } from './from_pretrained';
import { saveModel, configPathFor, encodeModel } from './save_model';
import { encodeSafetensors, loadSafetensors } from '../io/safetensors';
import { loadSavedModel, parseSavedModelJson } from './from_pretrained';

describe('model configs', () => {
  it('estimate the values of every registered architecture to within 2% without building it', () => {
    for (const arch of MODEL_REGISTRY.keys()) {
      if (/resnet3d-(101|152)|mst-dinov2-b/.test(arch)) continue; // large; their smaller siblings cover the formulas
      const model = withoutInit(() => createModel(arch, { imageSize: 32 }));
      const dict = model.stateDict();
      const values = Object.values(dict).reduce((a, t) => a + t.size, 0);
      disposeStateDict(dict);
      const estimate = estimateModelValues(configOf(model)) as number;
      expect({ arch, ratio: Math.abs(estimate / values - 1) < 0.02 }).toEqual({ arch, ratio: true });
      model.dispose();
    }
  });

  it.each([
    ['depth 2^31-1', { model: 'dinov2', options: { embedDim: 64, depth: 2 ** 31 - 1, numHeads: 4 } }, /config\.options\.depth: expected an integer in \[1, 128\], got 2147483647/],
    ['embedDim 1e9', { model: 'dinov2', options: { embedDim: 1e9, depth: 1, numHeads: 4 } }, /embedDim: expected an integer in \[1, 8192\], got 1000000000/],
    ['an empty conv stem', { model: 'dinov2', options: { embedDim: 64, depth: 1, numHeads: 4, convStem: { channels: [] } } }, /convStem\.channels: expected a list of integers in \[1, 1024\], got \[\]/],
    ['blockInplanes 2^31-1', { model: 'resnet3d', options: { block: 'basic', layers: [1, 1, 1, 1], blockInplanes: [2 ** 31 - 1, 1, 1, 1] } }, /options\.blockInplanes: expected 4 integers in \[1, 4096\]/],
    ['layers that are not an array', { model: 'resnet3d', options: { block: 'basic', layers: 'deep' } }, /options\.layers: expected 4 integers in \[1, 64\], got "deep"/],
    ['an unknown model', { model: 'vgg', options: {} }, /config\.model: expected one of mst, resnet3d, dinov2, resnet2d, resnet, got "vgg"/],
    ['an unregistered encoder', { model: 'mst', encoder: { name: 'nope', options: {} }, fusion: { name: 'average', options: {} }, options: { numClasses: 2 } }, /config\.encoder\.name: 'nope' is not registered here/],
    ['a fusion with a bad option', { model: 'mst', encoder: { name: 'dinov2', options: { embedDim: 8, depth: 1, numHeads: 2 } }, fusion: { name: 'transformer', options: { heads: -1 } }, options: { numClasses: 2 } }, /heads: expected an integer in \[1, 256\], got -1/],
  ])('refuses %s, naming the field', (_what, config, error) => {
    expect(() => checkModelConfig(config)).toThrow(error);
  });

  it('refuses a valid-looking config that asks for far more values than its file holds, before building', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-config-'));
    const file = path.join(dir, 'small.safetensors');
    const model = createModel('mst-dinov2-tiny', { imageSize: 16 });
    await saveModel(model, file);
    model.dispose();
    const json = JSON.parse(fs.readFileSync(configPathFor(file), 'utf8'));
    json.config.encoder.options.depth = 128;
    json.config.encoder.options.embedDim = 4096;
    json.config.encoder.options.numHeads = 64;
    fs.writeFileSync(configPathFor(file), JSON.stringify(json));
    const before = tf.memory().numTensors;
    await expect(fromPretrained(file)).rejects.toThrow(/config: describes a model of about [\d,]+ values, but the file holds [\d,]+/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('upgrades a format-1 MST config to encoder, fusion and options', () => {
    const v1 = { model: 'mst', encoder: { model: 'dinov2', options: { embedDim: 64, depth: 2, numHeads: 4 } }, options: { numClasses: 2, sliceFusion: 'transformer', heads: 4, positionalEmbedding: 'learned', encoderName: 'encoder', encoderAttention: true, seed: 1 } };
    expect(upgradeConfigV1(v1)).toEqual({
      model: 'mst',
      encoder: { name: 'dinov2', options: { embedDim: 64, depth: 2, numHeads: 4 } },
      fusion: { name: 'transformer', options: { heads: 4, positionalEmbedding: 'learned' } },
      options: { numClasses: 2, seed: 1 },
    });
  });

  it("refuses a weights file with a tensor named '__proto__' as an unexpected key, leaking nothing", async () => {
    const model = createModel('mst-dinov2-tiny', { imageSize: 16 });
    const { weights, json } = await encodeModel(model);
    model.dispose();
    const dict = await loadSafetensors(weights);
    dict['__proto__'] = tf.zeros([2]);
    const hostile = await encodeSafetensors(dict);
    disposeStateDict(dict);
    const before = tf.memory().numTensors;
    await expect(loadSavedModel(hostile, json)).rejects.toThrow(/unexpected keys: __proto__/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the file when the config and the weights disagree', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-config-'));
    const file = path.join(dir, 'named.safetensors');
    const model = createModel('mst-dinov2-tiny', { imageSize: 16 });
    await saveModel(model, file);
    model.dispose();
    const json = JSON.parse(fs.readFileSync(configPathFor(file), 'utf8'));
    json.config.options.numClasses = 3;
    json.classNames = ['a', 'b', 'c'];
    fs.writeFileSync(configPathFor(file), JSON.stringify(json));
    const before = tf.memory().numTensors;
    await expect(fromPretrained(file)).rejects.toThrow(/fromPretrained\(.*named\.safetensors\): loadStateDict: mis-shaped keys: linear\.weight: expected \[3,64\], got \[2,64\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reads an ONNX graph's bundle JSON whose encoder is not registered here, when asked to build nothing", async () => {
    const model = createModel('mst-dinov2-tiny', { imageSize: 16 });
    const { json } = await encodeModel(model, { classNames: ['benign', 'malignant'] });
    model.dispose();
    const saved = JSON.parse(json);
    const text = JSON.stringify({ ...saved, config: { ...saved.config, encoder: { name: 'someone-elses-cnn', options: { width: 7 } } } });
    expect(() => parseSavedModelJson(text, 'custom.json')).toThrow(/custom\.json: config\.encoder\.name: 'someone-elses-cnn' is not registered here/);
    const bundle = parseSavedModelJson(text, 'custom.json', { components: 'any' });
    expect(bundle.classNames).toEqual(['benign', 'malignant']);
    expect(bundle.config).toMatchObject({ encoder: { name: 'someone-elses-cnn' } });
  });
});
