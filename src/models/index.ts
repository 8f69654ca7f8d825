export {};
export { SliceTransformer, SlicePositionalEmbedding, sliceTransformerForward, createSliceTransformerParts } from './slice_transformer';
export type {
  SliceTransformerOptions,
  SliceTransformerCallOptions,
  SliceTransformerOutput,
  SliceTransformerParts,
  SlicePositionalEmbeddingKind,
  SliceAttentionRequest,
} from './slice_transformer';
export { MedicalSliceTransformer } from './medical_slice_transformer';
export type {
  MedicalSliceTransformerOptions,
  MedicalSliceTransformerCallOptions,
  MedicalSliceTransformerOutput,
  SliceFusion,
  Prediction,
} from './medical_slice_transformer';
export {
  DinoVisionTransformer,
  DINOV2_ARCHS,
  dinov2Config,
  dinov2StateDictShapes,
  dinov2ParameterCount,
  dinov2_vits14,
  dinov2_vitb14,
  dinov2_vitl14,
  dinov2_vitg14,
  dinov2_vits14_reg,
  dinov2_vitb14_reg,
  dinov2_vitl14_reg,
  dinov2_vitg14_reg,
} from './dinov2';
export type { DinoVisionTransformerOptions, Dinov2FactoryOptions, Dinov2Arch, Dinov2Features, Dinov2ForwardOptions } from './dinov2';
