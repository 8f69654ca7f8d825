import * as tf from '@tensorflow/tfjs';
import type { GradientStrategyName, ModelCapabilities } from '../models/capabilities';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { ResNet } from '../models/resnet';
import type { Module } from '../nn/module';
import { leanVariableGrads } from '../ops/lean_backprop';
import { checkpointedGradients } from './checkpointed_step';
import { resnetCheckpointedGradients } from './resnet_checkpointed_step';

/**
 * A model the Trainer can fit: a {@link Module} whose forward maps a batch to logits `[B, C]`,
 * either directly (ResNet3D) or as `{ logits }` (MST, whose other outputs are freed).
 */
export interface TrainableModel extends Module {
  forward(x: tf.Tensor): tf.Tensor | { logits: tf.Tensor };
  /** What the model supports (explanations, strategies); models of the registry have it. */
  readonly capabilities?: ModelCapabilities;
}

/** The logits of a {@link TrainableModel}'s forward output. */
export function logitsOf(out: tf.Tensor | { logits: tf.Tensor }): tf.Tensor {
  return out instanceof tf.Tensor ? out : out.logits;
}

/** `(logits [B, C], labels) -> scalar loss`. */
export type LossFunction = (logits: tf.Tensor, labels: readonly number[]) => tf.Scalar;

/** What a strategy's {@link GradientStrategy.gradients} receives besides the batch. */
export interface GradientContext {
  /** The variables to differentiate (the trainable parameters). */
  vars: tf.Variable[];
  /** The loss. */
  loss: LossFunction;
  /** Cross-entropy class weights, when the loss is the default cross-entropy (data-parallel workers need them). */
  classWeights?: readonly number[];
  /** Whether {@link loss} is the default cross-entropy (workers can only compute that one). */
  defaultLoss: boolean;
}

/**
 * How a training step computes the loss and its gradients: plain backpropagation, with slice or
 * residual-block checkpointing (bounded memory), or on worker threads (data parallel). The
 * Trainer takes one as an object; {@link check} refuses a model it does not apply to when the
 * Trainer is built.
 */
export interface GradientStrategy {
  readonly name: GradientStrategyName | string;
  /** Throws when the strategy does not apply to `model` (say why). */
  check?(model: TrainableModel, context: Omit<GradientContext, 'vars'>): void;
  /** The loss of the batch and its gradients, keyed by `tf.Variable.name`; the caller disposes both. */
  gradients(model: TrainableModel, x: tf.Tensor, labels: readonly number[], context: GradientContext): Promise<{ loss: tf.Scalar; grads: tf.NamedTensorMap }>;
}

/**
 * Plain backpropagation (tfjs's own gradients, with each node's saved tensors freed as soon as
 * used).
 *
 * @example
 * new Trainer({ model, train, epochs: 5, lr: 1e-3, gradients: plainGradients() });
 */
export function plainGradients(): GradientStrategy {
  return {
    name: 'plain',
    async gradients(model, x, labels, { vars, loss }) {
      const { value, grads } = leanVariableGrads(() => loss(logitsOf(model.forward(x)), labels), vars);
      return { loss: value, grads };
    },
  };
}

/**
 * MST slice checkpointing (see `checkpointedGradients`): slices are encoded `chunkSize` at a time
 * without keeping activations and recomputed in the backward pass, so memory does not grow with
 * the slice count; the gradients equal the plain step's.
 *
 * @example
 * new Trainer({ model: mst, train, epochs: 5, lr: 1e-4, gradients: sliceCheckpointing({ chunkSize: 4 }) });
 */
export function sliceCheckpointing(options: { chunkSize?: number } = {}): GradientStrategy {
  const chunkSize = options.chunkSize ?? 8;
  if (!(Number.isInteger(chunkSize) && chunkSize > 0)) throw new Error(`sliceCheckpointing: chunkSize must be a positive integer, got ${chunkSize}`);
  return {
    name: 'slice-checkpointed',
    check(model) {
      if (!(model instanceof MedicalSliceTransformer)) throw new Error(`slice checkpointing applies to a MedicalSliceTransformer, not a ${model.constructor.name}`);
    },
    async gradients(model, x, labels, { vars, loss }) {
      return checkpointedGradients(model as MedicalSliceTransformer, x, labels, { chunkSize, varList: vars, lossFn: loss });
    },
  };
}

/**
 * ResNet residual-block checkpointing (see `resnetCheckpointedGradients`): each block is
 * recomputed in the backward pass with whole-batch batch-norm statistics; the gradients equal the
 * plain step's, at about 4/3 of the compute.
 *
 * @example
 * new Trainer({ model: resnet3d50(), train, epochs: 5, lr: 1e-4, gradients: blockCheckpointing() });
 */
export function blockCheckpointing(): GradientStrategy {
  return {
    name: 'block-checkpointed',
    check(model) {
      if (!(model instanceof ResNet)) throw new Error(`block checkpointing applies to a ResNet (2D or 3D), not a ${model.constructor.name}`);
    },
    async gradients(model, x, labels, { vars, loss }) {
      const { loss: value, grads } = resnetCheckpointedGradients(model as ResNet, x, labels, { varList: vars, lossFn: loss });
      return { loss: value, grads };
    },
  };
}

/**
 * The strategy a model's capabilities choose when none is given: plain backpropagation.
 */
export function defaultGradients(model: TrainableModel): GradientStrategy {
  const caps = model.capabilities;
  if (caps && !caps.gradients.includes('plain')) throw new Error(`the model ${model.constructor.name} supports no plain gradients (${caps.gradients.join(', ')}); give a gradient strategy`);
  return plainGradients();
}
