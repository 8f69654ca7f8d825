import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syntheticDataset } from '../data/synthetic/dataset';
import { DinoVisionTransformer } from '../models/dinov2';
import { fromPretrained } from '../models/from_pretrained';
import { pretrainEncoder, type PretrainEncoderOptions } from './pretrain_encoder';
import { slicePool, type SlicePool } from './slice_pool';

const ENCODER = { embedDim: 16, depth: 1, numHeads: 2, patchSize: 4, imgSize: 16, inChannels: 1, convStem: { channels: [4], strides: [2] } };
let pool: SlicePool;

beforeAll(async () => {
  pool = await slicePool([syntheticDataset('breast', { n: 4, seed: 0, size: [4, 16, 16] }), syntheticDataset('chest', { n: 4, seed: 0, size: [4, 16, 16] })]);
});

function options(extra: Partial<PretrainEncoderOptions> = {}): PretrainEncoderOptions {
  return {
    encoder: ENCODER,
    data: pool,
    epochs: 2,
    imagesPerEpoch: 8,
    batchSize: 4,
    crops: { globalSize: 16, localSize: 8, localCrops: 2 },
    head: { outDim: 32, hiddenDim: 16, bottleneckDim: 8 },
    lr: 1e-3,
    seed: 3,
    ...extra,
  };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mst-dino-'));
}

describe('pretrainEncoder', () => {
  it('is deterministic, leaks nothing and returns the teacher, trainable again', async () => {
    const before = tf.memory().numTensors;
    const a = await pretrainEncoder(options({ koleoWeight: 0.1, ibotWeight: 1 }));
    const b = await pretrainEncoder(options({ koleoWeight: 0.1, ibotWeight: 1 }));
    expect(a.history.map((h) => h.loss)).toEqual(b.history.map((h) => h.loss));
    expect(a.history).toHaveLength(3);
    expect(Number.isNaN(a.history[0].loss)).toBe(true);
    for (const h of a.history.slice(1)) {
      expect(Number.isFinite(h.dinoLoss) && Number.isFinite(h.koleoLoss) && Number.isFinite(h.ibotLoss)).toBe(true);
      expect(h.loss).toBeCloseTo(h.dinoLoss + 0.1 * h.koleoLoss + h.ibotLoss, 4);
      expect(h.teacher.entropy).toBeGreaterThan(0);
      expect(h.teacher.featureStd).toBeGreaterThan(0);
    }
    expect(a.history[2].momentum).toBeGreaterThan(0.996);
    expect(a.encoder).toBeInstanceOf(DinoVisionTransformer);
    expect(a.encoder.trainableVariables().length).toBeGreaterThan(0);
    const sa = a.encoder.stateDict();
    const sb = b.encoder.stateDict();
    expect(Array.from(sa['blocks.0.attn.qkv.weight'].dataSync())).toEqual(Array.from(sb['blocks.0.attn.qkv.weight'].dataSync()));
    tf.dispose([...Object.values(sa), ...Object.values(sb)]);
    a.encoder.dispose();
    b.encoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes a hub-named encoder that fromPretrained loads, and resumes exactly where it stopped', async () => {
    const full = tmp();
    const split = tmp();
    const whole = await pretrainEncoder(options({ outDir: full }));
    const first = await pretrainEncoder(options({ outDir: split, epochs: 2 }));
    first.encoder.dispose();
    // An interrupted three-epoch run: the checkpoint of two epochs with other settings is refused.
    await expect(pretrainEncoder(options({ outDir: split, epochs: 3, resume: true }))).rejects.toThrow('written with other settings');
    const again = await pretrainEncoder(options({ outDir: split, resume: true }));
    expect(again.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    for (const f of ['encoder.safetensors', 'encoder.json', 'last.safetensors', 'log.jsonl', 'loss.csv', 'loss_curve.svg']) expect(fs.existsSync(path.join(full, f))).toBe(true);
    expect(fs.readFileSync(path.join(full, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(fs.readFileSync(path.join(full, 'loss.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 2);
    expect(fs.readFileSync(path.join(split, 'loss.csv'), 'utf8')).toBe(fs.readFileSync(path.join(full, 'loss.csv'), 'utf8'));

    const loaded = await fromPretrained(path.join(full, 'encoder.safetensors'));
    expect(loaded).toBeInstanceOf(DinoVisionTransformer);
    const keys = loaded.stateDictKeys();
    expect(keys).toEqual(expect.arrayContaining(['cls_token', 'pos_embed', 'mask_token', 'patch_embed.proj.weight', 'blocks.0.attn.qkv.weight', 'norm.weight', 'stem.convs.0.weight']));
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    whole.encoder.eval();
    (loaded as DinoVisionTransformer).eval();
    const fa = whole.encoder.encode(x).features;
    const fb = (loaded as DinoVisionTransformer).encode(x).features;
    expect(Array.from(fb.dataSync())).toEqual(Array.from(fa.dataSync()));
    tf.dispose([x, fa, fb]);
    loaded.dispose();
    whole.encoder.dispose();
    again.encoder.dispose();
  });

  it('says so when the run collapses', async () => {
    const lines: string[] = [];
    // Sharpening without centring: DINO's collapse onto one prototype for every image.
    const res = await pretrainEncoder(options({ epochs: 1, centerMomentum: 1, teacherTemp: 0.01, warmupTeacherTemp: 0.01, print: (l) => lines.push(l) }));
    expect(res.collapse).toMatch(/^prototypes collapsed/);
    expect(res.history[1].teacher.marginalEntropy).toBeLessThan(Math.log(2));
    expect(res.history[1].collapse).toBe(res.collapse);
    expect(lines.some((l) => /^warning: epoch 1: prototypes collapsed/.test(l))).toBe(true);
    res.encoder.dispose();
    // DINO's centring and temperatures do not collapse.
    const healthy = await pretrainEncoder(options({ epochs: 1, head: { outDim: 32, hiddenDim: 16, bottleneckDim: 8, useBn: true } }));
    expect(healthy.collapse).toBeNull();
    healthy.encoder.dispose();
  });

  it('refuses bad settings with messages naming them', async () => {
    await expect(pretrainEncoder(options({ epochs: 0 }))).rejects.toThrow('epochs must be a positive integer');
    await expect(pretrainEncoder(options({ crops: { globalSize: 18 } }))).rejects.toThrow('crops.globalSize must be a multiple of the patch size 4');
    await expect(pretrainEncoder(options({ batchSize: 16 }))).rejects.toThrow('imagesPerEpoch must be an integer >= batchSize 16');
  });
});
