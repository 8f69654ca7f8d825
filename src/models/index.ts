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
export { ResNet } from './resnet';
export type { ResNetOptions, ResNetBlockKind, ResNetIntermediates } from './resnet';
export { ResNet3D, resnet3d18, resnet3d34, resnet3d50, resnet3d101, resnet3d152 } from './resnet3d';
export type { ResNet3DOptions } from './resnet3d';
export { ResNet2D, resnet2d18, resnet2d34, resnet2d50 } from './resnet2d';
export type { ResNet2DOptions } from './resnet2d';
export { MODEL_REGISTRY, createModel, loadRegistryModel, predictVolume } from './registry';
export type { ModelSpec, CreateModelOptions, VolumeClassifier } from './registry';
export { buildModel, configOf } from './model_config';
export type { ModelConfig, SliceEncoderConfig, ConfigurableModel, BuildModelOptions, ResNet2DConfigOptions, ResNet3DConfigOptions } from './model_config';
export { saveModel, encodeModel, originalStateDict, configPathFor, MODEL_FORMAT_VERSION } from './save_model';
export type { SaveModelOptions, SavedModelJson, EncodedModel } from './save_model';
export { fromPretrained, parseSavedModelJson, loadSavedModel } from './from_pretrained';
export type { FromPretrainedOptions, PretrainedArch } from './from_pretrained';
