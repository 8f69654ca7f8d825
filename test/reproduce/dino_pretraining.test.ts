import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUICK_DIFFICULTY, QUICK_GEOMETRY } from '../../src/data/synthetic/difficulty';
import type { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { loadSafetensors } from '../../src/io/safetensors';
import { disposeStateDict } from '../../src/nn/module';
import { dinoPretraining, dinoPretrainingDir, usesDinoPretraining } from '../../src/reproduce/dino_pretraining';
import { reproduceContext, rowLearningRate, scaleConfig, table2Models, table3Models } from '../../src/reproduce';

describe('DINO pretraining in the reproduction', () => {
  test('pretrains the stand-in once per scale and seed, and the DINOv2-S rows start from it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mst-reproduce-dino-'));
    try {
      const options = { out: join(root, 'table3'), scale: 'tiny' as const, print: () => {} };
      expect(usesDinoPretraining(options)).toBe(true);
      expect(usesDinoPretraining({ ...options, pretrain: false })).toBe(false);
      expect(usesDinoPretraining({ ...options, scale: 'paper' })).toBe(false);
      expect(dinoPretrainingDir(options)).toBe(join(root, 'pretrain', 'tiny-seed0'));
      // A shortened pretraining is cached apart from the recipe's.
      expect(dinoPretrainingDir({ ...options, pretrainEpochs: 1 })).toBe(join(root, 'pretrain', 'tiny-seed0-e1'));
      expect(dinoPretrainingDir({ ...options, pretrainEpochs: scaleConfig('tiny').pretrain!.epochs })).toBe(join(root, 'pretrain', 'tiny-seed0'));
      const before = tf.memory().numTensors;
      const dino = await dinoPretraining(options);
      expect(dino).not.toBeNull();
      expect(dino!.cached).toBe(false);
      expect(Object.keys(dino!.knn).sort()).toEqual(['breast', 'chest', 'knee']);
      expect(dino!.epochs).toBe(scaleConfig('tiny').pretrain!.epochs);
      // Another table of the same scale and seed (a new process would do the same) reuses it.
      const again = await dinoPretraining({ ...options, out: join(root, 'table2') });
      expect(again!.file).toBe(dino!.file);
      const short = await dinoPretraining({ ...options, pretrainEpochs: 1 });
      expect(short!.epochs).toBe(1);
      expect(short!.file).toBe(join(root, 'pretrain', 'tiny-seed0-e1', 'encoder.safetensors'));
      const rows = table3Models(options, dino);
      expect(rows.map((r) => r.name)).toEqual(['MST (DINOv2)', 'MST (DINOv2 Base)', 'MST (DINOv2 Registers)', 'MST (DINOv2 Frozen)', 'MST (ResNet)', 'MST (DINOv2 from scratch)']);
      expect(rows[0].description).toContain('DINO-pretrained');
      expect(rows[5].description).toContain('from-scratch');
      const ctx = reproduceContext(options);
      // One protocol for every row: the pretrained rows train at the scale's rate, not the paper's 1e-6.
      expect(rowLearningRate(ctx, rows[0])).toBe(scaleConfig('tiny').lr.mstDinov2);
      const weights = await loadSafetensors(dino!.file);
      for (const [i, frozen] of [[0, false], [3, true]] as const) {
        const mst = (await rows[i].build([8, 16, 16], 0)) as unknown as MedicalSliceTransformer;
        const got = mst.encoder.stateDict();
        expect(Array.from(await got['blocks.0.attn.qkv.weight'].data())).toEqual(Array.from(await weights['blocks.0.attn.qkv.weight'].data()));
        expect(mst.encoder.trainableVariables().length === 0).toBe(frozen);
        disposeStateDict(got);
        mst.dispose();
      }
      disposeStateDict(weights);
      expect(table2Models(options, dino).every((r) => r.description.includes('DINO-pretrained'))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(JSON.parse(await readFile(join(root, 'pretrain', 'tiny-seed0', 'pretraining.json'), 'utf8'))).toMatchObject({ epochs: dino!.epochs, slices: dino!.slices });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('the quick scale generates its synthetic tasks at the calibrated difficulties and volumes', () => {
    const s = scaleConfig('quick');
    for (const task of ['breast', 'chest', 'knee'] as const) {
      expect(s.syntheticSize[task]).toEqual(QUICK_GEOMETRY[task].size);
      expect(s.syntheticCrop[task]).toEqual(QUICK_GEOMETRY[task].crop);
      expect(s.syntheticDifficulty?.[task]).toBe(QUICK_DIFFICULTY[task].difficulty);
    }
  });
});
