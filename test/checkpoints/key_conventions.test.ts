import * as tf from '@tensorflow/tfjs';
import { inspectCheckpoint, loadCheckpoint } from '../../src/io/checkpoint';
import { detectConvention, toOurConvention, type KeyConvention, type ModelFamily } from '../../src/io/key_conventions';
import { encodeSafetensors, loadSafetensors } from '../../src/io/safetensors';
import { fromPretrained } from '../../src/models/from_pretrained';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { fixturePath } from '../helpers';

const ckpt = (name: string): string => fixturePath('checkpoints', name);

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Every expected tensor equals the converted one exactly (same shape, same numbers). */
async function expectEqualDicts(actual: StateDict, expected: StateDict, skip: string[] = []): Promise<void> {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const k of Object.keys(expected)) {
    if (skip.includes(k)) continue;
    expect([k, actual[k].shape]).toEqual([k, expected[k].shape]);
    expect([k, await values(actual[k])]).toEqual([k, await values(expected[k])]);
  }
}

describe('key conventions: detection', () => {
  it.each<[string, KeyConvention, ModelFamily, string]>([
    ['dinov2_hub.pth', 'dinov2-hub', 'dinov2', ''],
    ['dinov2_hub_reg4.pth', 'dinov2-hub', 'dinov2', ''],
    ['dinov2_hf.bin', 'dinov2-hf', 'dinov2', ''],
    ['dinov2_hf_reg4.safetensors', 'dinov2-hf', 'dinov2', ''],
    ['dinov2_hf_classifier.bin', 'dinov2-hf', 'dinov2', 'dinov2.'],
    ['dinov2_timm.pth', 'dinov2-timm', 'dinov2', ''],
    ['dinov2_timm_reg4.safetensors', 'dinov2-timm', 'dinov2', ''],
    ['mst_dinov2_lightning.ckpt', 'mst-dinov2', 'mst-dinov2', ''],
    ['mst_resnet_slice_lightning.ckpt', 'mst-resnet-slice', 'mst-resnet', ''],
    ['mst_resnet3d_lightning.ckpt', 'mst-resnet', 'resnet3d', ''],
    ['resnet18_monai_3d.pth', 'monai-resnet', 'resnet3d', 'module.'],
    ['resnet18_torchvision.pth', 'torchvision-resnet', 'resnet2d', ''],
  ])('%s is %s', async (file, convention, family, prefix) => {
    const info = await inspectCheckpoint(ckpt(file));
    const shapes = Object.fromEntries(Object.entries(info.tensors).map(([k, v]) => [k, v.shape]));
    const m = detectConvention(Object.keys(shapes), shapes);
    expect({ convention: m.convention, family: m.family, prefix: m.prefix }).toEqual({ convention, family, prefix });
  });

  it('finds the backbone of a DINOv2 training checkpoint (teacher, chunked blocks)', () => {
    const m = detectConvention(['backbone.cls_token', 'backbone.mask_token', 'backbone.patch_embed.proj.weight', 'backbone.blocks.0.3.norm1.weight', 'dino_head.mlp.0.weight']);
    expect(m).toMatchObject({ convention: 'dinov2-hub', prefix: 'backbone.' });
  });

  it('says so when nothing matches', () => {
    expect(detectConvention(['foo.weight', 'bar.bias']).convention).toBe('unknown');
  });
});

describe('key conventions: mapping to ours', () => {
  it.each([
    ['hub (ours already)', 'dinov2_hub.pth', 'dinov2_expected.safetensors'],
    ['Hugging Face (q/k/v concatenated into qkv)', 'dinov2_hf.bin', 'dinov2_expected.safetensors'],
    ['Hugging Face with registers', 'dinov2_hf_reg4.safetensors', 'dinov2_reg4_expected.safetensors'],
    ['Hugging Face SwiGLU (weights_in/out -> w12/w3)', 'dinov2_hf_swiglu.bin', 'dinov2_swiglu_expected.safetensors'],
    ['Hugging Face classifier (dinov2. prefix)', 'dinov2_hf_classifier.bin', 'dinov2_expected.safetensors'],
    ['timm', 'dinov2_timm.pth', 'dinov2_expected.safetensors'],
    ['timm packed SwiGLU (fc1/fc2 -> w12/w3)', 'dinov2_timm_swiglu.pth', 'dinov2_swiglu_expected.safetensors'],
  ])('maps DINOv2 %s to the hub tensors exactly', async (_, file, expectedFile) => {
    const before = tf.memory().numTensors;
    const expected = await loadSafetensors(ckpt(expectedFile));
    const converted = toOurConvention(await loadCheckpoint(ckpt(file)));
    const timm = file.includes('timm');
    // timm drops the (pre-training only) mask token; it comes back as DINOv2's zero init.
    await expectEqualDicts(converted.stateDict, expected, timm ? ['mask_token'] : []);
    if (timm) {
      expect(converted.synthesized).toEqual(['mask_token']);
      expect(await values(converted.stateDict.mask_token)).toEqual(new Array(8).fill(0));
    }
    expect(converted.dinov2).toMatchObject({ embedDim: 8, depth: 2, patchSize: 2, inChannels: 3, posGridSize: 3, numHeads: null });
    expect(converted.dinov2?.ffnLayer).toBe(file.includes('swiglu') ? 'swiglufused' : 'mlp');
    const extraKeys = Object.keys(converted.extra);
    expect(extraKeys).toEqual(file.includes('classifier') ? ['classifier.weight', 'classifier.bias'] : []);
    disposeStateDict(expected);
    disposeStateDict(converted.stateDict);
    disposeStateDict(converted.extra);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps a chunked DINOv2 training backbone (backbone.blocks.C.N.*) to hub names', async () => {
    const hub = await loadCheckpoint(ckpt('dinov2_hub.pth'));
    const expected = await loadSafetensors(ckpt('dinov2_expected.safetensors'));
    const chunked: StateDict = {};
    for (const [k, t] of Object.entries(hub)) chunked[`backbone.${k.replace(/^blocks\.(\d+)\./, (_, i) => `blocks.${Number(i) < 1 ? 0 : 1}.${i}.`)}`] = t;
    chunked['dino_head.last_layer.weight'] = tf.zeros([4, 8]);
    const converted = toOurConvention(chunked);
    await expectEqualDicts(converted.stateDict, expected);
    expect(Object.keys(converted.extra)).toEqual(['dino_head.last_layer.weight']);
    disposeStateDict(expected);
    disposeStateDict(converted.stateDict);
    disposeStateDict(converted.extra);
  });

  it('maps timm reg4 (no class position, class position folded into cls_token) to an equivalent hub dict', async () => {
    const hub = await loadSafetensors(ckpt('dinov2_reg4_expected.safetensors'));
    const converted = toOurConvention(await loadSafetensors(ckpt('dinov2_timm_reg4.safetensors')));
    const sd = converted.stateDict;
    expect(converted.dinov2).toMatchObject({ numRegisterTokens: 4, posGridSize: 3 });
    expect(sd.pos_embed.shape).toEqual([1, 10, 8]);
    // What the model adds to the class token (cls + pos[0]) and to the patches (pos[1:]) is unchanged.
    const clsPlusPos = (d: StateDict) => tf.tidy(() => tf.add(d.cls_token.reshape([8]), d.pos_embed.slice([0, 0, 0], [1, 1, 8]).reshape([8])));
    const [a, b] = [clsPlusPos(sd), clsPlusPos(hub)];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    const [pa, pb] = [sd.pos_embed.slice([0, 1, 0], [1, 9, 8]), hub.pos_embed.slice([0, 1, 0], [1, 9, 8])];
    expect(await values(pa)).toEqual(await values(pb));
    expect(await values(sd.register_tokens)).toEqual(await values(hub.register_tokens));
    tf.dispose([a, b, diff, pa, pb]);
    disposeStateDict(hub);
    disposeStateDict(sd);
  });

  it("keeps the authors' MST names and reads the architecture", async () => {
    const converted = toOurConvention(await loadCheckpoint(ckpt('mst_dinov2_lightning.ckpt')));
    const expected = await loadSafetensors(ckpt('mst_dinov2_expected.safetensors'));
    await expectEqualDicts(converted.stateDict, expected);
    expect(converted.family).toBe('mst-dinov2');
    expect(converted.dinov2?.depth).toBe(2);
    disposeStateDict(expected);
    disposeStateDict(converted.stateDict);
  });

  it("reads the authors' linear-fusion variant (no slice transformer, head over 32 slices)", async () => {
    const sd = await loadCheckpoint(ckpt('mst_dinov2_lightning.ckpt'));
    for (const k of Object.keys(sd)) {
      if (k.startsWith('slice_fusion.') || k === 'cls_token' || k.startsWith('linear.')) {
        sd[k].dispose();
        delete sd[k];
      }
    }
    sd['linear.weight'] = tf.zeros([2, 8 * 32]);
    sd['linear.bias'] = tf.zeros([2]);
    expect(detectConvention(Object.keys(sd)).convention).toBe('mst-dinov2');
    const converted = toOurConvention(sd);
    expect(converted.family).toBe('mst-dinov2');
    expect(converted.stateDict['linear.weight'].shape).toEqual([2, 256]);
    disposeStateDict(converted.stateDict);
  });

  it.each([
    ['mst_resnet_slice_lightning.ckpt', 'mst-resnet', 'encoder.conv1.weight', { spatialDims: 2, depth: 18, numClasses: null, featureSize: 8 }],
    ['mst_resnet3d_lightning.ckpt', 'resnet3d', 'conv1.weight', { spatialDims: 3, depth: 18, inChannels: 1, numClasses: 2, conv1Kernel: [7, 7, 7] }],
    ['resnet18_monai_3d.pth', 'resnet3d', 'layer4.1.bn2.running_var', { spatialDims: 3, depth: 18, numClasses: 2 }],
    ['resnet18_torchvision.pth', 'resnet2d', 'fc.weight', { spatialDims: 2, depth: 18, block: 'basic', numClasses: 5, featureSize: 8 }],
    ['resnet50_torchvision_nofc.pth', 'resnet2d', 'layer4.2.conv3.weight', { depth: 50, block: 'bottleneck', layers: [3, 4, 6, 3], numClasses: null, featureSize: 32 }],
  ])('maps %s to %s names and reads the ResNet', async (file, family, someKey, config) => {
    const converted = toOurConvention(await loadCheckpoint(ckpt(file)));
    expect(converted.family).toBe(family);
    expect(converted.stateDict[someKey]).toBeDefined();
    expect(Object.keys(converted.stateDict).some((k) => k.startsWith('model.') || k.startsWith('module.'))).toBe(false);
    expect(converted.resnet).toMatchObject(config);
    disposeStateDict(converted.stateDict);
  });

  it("keeps a MedicalNet-style segmentation head out of a MONAI ResNet's state dict", async () => {
    const sd = await loadCheckpoint(ckpt('resnet18_monai_3d.pth'));
    sd['module.conv_seg.0.weight'] = tf.zeros([2, 8, 1, 1, 1]);
    const converted = toOurConvention(sd);
    expect(Object.keys(converted.extra)).toEqual(['conv_seg.0.weight']);
    expect(converted.stateDict['conv1.weight'].shape).toEqual([1, 1, 7, 7, 7]);
    disposeStateDict(converted.stateDict);
    disposeStateDict(converted.extra);
  });

  it.each([
    ['a Hugging Face query of the wrong width', 'dinov2_hf.bin', 'encoder.layer.1.attention.attention.key.weight', [8, 4], /layer 1 query\/key\/value weight shapes differ: \[8,8\], \[8,4\], \[8,8\]/],
    ['a hub positional embedding off the grid', 'dinov2_hub.pth', 'pos_embed', [1, 9, 8], /'pos_embed' expected \[1, 1 \+ n\*n, 8\], got \[1,9,8\]/],
    ['a hub fc2 of the wrong shape', 'dinov2_hub.pth', 'blocks.1.mlp.fc2.weight', [8, 15], /'blocks\.1\.mlp\.fc2\.weight' expected shape \[8, 16\], got \[8, 15\]/],
    ['an MST head of the wrong width', 'mst_dinov2_lightning.ckpt', 'linear.weight', [2, 7], /'linear\.weight' expected \[classes, 8\], got \[2,7\]/],
    ['a ResNet batch norm that does not match its conv', 'resnet18_torchvision.pth', 'layer2.0.bn1.weight', [3], /'layer2\.0\.bn1\.weight' expected shape \[2\], got \[3\]/],
  ])('refuses the right keys with %s', async (_, file, key, shape, message) => {
    const sd = await loadCheckpoint(ckpt(file));
    sd[key].dispose();
    sd[key] = tf.zeros(shape);
    expect(() => toOurConvention(sd)).toThrow(message);
    disposeStateDict(sd);
  });
});

describe('key conventions: a state dict mst-ts cannot place', () => {
  /** A state dict of zeros with these keys and shapes. */
  function dict(shapes: Record<string, number[]>): StateDict {
    return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.zeros(s)]));
  }

  it('an MST around a small CNN: names the conventions tried and keys it saw, not a ResNet depth', async () => {
    const sd = dict({
      cls_token: [1, 1, 8],
      'encoder.conv1.weight': [4, 3, 3, 3],
      'encoder.conv2.weight': [8, 4, 3, 3],
      'encoder.fc.weight': [8, 8],
      'slice_fusion.layers.0.linear1.weight': [8, 8],
      'linear.weight': [2, 8],
    });
    expect(detectConvention(Object.keys(sd)).convention).toBe('unknown');
    let message = '';
    try {
      toOurConvention(sd);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^toOurConvention: the state dict matches no key convention mst-ts reads: 'slice_fusion\.\*' \(an MST\), but its encoder is neither a DINOv2/);
    for (const c of ['dinov2-hub', 'dinov2-hf', 'dinov2-timm', 'mst-dinov2', 'mst-resnet-slice', 'mst-resnet', 'monai-resnet', 'torchvision-resnet']) expect(message).toContain(`${c}: `);
    expect(message).toContain('Keys seen: cls_token, encoder.conv1.weight, encoder.conv2.weight, encoder.fc.weight, slice_fusion.layers.0.linear1.weight, linear.weight (6 keys)');
    expect(message).not.toMatch(/match no ResNet/);
    // fromPretrained reports the same, for a file.
    const bytes = await encodeSafetensors(sd);
    await expect(fromPretrained(bytes)).rejects.toThrow(/matches no key convention mst-ts reads.*Tried dinov2-hub: .*Keys seen: cls_token, encoder\.conv1\.weight/);
    disposeStateDict(sd);
  });

  it('a small CNN with a Sequential named layer1 is not taken for a ResNet', () => {
    const sd = dict({ 'conv1.weight': [4, 1, 3, 3], 'layer1.0.weight': [8, 4, 3, 3], 'layer1.1.weight': [8], 'layer1.1.bias': [8], 'fc.weight': [2, 8] });
    expect(() => toOurConvention(sd)).toThrow(/matches no key convention mst-ts reads: no key pattern of a known convention\. Tried .*torchvision-resnet: 'conv1\.weight' \(4-D\) and 'layer1\.0\.conv1\.weight'\. Keys seen: conv1\.weight, layer1\.0\.weight, layer1\.1\.weight, layer1\.1\.bias, fc\.weight \(5 keys\)/);
    disposeStateDict(sd);
  });

  it('a ResNet of no standard depth says how it was read and which keys it saw', async () => {
    const sd = await loadCheckpoint(ckpt('resnet18_torchvision.pth'));
    for (const k of Object.keys(sd).filter((k) => k.startsWith('layer4.1.'))) {
      sd[k].dispose();
      delete sd[k];
    }
    expect(() => toOurConvention(sd)).toThrow(/basic blocks per stage \[2,2,2,1\] match no ResNet 18\/34\/50\/101\/152 \(read as torchvision-resnet, detected from 4-D 'conv1\.weight' \(torchvision ResNet\); keys seen: conv1\.weight, bn1\.weight, .*\(\d+ keys\)\)/);
    disposeStateDict(sd);
  });
});
