import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturePath, maxAbsDiff } from '../../test/helpers';
import { loadSafetensors } from '../io/safetensors';
import { fromPretrained } from '../models/from_pretrained';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { disposeStateDict } from '../nn/module';
import { UsageError } from './command';
import { convertCommand } from './convert';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    return { code: await convertCommand.run(argv), out: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('mst-ts convert', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-convert-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('turns the authors’ Lightning checkpoint into safetensors + config that give PyTorch’s logits', async () => {
    const out = path.join(tmp, 'mst.safetensors');
    const { code, out: text } = await run([fixturePath('pretrained', 'mst_dinov2.ckpt'), out, '--num-heads', '4', '--slice-heads', '4', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(text);
    expect(summary).toMatchObject({ out, json: path.join(tmp, 'mst.json'), config: { model: 'mst', encoder: { name: 'dinov2' }, fusion: { name: 'transformer', options: { heads: 4 } }, options: { numClasses: 3 } } });
    const model = (await fromPretrained(out)) as MedicalSliceTransformer;
    const expected = await loadSafetensors(fixturePath('pretrained', 'expected.safetensors'));
    const { logits } = model.eval().forward(expected['mst_dinov2.x']);
    expect(maxAbsDiff(logits, expected['mst_dinov2.logits'])).toBeLessThan(1e-4);
    tf.dispose(logits);
    disposeStateDict(expected);
    model.dispose();
  });

  it('asks for what the tensors cannot tell, and checks its arguments', async () => {
    await expect(run([fixturePath('pretrained', 'dinov2_hub.pth'), path.join(tmp, 'x.safetensors')])).rejects.toThrow(/pass \{ numHeads \} \(the CLI's --num-heads\)/);
    await expect(run([fixturePath('pretrained', 'dinov2_hub.pth'), path.join(tmp, 'x.pth')])).rejects.toThrow(UsageError);
    await expect(run([fixturePath('pretrained', 'dinov2_hub.pth'), path.join(tmp, 'x.safetensors'), '--num-heads', 'four'])).rejects.toThrow(/--num-heads expects a positive integer, got 'four'/);
    await expect(run([fixturePath('pretrained', 'dinov2_hub.pth'), path.join(tmp, 'x.safetensors'), '--arch', 'vit'])).rejects.toThrow(/--arch must be a registry architecture \(mst-dinov2-s, .*\) or one of dinov2, resnet2d, resnet3d, resnet, mst, got 'vit'/);
    expect(fs.existsSync(path.join(tmp, 'x.safetensors'))).toBe(false);
  });
});
