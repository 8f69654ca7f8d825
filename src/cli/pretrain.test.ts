import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DinoVisionTransformer } from '../models/dinov2';
import { fromPretrained, loadModelBundle } from '../models/from_pretrained';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { saveModel } from '../models/save_model';
import { loadClassifier } from '../classifier/classifier';
import { parseSafetensorsHeader } from '../io/safetensors';
import { disposeStateDict, type StateDict } from '../nn/module';
import { table3Models } from '../reproduce/table3';
import { parseReproduceArgs, reproduceCommand } from './reproduce';
import { UsageError } from './command';
import { parsePretrainArgs, pretrainCommand, pretrainEncoderOptions } from './pretrain';
import { runCommand } from '../../test/cli_fixtures';

const run = (args: string[]): ReturnType<typeof runCommand> => runCommand(pretrainCommand, args);

describe('mst-ts pretrain', () => {
  it('pretrains on the three synthetic tasks at the tiny scale and writes an encoder fromPretrained reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-pretrain-cli-'));
    const before = tf.memory().numTensors;
    const { code, out, err } = await run(['--task', 'synthetic-all', '--scale', 'tiny', '--out', dir, '--json']);
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ task: 'synthetic-all', arch: 'mst-dinov2-tiny-conv', seed: 0, epochs: 2, encoder: `${dir}/encoder.safetensors` });
    expect(Object.keys(summary.knn).sort()).toEqual(['breast', 'chest', 'knee']);
    for (const v of Object.values(summary.knn) as { random: number; pretrained: number }[]) {
      expect(v.random).toBeGreaterThanOrEqual(0);
      expect(v.pretrained).toBeLessThanOrEqual(1);
    }
    expect(summary.cpuSeconds).toBeGreaterThan(summary.trainingCpuSeconds);
    expect(err).toContain('epoch 0 (random encoder): k-NN breast');
    expect(fs.readdirSync(dir).sort()).toEqual(['encoder.json', 'encoder.safetensors', 'last.safetensors', 'log.jsonl', 'loss.csv', 'loss_curve.svg', 'summary.json']);
    const enc = await fromPretrained(path.join(dir, 'encoder.safetensors'));
    expect(enc).toBeInstanceOf(DinoVisionTransformer);
    expect((enc as DinoVisionTransformer).config).toMatchObject({ embedDim: 64, depth: 2, numHeads: 4, patchSize: 4, imgSize: 32, inChannels: 1, convStem: { channels: [32], strides: [2] } });
    enc.dispose();
  });

  it("writes DINOv2's hub names, which fromPretrained, --encoder-weights and model bundles load", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-pretrain-load-'));
    try {
      const file = path.join(dir, 'encoder.safetensors');
      expect((await run(['--task', 'synthetic-chest', '--scale', 'tiny', '--epochs', '1', '--out', dir])).code).toBe(0);
      const before = tf.memory().numTensors;
      // The teacher backbone alone, keyed as torch.hub's dinov2_vits14 (plus the stem): no DINO head, no student.
      const keys = Object.keys(parseSafetensorsHeader(fs.readFileSync(file), file).entries);
      for (const k of ['cls_token', 'pos_embed', 'mask_token', 'patch_embed.proj.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.ls1.gamma', 'blocks.1.mlp.fc2.bias', 'norm.weight']) expect(keys).toContain(k);
      expect(keys.filter((k) => !/^(cls_token|pos_embed|mask_token|patch_embed\.|blocks\.\d+\.|norm\.|stem\.)/.test(k))).toEqual([]);
      const weights = async (sd: StateDict): Promise<number[]> => {
        const out = Array.from(await sd['blocks.1.attn.qkv.weight'].data());
        disposeStateDict(sd);
        return out;
      };
      const reference = await fromPretrained(file, { arch: 'dinov2' });
      const want = await weights(reference.stateDict());
      // The bundle JSON beside it names the architecture, so a bare load needs no options.
      const { model, bundle } = await loadModelBundle(file);
      expect(bundle.config.model).toBe('dinov2');
      expect(await weights(model.stateDict())).toEqual(want);
      model.dispose();

      // mst-ts reproduce --encoder-weights: the DINOv2-S rows build on it, fine-tuned and frozen.
      const args = parseReproduceArgs(['table3', '--scale', 'tiny', '--task', 'synthetic-chest', '--encoder-weights', file, '--out', path.join(dir, 'r')]);
      const rows = table3Models(args.options);
      for (const [i, frozen] of [[0, false], [3, true]] as const) {
        expect(rows[i].description).toContain(`from ${file}`);
        const mst = (await rows[i].build([8, 16, 16], 0)) as MedicalSliceTransformer;
        expect(await weights(mst.encoder.stateDict())).toEqual(want);
        expect(mst.encoder.trainableVariables().length === 0).toBe(frozen);
        // An MST on it saved as a model bundle loads back as a Classifier with the same encoder.
        if (i === 0) {
          await saveModel(mst, path.join(dir, 'mst.safetensors'), { classNames: ['no lesion', 'lesion'] });
          const clf = await loadClassifier(path.join(dir, 'mst.safetensors'));
          expect(clf.classNames).toEqual(['no lesion', 'lesion']);
          expect(await weights((clf.model as MedicalSliceTransformer).encoder.stateDict())).toEqual(want);
          clf.model.dispose();
        }
        mst.dispose();
      }
      reference.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      let printed = '';
      err.mockImplementation((c: string | Uint8Array) => ((printed += String(c)), true));
      try {
        expect(await reproduceCommand.run(['table3', '--scale', 'tiny', '--task', 'synthetic-chest', '--encoder-weights', file, '--out', path.join(dir, 'r'), '--dry-run'])).toBe(0);
      } finally {
        err.mockRestore();
      }
      expect(printed).toMatch(/MST \(DINOv2\): [\d.]+ M parameters .*pretrained DINOv2 ViT-S\/14 from /);
      expect(printed).toMatch(/MST \(DINOv2 Frozen\): [\d.]+ M parameters \(0\.0\d\d M trained\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses its flags, with the quick recipe as default, and refuses bad ones', () => {
    const a = parsePretrainArgs([]);
    expect(a).toMatchObject({ task: 'synthetic-all', arch: 'mst-dinov2-tiny-conv', scale: 'quick', seed: 0, out: 'enc', resume: false });
    const b = parsePretrainArgs(['--task', 'synthetic-knee', '--epochs', '3', '--lr', '1e-4', '--koleo', '0.1', '--ibot', '1', '--local-crops', '0', '--out-dim', '128']);
    expect(b.recipe).toMatchObject({ epochs: 3, lr: 1e-4, koleoWeight: 0.1, ibotWeight: 1, crops: { localCrops: 0 }, head: { outDim: 128 } });
    expect(() => parsePretrainArgs(['--task', 'synthetic-lung'])).toThrow(UsageError);
    expect(() => parsePretrainArgs(['--task', 'synthetic-all', '--manifest', 'm.csv'])).toThrow('give --task or --manifest, not both');
    expect(() => parsePretrainArgs(['--epochs', '0'])).toThrow('--epochs must be an integer >= 1');
    expect(() => parsePretrainArgs(['--arch', 'resnet3d-18'])).toThrow("unknown --arch 'resnet3d-18'");
    expect(() => parsePretrainArgs(['--bogus'])).toThrow(UsageError);
    expect(pretrainEncoderOptions('dinov2-vits14', 224)).toMatchObject({ embedDim: 384, imgSize: 224, patchSize: 14 });
  });
});
