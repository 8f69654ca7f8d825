import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DinoVisionTransformer } from '../models/dinov2';
import { fromPretrained } from '../models/from_pretrained';
import { UsageError } from './command';
import { parsePretrainArgs, pretrainCommand, pretrainEncoderOptions } from './pretrain';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    return { code: await pretrainCommand.run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

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
