import { ResizeTo } from '../../src/data/transforms/spatial';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/utils/rng';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import type { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { saveModel } from '../../src/models/save_model';
import { auc } from '../../src/stats/auc';
import { delongTest } from '../../src/stats/delong';
import { table1ExtendedMarkdown } from '../../src/reproduce/table1';
import {
  aucCell,
  figure2Models,
  formatCell,
  holmAdjustCells,
  formatP,
  markdownTable,
  orderTasks,
  PAPER_FIGURE2,
  PAPER_TABLE2,
  PAPER_TABLE3,
  PAPER_TABLE_S1,
  reproduceContext,
  rowLearningRate,
  realDatasets,
  scaleConfig,
  syntheticGeometry,
  table2Models,
  table3Models,
  tableS1Models,
  trainOnTask,
  type AucCell,
} from '../../src/reproduce';

/** A minimal NumPy v1.0 writer for uint8 `[D, H, W]` arrays (MRNet's format). */
function npyUint8(data: Uint8Array, shape: number[]): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

describe('P values and cells in the paper\'s format', () => {
  test.each([
    [0.3449, 'P=0.34'],
    [0.02, 'P=0.02'],
    [0.0014, 'P=0.001'],
    [0.00099, 'P<0.001'],
    [NaN, 'P=NA'],
  ])('formatP(%p) is %p', (p, text) => {
    expect(formatP(p)).toBe(text);
  });

  test('a cell is the AUC of the scores, its bootstrap std, and the paired DeLong P against the reference', () => {
    const rng = new Rng(3);
    const labels = Array.from({ length: 60 }, (_, i) => i % 2);
    const ids = labels.map((_, i) => `c${i}`);
    const ref = { ids, labels, scores: labels.map((l) => l * 0.8 + rng.uniform()) };
    const other = { ids, labels, scores: labels.map((l) => l * 0.3 + rng.uniform()) };
    const cell = aucCell(other, { replicates: 200, seed: 0, reference: ref });
    expect(cell.auc).toBe(auc(labels, other.scores));
    expect(cell.p).toBe(delongTest(labels, ref.scores, other.scores).p);
    expect(cell.std).toBeGreaterThan(0.01);
    expect(cell.std).toBeLessThan(0.2);
    expect(formatCell(cell)).toMatch(/^0\.\d\d±0\.\d\d \(P[=<]\d\.\d+\)$/);
    expect(() => aucCell(other, { replicates: 10, seed: 0, reference: { ...ref, ids: [...ids].reverse() } })).toThrow(/same test set/);
  });

  test('the tables adjust the P of the rows compared with the reference by Holm (R p.adjust), keeping the raw one', () => {
    const cells: AucCell[] = [0.01, 0.04, 0.03].map((p) => ({ auc: 0.8, std: 0.02, ci: [0.7, 0.9], n: 10, positives: 5, p }));
    holmAdjustCells(cells);
    // R 4.2.2: p.adjust(c(0.01, 0.04, 0.03), "holm") is 0.03 0.06 0.06
    expect(cells.map((c) => c.p)).toEqual([0.03, 0.06, 0.06]);
    expect(cells.map((c) => c.pUnadjusted)).toEqual([0.01, 0.04, 0.03]);
  });
});

describe('the Markdown table', () => {
  test('puts the paper\'s quoted cell beside ours and marks columns that were not run', () => {
    const md = markdownTable({
      title: 'Table 2 (reproduced)',
      paper: PAPER_TABLE2,
      rows: [{ name: 'Linear Layer', cells: { 'Chest CT': '0.71±0.05 (P=0.20)' } }],
      tasks: ['synthetic-chest'],
      footer: ['a footer line'],
    });
    expect(md).toContain('| Linear Layer | not run | 0.88±0.02 (P<0.001) | 0.71±0.05 (P=0.20) | 0.93±0.02 (P=0.26) | not run | 0.78±0.04 (P=0.07) |');
    expect(md).toContain('Chest CT: ours (synthetic-chest)');
    expect(md).toContain('Paper (Table 2)');
    expect(md).toContain('a footer line');
  });

  test('the extended Table 1 puts the radiologist\'s counts beside the paper\'s methods only', () => {
    const row = { dataset: 'Chest CT', task: 'synthetic-chest', cases: 3, sliceCorrect: 2, lesionCorrect: 1, pointingGame: 2, deletionAuc: 0.31, insertionAuc: 0.72, meanDice: NaN, meanSeconds: 1.25 } as const;
    const md = table1ExtendedMarkdown([
      { ...row, model: 'MST', method: 'attention' },
      { ...row, model: 'MST', method: 'transformer-attribution' },
      { ...row, model: '3D ResNet', method: 'gradcam' },
    ]);
    expect(md).toContain('| Chest CT (synthetic-chest) | MST | attention | 2/3 | 1/3 | 2/3 | 0.310 | 0.720 | - | 49/50 / 28/50 | 1.3 |');
    expect(md).toContain('| MST | transformer-attribution | 2/3 | 1/3 | 2/3 | 0.310 | 0.720 | - | - |');
    expect(md).toContain('| 3D ResNet | gradcam | 2/3 | 1/3 | 2/3 | 0.310 | 0.720 | - | 14/50 / 0/50 |');
  });

  test('every default row has the paper\'s row beside it', () => {
    const o = { out: '/tmp/x' };
    for (const [models, paper] of [
      [table2Models(o), PAPER_TABLE2],
      [table3Models(o), PAPER_TABLE3],
      [tableS1Models(o), PAPER_TABLE_S1],
      [figure2Models(o), PAPER_FIGURE2],
    ] as const) {
      for (const m of models) expect(Object.keys(paper.rows)).toContain(m.name);
    }
  });
});

describe('scales and tasks', () => {
  test('paper scale is the paper\'s protocol', () => {
    const s = scaleConfig('paper');
    expect(s.syntheticSize.chest).toEqual([32, 224, 224]);
    expect(s.realSize).toEqual([32, 224, 224]);
    expect([s.batchSize, s.patience]).toEqual([2, 50]);
    expect(s.lr).toEqual({ mstDinov2: 1e-6, mstResnet: 1e-5, resnet3d: 1e-4 });
    expect([s.dinov2Small, s.resnet3dWidths]).toEqual([null, null]);
    expect(s.table1Cases).toBe(50);
    expect(() => scaleConfig('huge' as never)).toThrow(/tiny, quick or paper/);
  });

  test('tasks follow the paper\'s columns, one task per column', () => {
    expect(orderTasks(['synthetic-knee', 'lidc'])).toEqual(['lidc', 'synthetic-knee']);
    expect(() => orderTasks(['synthetic-chest', 'lidc'])).toThrow(/both stand for the paper's Chest CT/);
  });

  test('pretrained DINOv2 weights grow slices to a multiple of 14 for every row', () => {
    const plain = reproduceContext({ out: '/tmp/x' });
    expect(syntheticGeometry(plain, 'synthetic-chest')).toEqual({ size: [16, 64, 64], crop: [8, 16, 16], inputSize: [8, 16, 16] });
    // Only the small weights: the DINOv2-B and registers stand-ins (4x4 patches) still train, so 28.
    const pre = reproduceContext({ out: '/tmp/x', encoderWeights: { small: 'w.safetensors' } });
    expect(syntheticGeometry(pre, 'synthetic-chest').inputSize).toEqual([8, 28, 28]);
    expect(syntheticGeometry(pre, 'synthetic-knee')).toEqual({ size: [8, 48, 48], crop: [8, 56, 56], inputSize: [8, 56, 56] });
    const all = reproduceContext({ out: '/tmp/x', encoderWeights: { small: 's', base: 'b', registers: 'r' } });
    expect(syntheticGeometry(all, 'synthetic-knee').inputSize).toEqual([8, 42, 42]);
  });

  test('ResizeTo resizes volume and mask to the exact shape', () => {
    const data = Float32Array.from({ length: 4 * 10 * 12 }, (_, i) => i % 7);
    const mask = new Uint8Array(data.length).fill(1);
    const out = new ResizeTo([8, 16, 16]).apply({ id: 'a', data, shape: [4, 10, 12], spacing: [3, 1, 1], label: 0, mask }, new Rng(0));
    expect(out.shape).toEqual([8, 16, 16]);
    expect(out.data.length).toBe(8 * 16 * 16);
    expect(out.mask?.length).toBe(8 * 16 * 16);
  });
});

describe('the rows\' models', () => {
  test('table 3 at tiny scale: five MSTs, the frozen one trains only fusion and head, nothing leaks', async () => {
    const before = tf.memory().numTensors;
    const models = table3Models({ out: '/tmp/x', scale: 'tiny' });
    const counts: number[][] = [];
    for (const m of models) {
      const net = await m.build([8, 16, 16], 0);
      const x = tf.zeros([1, 8, 16, 16]);
      const y = net.forward(x);
      const logits = y instanceof tf.Tensor ? y : y.logits;
      expect(logits.shape).toEqual([1, 2]);
      tf.dispose(y instanceof tf.Tensor ? [y] : (Object.values(y).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]));
      x.dispose();
      counts.push([net.numParameters(), net.numParameters({ trainableOnly: true })]);
      net.dispose();
    }
    expect(models.map((m) => m.family)).toEqual(['mst-dinov2', 'mst-dinov2', 'mst-dinov2', 'mst-dinov2', 'mst-resnet']);
    expect(counts[1][0]).toBeGreaterThan(counts[0][0]);
    expect(counts[3][0]).toBe(counts[0][0]);
    expect(counts[3][1]).toBeLessThan(counts[3][0] / 2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('pretrained DINOv2 weights', () => {
  test('--encoder-weights loads the file into the DINOv2-S rows, which then train at the paper\'s 1e-6', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mst-reproduce-weights-'));
    try {
      const vit = new DinoVisionTransformer({ embedDim: 32, depth: 1, numHeads: 2, patchSize: 14, imgSize: 28, seed: 7 });
      const file = join(dir, 'vit.safetensors');
      await saveModel(vit, file);
      const saved = await vit.stateDict()['blocks.0.attn.qkv.weight'].data();
      vit.dispose();
      const [transformer] = table2Models({ out: dir, scale: 'tiny', encoderWeights: { small: file } });
      expect(transformer.pretrained).toBe(true);
      const ctx = reproduceContext({ out: dir, scale: 'tiny', encoderWeights: { small: file } });
      expect(rowLearningRate(ctx, transformer)).toBe(1e-6);
      expect(transformer.description).toContain(`pretrained DINOv2 ViT-S/14 from ${file}`);
      const mst = (await transformer.build([4, 28, 28], 0)) as unknown as MedicalSliceTransformer;
      expect(Array.from(await mst.encoder.stateDict()['blocks.0.attn.qkv.weight'].data())).toEqual(Array.from(saved));
      mst.dispose();
      const [, base] = table3Models({ out: dir, scale: 'tiny', encoderWeights: { small: file } });
      expect(base.pretrained).toBe(false);
      expect(rowLearningRate(ctx, base)).toBe(scaleConfig('tiny').lr.mstDinov2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a real dataset through its adapter', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mst-reproduce-mrnet-'));
    const rng = new Rng(1);
    for (const part of ['train', 'valid'] as const) {
      await mkdir(join(root, part, 'sagittal'), { recursive: true });
      const n = part === 'train' ? 10 : 4;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = String(part === 'train' ? i : 1130 + i).padStart(4, '0');
        const shape = [20, 40, 40];
        const data = Uint8Array.from({ length: 20 * 40 * 40 }, () => Math.floor(rng.uniform() * 255));
        await writeFile(join(root, part, 'sagittal', `${id}.npy`), npyUint8(data, shape));
        lines.push(`${id},${i % 2}`);
      }
      await writeFile(join(root, `${part}-meniscus.csv`), `${lines.join('\n')}\n`);
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('MRNet: the official validation set is the test set; volumes are cropped, resampled and resized to the scale', async () => {
    const ctx = reproduceContext({ out: join(root, 'out'), tasks: ['mrnet'], dataDirs: { mrnet: root }, scale: 'tiny' });
    const { train, val, test, inputSize } = await realDatasets(ctx, 'mrnet');
    expect(inputSize).toEqual([8, 32, 32]);
    expect(test.ids).toEqual(['valid-1130', 'valid-1131', 'valid-1132', 'valid-1133']);
    expect(train.length + val.length).toBe(10);
    const s = await test.get(0);
    expect(s.shape).toEqual([8, 32, 32]);
    const ctxPaper = reproduceContext({ out: join(root, 'out'), tasks: ['mrnet'], dataDirs: { mrnet: root }, scale: 'paper' });
    expect((await (await realDatasets(ctxPaper, 'mrnet')).test.get(0)).shape).toEqual([32, 224, 224]);
  });

  test('a row trains on it and predicts the test set', async () => {
    const ctx = reproduceContext({ out: join(root, 'out'), tasks: ['mrnet'], dataDirs: { mrnet: root }, scale: 'tiny' });
    const [mst] = figure2Models({ out: ctx.out, scale: 'tiny' });
    const trained = await trainOnTask(ctx, 'mrnet', mst);
    trained.model.dispose();
    expect(trained.run.ids).toEqual(['valid-1130', 'valid-1131', 'valid-1132', 'valid-1133']);
    expect(trained.run.scores.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(trained.run.epochsRun).toBe(1);
  }, 180_000);
});
