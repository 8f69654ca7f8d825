// Entry of a SliceEncoderPool worker thread (built to dist/parallel/encoder_worker.{js,cjs}): its
// own tfjs instance and wasm backend, one encoder rebuilt from a spec, evaluation mode.
import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { setBackend } from '../backend';
import { loadSafetensors } from '../io/safetensors';
import { disposeStateDict } from '../nn/module';
import type { SliceEncoder } from '../models/slice_encoder';
import { buildEncoder } from './encoder_spec';
import type { EncodeMessage, InitMessage, WorkerReply } from './messages';

if (!parentPort) throw new Error('encoder_worker: must run as a worker thread (started by SliceEncoderPool)');
const port = parentPort;
let encoder: SliceEncoder | null = null;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function init(m: InitMessage): Promise<void> {
  await setBackend(m.backend);
  tf.env().set('PROD', true);
  const built = buildEncoder(m.spec);
  const dict = await loadSafetensors(m.weights);
  try {
    built.loadStateDict(dict);
  } finally {
    disposeStateDict(dict);
  }
  built.eval();
  encoder = built;
}

async function encode(m: EncodeMessage): Promise<void> {
  if (!encoder) throw new Error('encoder_worker: encode before init');
  const enc = encoder;
  const [n, h, w, c] = m.shape;
  const features = tf.tidy(() => {
    const x = tf.tensor4d(m.data, [n, h, w, c]);
    const images = c === enc.inChannels ? x : tf.tile(x, [1, 1, 1, enc.inChannels]);
    return enc.encode(images as tf.Tensor4D).features;
  });
  const data = (await features.data()) as Float32Array;
  features.dispose();
  reply({ type: 'result', id: m.id, features: data, featureSize: enc.featureSize }, [data.buffer as ArrayBuffer]);
}

port.on('message', (m: InitMessage | EncodeMessage) => {
  const run = m.type === 'init' ? init(m).then(() => reply({ type: 'ready' })) : encode(m);
  run.catch((e: unknown) => reply({ type: 'error', id: m.type === 'encode' ? m.id : undefined, message: e instanceof Error ? e.message : String(e) }));
});
