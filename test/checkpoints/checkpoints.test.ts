import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspectCheckpoint, loadCheckpoint } from '../../src/io/checkpoint';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { fixturePath, readFixture } from '../helpers';

const ckpt = (name: string): string => fixturePath('checkpoints', name);

/** Asserts `actual` holds exactly the values and shapes of the expected F32 safetensors file. */
async function expectSame(actual: StateDict, expectedFile: string, keys?: string[]): Promise<void> {
  const expected = await loadSafetensors(ckpt(expectedFile));
  try {
    for (const k of keys ?? Object.keys(expected)) {
      expect([k, actual[k]?.shape]).toEqual([k, expected[k].shape]);
      expect([k, Array.from(await actual[k].data())]).toEqual([k, Array.from(await expected[k].data())]);
    }
  } finally {
    disposeStateDict(expected);
  }
}

describe('loadCheckpoint: torch.save files', () => {
  it.each([
    ['zip format', 'dtypes.pth'],
    ['legacy (pre-1.6) format', 'dtypes_legacy.pth'],
    ['zip with deflated entries', 'dtypes_deflated.pth'],
    ['ZIP64 records', 'dtypes_zip64.pth'],
    ['pickle protocol 4', 'dtypes_proto4.pth'],
  ])('reads F32/F16/BF16/F64/I64/I32/I16/I8/U8/bool, scalar and empty tensors (%s)', async (_, file) => {
    const before = tf.memory().numTensors;
    const sd = await loadCheckpoint(ckpt(file));
    await expectSame(sd, 'dtypes_expected.safetensors');
    expect(sd.f16.dtype).toBe('float32');
    expect(sd.bf16.dtype).toBe('float32');
    expect(sd.f64.dtype).toBe('float32');
    expect(sd.i64.dtype).toBe('int32');
    expect(sd.flags.dtype).toBe('int32');
    expect(sd.scalar.shape).toEqual([]);
    expect(Array.from(await sd.scalar.data())).toEqual([2.5]);
    expect(sd.empty.shape).toEqual([0, 3]);
    disposeStateDict(sd);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([['views.pth'], ['views_legacy.pth']])('honours strides, storage offsets, shared and expanded storages (%s)', async (file) => {
    const sd = await loadCheckpoint(ckpt(file));
    await expectSame(sd, 'views_expected.safetensors');
    // transposed = base.t(): element [j, i] of base.
    expect(Array.from(await sd.transposed.data()).slice(0, 4)).toEqual([0, 6, 12, 18]);
    disposeStateDict(sd);
  });

  it('follows the ZIP64 end record when the classic one is saturated', async () => {
    const zip = readFixture('checkpoints', 'dtypes_zip64.pth').slice();
    const v = new DataView(zip.buffer);
    const eocd = zip.byteLength - 22;
    expect(v.getUint32(eocd, true)).toBe(0x06054b50);
    v.setUint16(eocd + 8, 0xffff, true);
    v.setUint16(eocd + 10, 0xffff, true);
    v.setUint32(eocd + 12, 0xffffffff, true);
    v.setUint32(eocd + 16, 0xffffffff, true);
    const sd = await loadCheckpoint(zip);
    await expectSame(sd, 'dtypes_expected.safetensors');
    disposeStateDict(sd);
  });

  it('reads the same bytes from a path and from memory', async () => {
    const a = await loadCheckpoint(ckpt('views.pth'));
    const b = await loadCheckpoint(readFixture('checkpoints', 'views.pth'));
    for (const k of Object.keys(a)) expect(Array.from(await b[k].data())).toEqual(Array.from(await a[k].data()));
    disposeStateDict(a);
    disposeStateDict(b);
  });

  it('takes the weights of a Lightning checkpoint from state_dict, even with class references in hyper_parameters', async () => {
    const sd = await loadCheckpoint(ckpt('mst_dinov2_lightning.ckpt'));
    await expectSame(sd, 'mst_dinov2_expected.safetensors');
    expect(Object.keys(sd)).toHaveLength(Object.keys(sd).filter((k) => !k.startsWith('optimizer')).length);
    disposeStateDict(sd);
    const info = await inspectCheckpoint(ckpt('mst_dinov2_lightning.ckpt'));
    expect(info.format).toBe('torch-zip');
    expect(info.stateDictKey).toBe('state_dict');
    expect(info.topLevelKeys).toEqual(expect.arrayContaining(['epoch', 'global_step', 'hyper_parameters', 'optimizer_states']));
    expect(info.metadata.epoch).toBe(12);
    expect(info.metadata.hyper_parameters).toMatchObject({ optimizer: '<torch.optim.adamw.AdamW>', model_size: 's' });
    expect(info.tensors['slice_fusion.layers.0.self_attn.in_proj_weight']).toEqual({ dtype: 'F32', shape: [24, 8] });
  });

  it('picks a nested state dict by a dotted key', async () => {
    const sd = await loadCheckpoint(ckpt('mst_dinov2_lightning.ckpt'), { key: 'callbacks' }).catch((e: Error) => e);
    expect(sd).toBeInstanceOf(Error);
    expect((sd as Error).message).toMatch(/'callbacks' holds no tensors/);
    await expect(loadCheckpoint(ckpt('mst_dinov2_lightning.ckpt'), { key: 'nope' })).rejects.toThrow(/no 'nope' in the checkpoint \(top-level keys: epoch, global_step/);
  });

  it('lists a safetensors file without reading its data', async () => {
    const info = await inspectCheckpoint(ckpt('half.safetensors'));
    expect(info).toMatchObject({ format: 'safetensors', tensors: { h: { dtype: 'F16', shape: [3, 2] }, b: { dtype: 'BF16', shape: [5] } } });
  });

  it('reads F16 and BF16 safetensors to the float32 values PyTorch converts them to', async () => {
    const sd = await loadCheckpoint(ckpt('half.safetensors'));
    await expectSame(sd, 'half_expected.safetensors');
    disposeStateDict(sd);
  });

  it('round-trips save -> load bit for bit', async () => {
    const sd = await loadCheckpoint(ckpt('dinov2_hub_reg4.pth'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-ckpt-'));
    const file = path.join(dir, 'w.safetensors');
    await saveSafetensors(sd, file);
    const back = await loadCheckpoint(file);
    expect(Object.keys(back).sort()).toEqual(Object.keys(sd).sort());
    for (const k of Object.keys(sd)) {
      const a = new Uint32Array((await sd[k].data() as Float32Array).buffer);
      const b = new Uint32Array((await back[k].data() as Float32Array).buffer);
      expect([k, Array.from(b)]).toEqual([k, Array.from(a)]);
    }
    disposeStateDict(sd);
    disposeStateDict(back);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('loadCheckpoint: the reader is chosen by content, whatever the extension', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mst-ckpt-ext-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const renamed = (file: string, name: string): string => {
    const to = path.join(tmp, name);
    fs.copyFileSync(fixturePath('checkpoints', file), to);
    return to;
  };

  it.each([
    ['a torch.save zip named .safetensors', 'dtypes.pth', 'dtypes.safetensors'],
    ['a legacy torch.save pickle named .ckpt', 'dtypes_legacy.pth', 'dtypes.ckpt'],
    ['a safetensors file named .pth', 'half.safetensors', 'half.pth'],
    ['a safetensors file named .bin', 'half.safetensors', 'half.bin'],
  ])('%s loads as its content says', async (_, file, name) => {
    const want = await loadCheckpoint(fixturePath('checkpoints', file));
    const got = await loadCheckpoint(renamed(file, name));
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect([k, Array.from(await got[k].data())]).toEqual([k, Array.from(await want[k].data())]);
    disposeStateDict(want);
    disposeStateDict(got);
  });

  it('a hostile pickle named .safetensors still says that a global was refused', async () => {
    await expect(loadCheckpoint(renamed('hostile_os_system.pth', 'weights.safetensors'))).rejects.toThrow(/refused global 'posix\.system'/);
  });

  it('loadSafetensors on a torch file names what the file is and the reader to use', async () => {
    await expect(loadSafetensors(renamed('dtypes.pth', 'a.safetensors'))).rejects.toThrow(/a\.safetensors: not a safetensors file but a zip archive \(torch\.save.*read it with loadCheckpoint/);
    await expect(loadSafetensors(renamed('dtypes_legacy.pth', 'b.safetensors'))).rejects.toThrow(/b\.safetensors: not a safetensors file but a pickle \(protocol 2: a legacy torch\.save file\).*loadCheckpoint/);
  });
});

describe('loadCheckpoint: hostile and broken files', () => {
  const pwned = '/tmp/mst-ts-pwned';
  beforeAll(() => fs.rmSync(pwned, { force: true }));
  afterAll(() => expect(fs.existsSync(pwned)).toBe(false));

  it.each([
    ['a pickle that calls os.system', 'hostile_os_system.pth', /refused global 'posix\.system'/],
    ['the same in the legacy format', 'hostile_os_system_legacy.pth', /refused global 'posix\.system'/],
    ['a pickle that calls builtins.eval', 'hostile_eval.pth', /refused global 'builtins\.eval'/],
    ['an object of an unknown class', 'unknown_class.pth', /refused global '__main__\.Custom' \(called by NEWOBJ/],
    ['a whole pickled nn.Module', 'whole_module.pth', /refused global 'torch\.nn\.modules\.linear\.Linear' .*save its state_dict\(\)/],
    ['a TorchScript archive', 'torchscript.pt', /a TorchScript archive \(torch\.jit\.save\) holds code, not a state dict/],
    ['a truncated zip', 'truncated.pth', /no ZIP end-of-central-directory record \(truncated/],
    ['a storage shorter than its elements', 'storage_short.pth', /storage '0' claims 16 F32 elements \(64 bytes\) but its entry holds 20/],
    ['a view reaching outside its storage', 'view_out_of_range.pth', /reaches elements 2\.\.11 of a storage of 4/],
    ['a shape whose product overflows', 'shape_overflow.pth', /shape \[1099511627776,1099511627776,1099511627776\] overflows/],
    ['a safetensors header longer than the file', 'st_header_too_long.safetensors', /header claims 1099511627776 bytes but the file has/],
    ['overlapping safetensors offsets', 'st_overlap.safetensors', /tensors 'a' and 'b' overlap/],
    ['out-of-range safetensors offsets', 'st_out_of_range.safetensors', /data \[0,16\] lies beyond the file's 8 data bytes/],
    ['a safetensors shape whose product overflows', 'st_shape_overflow.safetensors', /shape \[1099511627776,1099511627776\] overflows/],
  ])('refuses %s with a clear error', async (_, file, message) => {
    const before = tf.memory().numTensors;
    await expect(loadCheckpoint(ckpt(file))).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps unknown objects as inert placeholders only when asked, and never hostile ones', async () => {
    const sd = await loadCheckpoint(ckpt('unknown_class.pth'), { opaqueObjects: true });
    expect(Object.keys(sd)).toEqual(['weight']);
    disposeStateDict(sd);
    await expect(loadCheckpoint(ckpt('hostile_os_system.pth'), { opaqueObjects: true })).rejects.toThrow(/refused global 'posix\.system'/);
  });

  it('names an unknown format and a missing file', async () => {
    await expect(loadCheckpoint(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).rejects.toThrow(/unknown checkpoint format \(first bytes 01 02 03/);
    await expect(loadCheckpoint('/nonexistent/w.pth')).rejects.toThrow(/cannot read '\/nonexistent\/w\.pth': no such file/);
  });
});
