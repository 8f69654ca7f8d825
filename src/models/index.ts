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
