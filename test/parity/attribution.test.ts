import * as tf from '@tensorflow/tfjs';
import { mstAttribution } from '../../src/explain/transformer_attribution';
import { loadSafetensors } from '../../src/io/safetensors';
import { DinoVisionTransformer, type DinoVisionTransformerOptions } from '../../src/models/dinov2';
import { MedicalSliceTransformer, type MedicalSliceTransformerOptions } from '../../src/models/medical_slice_transformer';
import { ResNet2D } from '../../src/models/resnet2d';
import { disposeStateDict, type StateDict } from '../../src/nn/module';
import { stateDictFromSpecFile } from '../fixture_weights';
import { FULL, fixturePath, maxAbsDiff } from '../helpers';

// Fixtures: /usr/bin/python3 tools/reference/attribution_ref.py (Chefer et al. CVPR 2021 and ICCV
// 2021, through one autograd forward of the whole MST and full matrix products).

const small: DinoVisionTransformerOptions = { embedDim: 32, depth: 2, numHeads: 4, imgSize: 42, layerScaleInit: 1 };
const CONFIGS: Record<string, { encoder: DinoVisionTransformerOptions; mst: Omit<MedicalSliceTransformerOptions, 'encoder' | 'numClasses'>; spec: string }> = {
  dino: { encoder: small, mst: { heads: 8 }, spec: 'mst_dino.json' },
  dino_reg: {
    encoder: { embedDim: 48, depth: 2, numHeads: 3, imgSize: 42, numRegisters: 4, interpolateOffset: 0, interpolateAntialias: true, layerScaleInit: 1 },
    mst: { heads: 12 },
    spec: 'mst_dino_reg.json',
  },
  dino_bpe: { encoder: small, mst: { heads: 2, bottleneck: true, positionalEmbedding: 'learned' }, spec: 'attribution_dino_bpe.json' },
};

function build(name: string): MedicalSliceTransformer {
  const cfg = CONFIGS[name];
  const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer(cfg.encoder), numClasses: 2, ...cfg.mst });
  const sd = stateDictFromSpecFile('explain', cfg.spec);
  model.loadStateDict(sd);
  disposeStateDict(sd);
  return model.eval();
}

describe.each(Object.keys(CONFIGS))('MST transformer attributions (%s) equal the PyTorch reference', (name) => {
  let model: MedicalSliceTransformer;
  let volume: tf.Tensor;
  let ref: StateDict;
  beforeAll(async () => {
    model = build(name);
    const v = stateDictFromSpecFile('explain', 'mst_volume.json');
    volume = tf.squeeze(v.volume, [0]); // [D, H, W]
    v.volume.dispose();
    ref = await loadSafetensors(fixturePath('explain', 'attribution.safetensors'));
    model.forward(tf.expandDims(volume, 0)).logits.dispose(); // caches the resized positional embedding
  });
  afterAll(() => {
    model.dispose();
    volume.dispose();
    disposeStateDict(ref);
  });

  const cases: ['transformer-attribution' | 'gradient-attention', number | undefined][] = [
    ['transformer-attribution', undefined],
    ['gradient-attention', 1],
  ];
  if (FULL || name === 'dino') cases.push(['transformer-attribution', 1], ['gradient-attention', undefined]);

  it.each(cases)('%s, class %s: slice relevance, plane maps and saliency to 1e-4', (method, target) => {
    const before = tf.memory().numTensors;
    const a = mstAttribution(model, volume, { method, targetClass: target, chunkSize: 3 });
    const key = `${name}.${method}.${target ?? 'argmax'}`;
    expect(a.planeRelevance.shape).toEqual(ref[`${key}.plane`].shape);
    expect(maxAbsDiff(a.sliceRelevance, ref[`${key}.slice`])).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.planeRelevance, ref[`${key}.plane`])).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.saliency, ref[`${key}.saliency`])).toBeLessThan(1e-4);
    const probs = tf.softmax(a.logits);
    expect(maxAbsDiff(probs, ref[`${name}.probabilities`])).toBeLessThan(1e-4);
    const [cls] = Array.from(a.targetClass.dataSync());
    if (target !== undefined) expect(cls).toBe(target);
    tf.dispose([probs, a.logits, a.targetClass, a.sliceRelevance, a.planeRelevance, a.saliency]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('mstAttribution refuses what it cannot explain', () => {
  it('names a CNN slice encoder, a non-transformer fusion and an out-of-range class', () => {
    const resnet = new MedicalSliceTransformer({ encoder: new ResNet2D({ block: 'basic', layers: [1, 1, 1, 1], feedForward: false }), numClasses: 2 }).eval();
    const v = tf.zeros([2, 28, 28]);
    expect(() => mstAttribution(resnet, v)).toThrow(/needs DINOv2; for a CNN slice encoder \(MST-ResNet\) use a CAM method/);
    resnet.dispose();
    const avg = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer(small), numClasses: 2, sliceFusion: 'average' }).eval();
    expect(() => mstAttribution(avg, v)).toThrow(/slice fusion is AverageFusion; it needs a transformer fusion/);
    avg.dispose();
    const m = build('dino');
    const x = tf.zeros([2, 28, 42]);
    tf.tidy(() => m.forward(tf.expandDims(x, 0)).logits); // caches the resized positional embedding
    const before = tf.memory().numTensors;
    expect(() => mstAttribution(m, x, { targetClass: 2 })).toThrow(/target class 2 is out of range/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
    v.dispose();
  });
});
