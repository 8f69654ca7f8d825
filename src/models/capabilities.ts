/** How a training step computes its gradients (see the Trainer's gradient strategies). */
export type GradientStrategyName = 'plain' | 'slice-checkpointed' | 'block-checkpointed' | 'data-parallel';

/**
 * What a model can do beyond predicting, read from its parts (never from its name): explanations,
 * ONNX export and the training strategies that apply. Explanations, the CLI and the Trainer check
 * these and name what is missing.
 */
export interface ModelCapabilities {
  /** The slice fusion weighs the slices (the paper's slice attention). */
  sliceAttention: boolean;
  /** The encoder returns attention over a patch grid (the paper's plane attention, rollout). */
  planeAttention: boolean;
  /** Layers where Grad-CAM can cut the network (the encoder's, or the 3D ResNet's); empty: none. */
  camLayers: readonly string[];
  /** Every part writes itself into an ONNX graph. */
  onnx: boolean;
  /** What is missing for ONNX export, when {@link onnx} is false. */
  onnxMissing?: string;
  /** Gradient strategies the Trainer may use. */
  gradients: readonly GradientStrategyName[];
  /** Volumes with fewer slices than the batch can be padded and masked. */
  paddingMask: boolean;
}
