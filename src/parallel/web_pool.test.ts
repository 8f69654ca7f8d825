import * as tf from '@tensorflow/tfjs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createEncoder } from '../models/encoder_registry';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { predictWithPool } from './predict_with_pool';
import { serveSliceEncoder, WebSliceEncoderPool, type WebWorkerLike } from './web_pool';

// Jest has no Web Workers: each "worker" is the far end of a MessageChannel served in this thread,
// which checks the pool's protocol (init, block split, transfers, replies, errors), not the threads.
const options = { embedDim: 32, depth: 2, numHeads: 2, patchSize: 7, imgSize: 28, seed: 1 };

function channelWorker(ports: MessagePort[]): () => WebWorkerLike {
  return () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveSliceEncoder(port2 as unknown as WebWorkerLike);
    port2.start();
    port1.start();
    return Object.assign(port1 as unknown as WebWorkerLike, { terminate: () => port1.close() });
  };
}

describe('WebSliceEncoderPool', () => {
  it('predictWithPool over 1, 2 and 4 workers equals model.predict and leaks no tensors', async () => {
    const model = new MedicalSliceTransformer({ encoder: createEncoder('dinov2', options), numClasses: 3, heads: 2, seed: 2 });
    model.eval();
    const volume = tf.randomNormal([9, 28, 28], 0, 1, 'float32', 3);
    const expected = await model.predict(volume);
    for (const workers of [1, 2, 4]) {
      const ports: MessagePort[] = [];
      const pool = await WebSliceEncoderPool.create(model.encoder, { workers, createWorker: channelWorker(ports) });
      expect(pool.size).toBe(workers);
      const got = await predictWithPool(model, pool, volume);
      got.logits.forEach((l, i) => expect(l).toBeCloseTo(expected.logits[i], 5));
      pool.dispose();
      await expect(pool.encode(new Float32Array(28 * 28), [1, 28, 28, 1])).rejects.toThrow(/disposed/);
      for (const p of ports) p.close();
    }
    const before = tf.memory().numTensors;
    const ports: MessagePort[] = [];
    const pool = await WebSliceEncoderPool.create(model.encoder, { workers: 2, createWorker: channelWorker(ports) });
    await predictWithPool(model, pool, volume);
    pool.dispose();
    for (const p of ports) p.close();
    // The served encoders (two copies of the weights) are the only tensors the pool's workers kept.
    const perEncoder = model.encoder.namedParameters().length + model.encoder.namedBuffers().length;
    expect(tf.memory().numTensors - before).toBe(2 * perEncoder);
    volume.dispose();
    model.dispose();
  });

  it('reports a worker that cannot build its encoder, and bad input shapes', async () => {
    const model = new MedicalSliceTransformer({ encoder: createEncoder('dinov2', options), numClasses: 3, heads: 2, seed: 2 });
    const ports: MessagePort[] = [];
    await expect(
      WebSliceEncoderPool.create(model.encoder, { config: { name: 'nope', options: {} }, workers: 1, createWorker: channelWorker(ports) }),
    ).rejects.toThrow(/WebSliceEncoderPool: .*'nope'/);
    await expect(
      WebSliceEncoderPool.create(model.encoder, { config: { name: 'dinov2', options: { ...options, numHeads: 3 } }, workers: 1, createWorker: channelWorker(ports) }),
    ).rejects.toThrow(/worker 0 failed to start: .*3/);
    const pool = await WebSliceEncoderPool.create(model.encoder, { workers: 1, createWorker: channelWorker(ports) });
    await expect(pool.encode(new Float32Array(5), [1, 28, 28, 1])).rejects.toThrow(/5 values do not fill shape \[1, 28, 28, 1\]/);
    await expect(pool.encode(new Float32Array(20 * 20), [1, 20, 20, 1])).rejects.toThrow(/a worker failed/);
    pool.dispose();
    for (const p of ports) p.close();
    model.dispose();
  });
});
