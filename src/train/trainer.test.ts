import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module } from '../nn/module';
import { Linear } from '../layers/linear';
import { Rng } from '../utils/rng';
import { loadSafetensors } from '../io/safetensors';
import { Trainer, type TrainerOptions } from './trainer';
import { sliceCheckpointing } from './gradient_strategy';
import type { ProgressReporter } from './progress';
import { toyDataset } from '../../test/helpers';

/** Flattens a `[B, 2, 4, 4, 1]` volume into a two-layer perceptron. */
class TinyNet extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.fc1 = this.registerModule('fc1', new Linear(32, 8, { rng }));
    this.fc2 = this.registerModule('fc2', new Linear(8, 2, { rng }));
  }
  forward(x: tf.Tensor): { logits: tf.Tensor } {
    return tf.tidy(() => ({ logits: this.fc2.forward(tf.relu(this.fc1.forward(tf.reshape(x, [x.shape[0], 32])))) }));
  }
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mst-train-'));
}

function options(model: TinyNet, extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return { model, train: toyDataset(24, 1), val: toyDataset(12, 2), epochs: 3, lr: 0.01, batchSize: 4, seed: 7, ...extra };
}

function params(m: Module): number[] {
  return m.namedParameters().flatMap(([, v]) => Array.from(v.dataSync()));
}

describe('Trainer', () => {
  it('learns the toy task and is deterministic given the seed', async () => {
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const model = new TinyNet(3);
      const trainer = new Trainer(options(model, { epochs: 4 }));
      const fit = await trainer.fit();
      runs.push({ losses: fit.history.map((h) => h.trainLoss), aucs: fit.history.map((h) => h.valAuc), params: params(model) });
      trainer.dispose();
      model.dispose();
    }
    expect(runs[1].losses).toEqual(runs[0].losses);
    expect(runs[1].params).toEqual(runs[0].params);
    expect(runs[0].losses[3]).toBeLessThan(runs[0].losses[0]);
    expect(Math.max(...runs[0].aucs)).toBeGreaterThan(0.8);
    // Another seed changes the data order, hence the trajectory.
    const model = new TinyNet(3);
    const other = new Trainer(options(model, { epochs: 1, seed: 8 }));
    const fit = await other.fit();
    expect(fit.history[0].trainLoss).not.toBe(runs[0].losses[0]);
    other.dispose();
    model.dispose();
  });

  it('keeps tf.memory().numTensors flat across training', async () => {
    const model = new TinyNet(3);
    const trainer = new Trainer(options(model, { epochs: 2, accumulationSteps: 2 }));
    const before = tf.memory().numTensors;
    await trainer.fit();
    expect(tf.memory().numTensors).toBe(before);
    await trainer.predict(toyDataset(5, 9));
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it('resumes from its last checkpoint exactly as an uninterrupted run', async () => {
    const full = new TinyNet(3);
    const dirA = tmpDir();
    const a = new Trainer(options(full, { epochs: 4, outDir: dirA }));
    const fitA = await a.fit();

    // A run "crashes" after 2 epochs; a fresh process (new model, other init) resumes it.
    const dirB = tmpDir();
    const first = new TinyNet(3);
    const b1 = new Trainer(options(first, { epochs: 2, outDir: dirB }));
    await b1.fit();
    const resumed = new TinyNet(99);
    const b2 = new Trainer(options(resumed, { epochs: 4, outDir: dirB, resume: true }));
    const fitB = await b2.fit();

    expect(fitB.history.map((h) => h.trainLoss)).toEqual(fitA.history.map((h) => h.trainLoss));
    expect(fitB.history.map((h) => h.valAuc)).toEqual(fitA.history.map((h) => h.valAuc));
    expect(fitB.bestEpoch).toBe(fitA.bestEpoch);
    expect(params(resumed)).toEqual(params(full));
    const log = fs.readFileSync(path.join(dirB, 'log.jsonl'), 'utf8').trim().split('\n');
    expect(log.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3, 4]);
    for (const t of [a, b1, b2]) t.dispose();
    for (const m of [full, first, resumed]) m.dispose();
  });

  it('writes its checkpoint files atomically and the best one as a plain state dict', async () => {
    const dir = tmpDir();
    const model = new TinyNet(3);
    const trainer = new Trainer(options(model, { epochs: 2, outDir: dir }));
    const fit = await trainer.fit();
    expect(fs.readdirSync(dir).sort()).toEqual(['best.safetensors', 'last.safetensors', 'log.jsonl']);
    const best = await loadSafetensors(path.join(dir, 'best.safetensors'));
    expect(Object.keys(best).sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    expect(best['fc1.weight'].shape).toEqual([8, 32]);
    // fit() left the best weights in the model.
    const w = model.stateDict();
    expect(Array.from(w['fc1.weight'].dataSync())).toEqual(Array.from(best['fc1.weight'].dataSync()));
    const last = await loadSafetensors(path.join(dir, 'last.safetensors'));
    expect(Object.keys(last)).toEqual(expect.arrayContaining(['model.fc1.weight', 'optimizer.exp_avg.fc1.weight', 'optimizer.exp_avg_sq.fc2.bias']));
    expect(fit.history).toHaveLength(2);
    tf.dispose([...Object.values(best), ...Object.values(last), ...Object.values(w)]);
    trainer.dispose();
    model.dispose();
  });

  it('stops early after `patience` epochs without a better validation AUC', async () => {
    const model = new TinyNet(3);
    // lr 0 keeps the weights, hence the AUC, fixed: epoch 1 is the best and never beaten.
    const trainer = new Trainer(options(model, { epochs: 10, lr: 0, patience: 2 }));
    const fit = await trainer.fit();
    expect(fit.history).toHaveLength(3);
    expect(fit.stoppedEarly).toBe(true);
    expect(fit.bestEpoch).toBe(1);
    trainer.dispose();
    model.dispose();
  });

  it('skips and counts a case that fails to load, or throws when asked', async () => {
    const warnings: string[] = [];
    const model = new TinyNet(3);
    const train = toyDataset(8, 1, { bad: new Set([3]) });
    const trainer = new Trainer(options(model, { train, epochs: 2, onWarning: (m) => warnings.push(m) }));
    const fit = await trainer.fit();
    expect(fit.skippedCases).toBe(2);
    expect(fit.history[0].skipped).toEqual([{ id: 'case3', error: 'truncated file' }]);
    expect(warnings[0]).toContain("skipping case 'case3'");
    trainer.dispose();
    const strict = new Trainer(options(model, { train, epochs: 1, failOnBadCase: true }));
    await expect(strict.fit()).rejects.toThrow("case 'case3' (index 3) failed to load: truncated file");
    strict.dispose();
    model.dispose();
  });

  it('reports progress once per batch and a summary per epoch', async () => {
    const events: string[] = [];
    const progress: ProgressReporter = {
      startEpoch: (e, n, b) => events.push(`start ${e}/${n} ${b}`),
      update: (d) => events.push(`update ${d}`),
      endEpoch: (s) => events.push(s.split(' | ')[0]),
    };
    const model = new TinyNet(3);
    const trainer = new Trainer(options(model, { train: toyDataset(8, 1), epochs: 1, progress }));
    await trainer.fit();
    expect(events).toEqual(['start 1/1 2', 'update 1', 'update 2', 'epoch 1/1']);
    trainer.dispose();
    model.dispose();
  });

  it('restores the mode it found after predict, takes a loss, metrics with a monitor, a schedule and callbacks', async () => {
    const model = new TinyNet(3);
    const batches: number[] = [];
    const epochs: number[] = [];
    // Accuracy at 0.5 as the monitored metric, a mean-squared loss on the softmax, a halving schedule.
    const accuracy = (labels: readonly number[], probs: readonly (readonly number[])[]) => labels.filter((y, i) => (probs[i][1] > 0.5 ? 1 : 0) === y).length / labels.length;
    const mse = (logits: tf.Tensor, labels: readonly number[]) => tf.tidy(() => tf.mean(tf.square(tf.sub(tf.softmax(logits), tf.oneHot(tf.tensor1d(labels as number[], 'int32'), 2))))) as tf.Scalar;
    const trainer = new Trainer(
      options(model, {
        loss: mse,
        metrics: { accuracy },
        lrSchedule: (epoch) => 0.01 / 2 ** (epoch - 1),
        onBatchEnd: (r) => batches.push(r.batch),
        onEpochEnd: (r) => epochs.push(r.lr),
      }),
    );
    const before = tf.memory().numTensors;
    const fit = await trainer.fit();
    expect(tf.memory().numTensors).toBe(before);
    expect(epochs).toEqual([0.01, 0.005, 0.0025]);
    expect(batches).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
    expect(Object.keys(fit.history[0].valMetrics)).toEqual(['accuracy']);
    expect(fit.bestAuc).toBe(Math.max(...fit.history.map((h) => h.valMetrics.accuracy)));
    model.eval();
    const p = await trainer.predict(toyDataset(4, 9));
    expect(model.training).toBe(false);
    expect(p.metrics.accuracy).toBeGreaterThanOrEqual(0);
    model.train();
    await trainer.predict(toyDataset(4, 9));
    expect(model.training).toBe(true);
    trainer.dispose();
    model.dispose();
  });

  it('names bad options', () => {
    const model = new TinyNet(3);
    expect(() => new Trainer({ ...options(model), lr: undefined })).toThrow('give lr (the model was not created from the registry');
    expect(() => new Trainer(options(model, { batchSize: 0 }))).toThrow('batchSize must be a positive integer, got 0');
    expect(() => new Trainer(options(model, { val: toyDataset(1, 2) }))).toThrow('validation set needs at least two classes');
    expect(() => new Trainer(options(model, { gradients: sliceCheckpointing() }))).toThrow("the gradient strategy 'slice-checkpointed' does not apply: slice checkpointing applies to a MedicalSliceTransformer, not a TinyNet");
    expect(() => new Trainer(options(model, { monitor: 'f1' }))).toThrow("monitor 'f1' is not one of the metrics (auc)");
    expect(() => new Trainer(options(model, { resume: true }))).toThrow('resume needs outDir');
    model.dispose();
  });
});
