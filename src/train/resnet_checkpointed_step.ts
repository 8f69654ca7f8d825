import * as tf from '@tensorflow/tfjs';
import type { ResNet } from '../models/resnet';
import type { Module } from '../nn/module';
import { leanGradients } from '../ops/lean_backprop';
import { crossEntropy } from './losses';

/** Options of {@link resnetCheckpointedGradients}. */
export interface ResNetCheckpointedGradientsOptions {
  /** `(logits [B, C], labels) -> scalar` (default: mean cross-entropy). */
  lossFn?: (logits: tf.Tensor2D, labels: readonly number[]) => tf.Scalar;
  /** Variables to differentiate (default: every trainable parameter of the model). */
  varList?: tf.Variable[];
}

/** What {@link resnetCheckpointedGradients} returns; the caller disposes both. */
export interface ResNetCheckpointedGradientsResult {
  loss: tf.Scalar;
  /** Gradients keyed by `tf.Variable.name`, as `tf.variableGrads` returns them. */
  grads: tf.NamedTensorMap;
}

interface Segment {
  name: string;
  modules: Module[];
  run: (x: tf.Tensor) => tf.Tensor;
}

/**
 * The loss and parameter gradients of a {@link ResNet} (2D or 3D) training step with activation
 * checkpointing by residual block, so a step keeps one block's activations at a time instead of
 * the whole network's (a 3D ResNet-50 step at batch 2 on 32x224x224 does not fit the 4 GiB wasm
 * heap otherwise):
 * 1. the stem (conv1, bn1, ReLU, max pool) and every block run without a tape, keeping only each
 *    block's input;
 * 2. the pooling and `fc` are differentiated down to the `layer4` output;
 * 3. from the last block back to the stem, each block runs again with a tape and is backpropagated
 *    from its output gradient, giving its parameters' gradients and its input's gradient.
 * Every segment sees the whole batch, so batch norm in training mode normalises with the whole
 * batch's statistics as in the plain step, and the gradients equal `tf.variableGrads` of
 * `model.forward` (to rounding). The running statistics are updated once, by step 1 (step 3's
 * updates are undone). Costs one extra forward pass (~4/3 of a plain step's compute).
 *
 * @param x `[B, ...S, C]` float32 (as `model.forward` takes it).
 * @param labels `B` class indices.
 * @example
 * const { loss, grads } = resnetCheckpointedGradients(net, volumes, [0, 1]);
 * optimizer.step(grads);
 * tf.dispose([loss, grads]);
 */
export function resnetCheckpointedGradients(
  model: ResNet,
  x: tf.Tensor,
  labels: readonly number[],
  options: ResNetCheckpointedGradientsOptions = {},
): ResNetCheckpointedGradientsResult {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') throw new Error(`resnetCheckpointedGradients: expected a float32 tensor, got ${x instanceof tf.Tensor ? x.dtype : typeof x}`);
  if (labels.length !== x.shape[0]) throw new Error(`resnetCheckpointedGradients: expected ${x.shape[0]} labels for input [${x.shape.join(', ')}], got ${labels.length}`);
  const lossFn = options.lossFn ?? ((logits, y) => crossEntropy(logits, y) as tf.Scalar);
  const wanted = new Set((options.varList ?? model.trainableVariables()).filter((v) => v.trainable));
  const segments = segmentsOf(model);
  const varsOf = (modules: Module[]): tf.Variable[] => modules.flatMap((m) => m.namedParameters().map(([, v]) => v)).filter((v) => wanted.has(v));
  const input = prepareInput(model, x);

  // 1. Block inputs without a tape (the running statistics are updated here, once).
  const inputs: tf.Tensor[] = [input];
  for (const s of segments) inputs.push(tf.tidy(() => s.run(inputs[inputs.length - 1])));
  const buffers = model.namedBuffers().map(([, v]) => [v, tf.clone(v)] as const);
  const grads: tf.NamedTensorMap = {};
  try {
    // 2. Pooling and fc, down to the layer4 output.
    const features = inputs[inputs.length - 1];
    const headVars = [...wanted].filter((v) => !segments.some((s) => varsOf(s.modules).includes(v)));
    const head = leanGradients(() => lossFn(model.forwardFrom('layer4', features), labels), [features, ...headVars]);
    let dy = head.grads[0] ?? tf.zerosLike(features);
    headVars.forEach((v, i) => addGrad(grads, v, head.grads[i + 1]));
    // 3. Each block again, with a tape, from the last to the stem (whose input needs no gradient).
    for (let k = segments.length - 1; k >= 0; k--) {
      const a = inputs[k];
      const vars = varsOf(segments[k].modules);
      const xs = k === 0 ? vars : [a, ...vars];
      if (xs.length > 0) {
        const part = leanGradients(() => segments[k].run(a), xs, dy);
        part.value.dispose();
        dy.dispose();
        const offset = xs.length - vars.length;
        dy = offset === 1 ? (part.grads[0] ?? tf.zerosLike(a)) : tf.zeros([0]);
        vars.forEach((v, i) => addGrad(grads, v, part.grads[i + offset]));
      }
    }
    dy.dispose();
    return { loss: head.value as tf.Scalar, grads };
  } finally {
    for (const [v, saved] of buffers) {
      v.assign(saved);
      saved.dispose();
    }
    for (const t of inputs) if (t !== x) t.dispose();
  }
}

function addGrad(grads: tf.NamedTensorMap, v: tf.Variable, g: tf.Tensor | null | undefined): void {
  if (g) grads[v.name] = g;
}

/** `x` as the model's first layer takes it (a 3D ResNet adds the channel axis to `[B, D, H, W]`). */
function prepareInput(model: ResNet, x: tf.Tensor): tf.Tensor {
  const rank = model.spatialDims + 2;
  const input = x.rank === rank - 1 && model.nInputChannels === 1 && rank === 5 ? tf.expandDims(x, -1) : x;
  if (input.rank !== rank || input.shape[rank - 1] !== model.nInputChannels) {
    if (input !== x) input.dispose();
    throw new Error(`resnetCheckpointedGradients: expected input of rank ${rank} with ${model.nInputChannels} channels last, got [${x.shape.join(', ')}]`);
  }
  return input;
}

/** The stem and the residual blocks, built from the model's public parts and checked against its layer names. */
function segmentsOf(model: ResNet): Segment[] {
  const pool = model.maxpool;
  const expected = ['conv1', 'bn1', 'relu', ...(pool ? ['maxpool'] : []), ...model.stages.flatMap((s, k) => s.items.map((_, i) => `layer${k + 1}.${i}`)), 'avgpool', ...(model.fc ? ['fc'] : [])];
  const names = model.layerNames();
  if (names.join(',') !== expected.join(',')) {
    throw new Error(`resnetCheckpointedGradients: unexpected layer sequence [${names.join(', ')}]; expected [${expected.join(', ')}]`);
  }
  const stem: Segment = {
    name: 'stem',
    modules: [model.conv1, model.bn1],
    run: (x) =>
      tf.tidy(() => {
        const y = tf.relu(model.bn1.forward(model.conv1.forward(x)));
        return pool ? pool.forward(y) : y;
      }),
  };
  const blocks = model.stages.flatMap((stage, k) => stage.items.map((b, i): Segment => ({ name: `layer${k + 1}.${i}`, modules: [b], run: (x) => b.forward(x) })));
  return [stem, ...blocks];
}
