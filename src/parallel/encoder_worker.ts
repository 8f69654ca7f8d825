// Entry of a SliceEncoderPool / DataParallelTrainer worker thread (built to
// dist/parallel/encoder_worker.{js,cjs}): its own tfjs instance and wasm backend, and either one
// slice encoder rebuilt from a spec (evaluation mode) or a whole MST for gradients of a shard.
import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { setBackend } from '../backend';
import type { SliceEncoder } from '../models/slice_encoder';
import { isMedicalSliceTransformer, type MedicalSliceTransformer } from '../models/medical_slice_transformer';
import type { ResNet3D } from '../models/resnet3d';
import { buildModel } from '../models/model_config';
import { checkpointedGradients } from '../train/checkpointed_step';
import { logitsOf } from '../train/gradient_strategy';
import { resnetCheckpointedGradients } from '../train/resnet_checkpointed_step';
import { crossEntropy } from '../train/losses';
import { leanVariableGrads } from '../ops/lean_backprop';
import type { EncodeMessage, GradsMessage, InitMessage, InitModelMessage, ReduceMessage, ShareMemoryMessage, SharedTensorSlot, WorkerReply } from './messages';
import { encoderFromInitMessage } from './encoder_init';
import { slotView } from './slot_view';
import { repeatChannels } from '../ops/repeat_channels';

if (!parentPort) throw new Error('encoder_worker: must run as a worker thread (started by SliceEncoderPool)');
const port = parentPort;
let encoder: SliceEncoder | null = null;
let model: MedicalSliceTransformer | ResNet3D | null = null;
/** The shared weights and gradients, each slot paired with the model's variable. */
let shared: { weights: SharedArrayBuffer; grads: SharedArrayBuffer[]; index: number; params: [SharedTensorSlot, tf.Variable][]; buffers: [SharedTensorSlot, tf.Variable][] } | null = null;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Imports the modules that register a user's own encoder or fusion in this thread. */
async function importModules(modules: string[]): Promise<void> {
  for (const m of modules) await import(/^[a-z]+:/i.test(m) ? m : pathToFileURL(m).href);
}

async function init(m: InitMessage): Promise<void> {
  await setBackend(m.backend);
  tf.env().set('PROD', true);
  await importModules(m.modules);
  encoder = await encoderFromInitMessage(m);
}

async function initModel(m: InitModelMessage): Promise<void> {
  await setBackend(m.backend);
  tf.env().set('PROD', true);
  await importModules(m.modules);
  model = buildModel(m.config) as MedicalSliceTransformer | ResNet3D;
  model.train();
}

/** Pairs the main thread's layout with this model's variables; names or shapes that differ are an error. */
function shareMemory(m: ShareMemoryMessage): void {
  if (!model) throw new Error('encoder_worker: shareMemory before initModel');
  const pair = (slots: SharedTensorSlot[], own: [string, tf.Variable][], what: string): [SharedTensorSlot, tf.Variable][] => {
    const byName = new Map(own);
    if (slots.length !== own.length) throw new Error(`the main thread's model has ${slots.length} ${what}, the worker's ${own.length} (spec and model differ)`);
    return slots.map((slot) => {
      const v = byName.get(slot.name);
      if (!v || !tf.util.arraysEqual(v.shape, slot.shape) || v.dtype !== slot.dtype) {
        throw new Error(`the ${what.slice(0, -1)} '${slot.name}' is ${slot.dtype} [${slot.shape.join(', ')}] in the main thread's model, ${v ? `${v.dtype} [${v.shape.join(', ')}]` : 'absent'} in the worker's (spec and model differ)`);
      }
      return [slot, v];
    });
  };
  shared = { weights: m.weights, grads: m.grads, index: m.index, params: pair(m.params, model.namedParameters(), 'parameters'), buffers: pair(m.buffers, model.namedBuffers(), 'buffers') };
}


async function grads(m: GradsMessage): Promise<void> {
  if (!model || !shared) throw new Error('encoder_worker: grads before initModel and shareMemory');
  const net = model;
  const memory = shared;
  // Copied out of the shared memory: a backend may keep the array it is given (tfjs-cpu does).
  for (const [slot, v] of [...memory.params, ...memory.buffers]) tf.tidy(() => v.assign(tf.tensor(slotView(memory.weights, slot).slice(), slot.shape, slot.dtype)));
  memory.params.forEach(([, v], i) => {
    v.trainable = m.trainable[i];
  });
  const x = tf.tensor4d(m.data, m.shape);
  const vars = net.trainableVariables();
  const lossFn = (logits: tf.Tensor, labels: readonly number[]): tf.Scalar => crossEntropy(logits, labels, { weight: m.classWeights }) as tf.Scalar;
  const plain = (forward: () => tf.Tensor) => (({ value, grads: gr }) => ({ loss: value, grads: gr }))(leanVariableGrads(() => lossFn(forward(), m.labels), vars));
  let step: { loss: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    if (isMedicalSliceTransformer(net)) {
      step = m.chunkSize > 0 ? checkpointedGradients(net, x, m.labels, { chunkSize: m.chunkSize, varList: vars, lossFn }) : plain(() => net.forward(x).logits);
    } else {
      const x5 = tf.expandDims(x, -1);
      try {
        step = m.chunkSize > 0 ? resnetCheckpointedGradients(net, x5, m.labels, { varList: vars, lossFn }) : plain(() => logitsOf(net.forward(x5)));
      } finally {
        x5.dispose();
      }
    }
  } finally {
    // A failed step (a bad label, memory) must not leave the shard behind in this worker.
    x.dispose();
  }
  const { loss, grads: g } = step;
  const names: string[] = [];
  for (const [slot, v] of memory.params) {
    const t = g[v.name];
    if (!t) continue;
    names.push(slot.name);
    slotView(memory.grads[memory.index], slot).set((await t.data()) as Float32Array);
  }
  const lossValue = (await loss.data())[0];
  tf.dispose([loss, g]);
  // A ResNet3D's, or an MST's slice encoder's (ResNet2D), batch norm: the running statistics of this shard.
  const buffers = await bufferValues(net);
  reply({ type: 'grads', id: m.id, loss: lossValue, names, ...(buffers ? { buffers } : {}) }, (buffers?.values ?? []).map((a) => a.buffer as ArrayBuffer));
}

/**
 * Adds the workers' gradients over [from, to) into the first buffer: each float the weighted sum
 * in worker order, rounded to float after every term (the order the main thread used).
 */
function reduce(m: ReduceMessage): void {
  if (!shared) throw new Error('encoder_worker: reduce before shareMemory');
  const out = new Float32Array(shared.grads[0], 4 * m.from, m.to - m.from);
  let first = true;
  m.weights.forEach((w, j) => {
    if (w === null) return;
    const g = new Float32Array((shared as NonNullable<typeof shared>).grads[j], 4 * m.from, m.to - m.from);
    if (first) for (let k = 0; k < g.length; k++) out[k] = w * g[k];
    else for (let k = 0; k < g.length; k++) out[k] += w * g[k];
    first = false;
  });
  if (first) out.fill(0);
}

/** The buffers (batch-norm running statistics and step counts) after a training-mode step. */
async function bufferValues(net: MedicalSliceTransformer | ResNet3D): Promise<{ names: string[]; values: (Float32Array | Int32Array)[] }> {
  const names: string[] = [];
  const values: (Float32Array | Int32Array)[] = [];
  for (const [name, v] of net.namedBuffers()) {
    names.push(name);
    values.push((await v.data()) as Float32Array | Int32Array);
  }
  return { names, values };
}

async function encode(m: EncodeMessage): Promise<void> {
  if (!encoder) throw new Error('encoder_worker: encode before init');
  const enc = encoder;
  const [n, h, w, c] = m.shape;
  const features = tf.tidy(() => {
    const x = tf.tensor4d(m.data, [n, h, w, c]);
    const images = c === enc.inChannels ? x : repeatChannels(x as tf.Tensor4D, enc.inChannels);
    return enc.encode(images as tf.Tensor4D).features;
  });
  const data = (await features.data()) as Float32Array;
  features.dispose();
  reply({ type: 'result', id: m.id, features: data, featureSize: enc.featureSize }, [data.buffer as ArrayBuffer]);
}

port.on('message', (m: InitMessage | InitModelMessage | ShareMemoryMessage | ReduceMessage | EncodeMessage | GradsMessage) => {
  const run =
    m.type === 'init'
      ? init(m).then(() => reply({ type: 'ready' }))
      : m.type === 'initModel'
        ? initModel(m).then(() => reply({ type: 'ready' }))
        : m.type === 'shareMemory'
          ? Promise.resolve().then(() => shareMemory(m)).then(() => reply({ type: 'shared', id: m.id }))
          : m.type === 'reduce'
            ? Promise.resolve().then(() => reduce(m)).then(() => reply({ type: 'reduced', id: m.id }))
            : m.type === 'encode'
              ? encode(m)
              : grads(m);
  run.catch((e: unknown) => reply({ type: 'error', id: 'id' in m ? m.id : undefined, message: e instanceof Error ? e.message : String(e) }));
});
