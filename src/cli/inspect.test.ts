import * as tf from '@tensorflow/tfjs';
import { fixturePath } from '../../test/helpers';
import { UsageError } from './command';
import { inspectCommand } from './inspect';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    const code = await inspectCommand.run(argv);
    return { code, out: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('mst-ts inspect', () => {
  it('prints keys, dtypes, shapes and the convention of a Lightning checkpoint as JSON', async () => {
    const { code, out } = await run([fixturePath('checkpoints', 'mst_dinov2_lightning.ckpt'), '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ format: 'torch-zip', stateDictKey: 'state_dict', convention: { convention: 'mst-dinov2', family: 'mst-dinov2' } });
    expect(r.tensors[0]).toEqual({ key: 'encoder.cls_token', dtype: 'F32', shape: [1, 1, 8] });
    expect(r.numTensors).toBe(r.tensors.length);
    expect(r.metadata.hyper_parameters.optimizer).toBe('<torch.optim.adamw.AdamW>');
  });

  it('checks shapes and reports the architecture with --check', async () => {
    const before = tf.memory().numTensors;
    const { code, out } = await run([fixturePath('checkpoints', 'dinov2_hf_reg4.safetensors'), '--json', '--check']);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.convention.convention).toBe('dinov2-hf');
    expect(r.check).toMatchObject({ ok: true, dinov2: { embedDim: 8, depth: 2, numRegisterTokens: 4, posGridSize: 3 } });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('prints a text table', async () => {
    const { code, out } = await run([fixturePath('checkpoints', 'resnet18_torchvision.pth')]);
    expect(code).toBe(0);
    expect(out).toMatch(/convention: {2}torchvision-resnet: 4-D 'conv1\.weight'/);
    expect(out).toMatch(/ {2}conv1\.weight +F32 +\[1, 3, 7, 7\]/);
  });

  it('refuses a hostile file and a missing argument with clear errors', async () => {
    await expect(run([fixturePath('checkpoints', 'hostile_eval.pth')])).rejects.toThrow(/refused global 'builtins\.eval'/);
    await expect(run([])).rejects.toThrow(UsageError);
  });
});
