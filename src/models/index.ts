export { MedicalSliceTransformer } from './medical_slice_transformer';
export { predictInEvalMode } from './eval_prediction';
export type {
  MedicalSliceTransformerOptions,
  MedicalSliceTransformerCallOptions,
  MedicalSliceTransformerOutput,
  MedicalSliceTransformerConfig,
  MstModelConfig,
  FusedFeatures,
  SliceFusionName,
  Prediction,
} from './medical_slice_transformer';
export type { SliceEncoder, SliceEncoding, EncodeOptions, AttentionRequest, SliceEncoderGraph } from './slice_encoder';
export { attentionLevel } from './fusions/slice_fusion';
export type {
  SliceFusion,
  SliceFusionOutput,
  SliceFusionCallOptions,
  SliceFusionGraph,
  SliceFusionGraphContext,
  SliceAttentionRequest,
  FusionContext,
} from './fusions/slice_fusion';
export { TransformerFusion, sliceTransformerHeads, MIN_DEFAULT_HEAD_DIM } from './fusions/transformer_fusion';
export type { TransformerFusionOptions } from './fusions/transformer_fusion';
export { AdpeTransformerFusion } from './fusions/transformer_adpe_fusion';
export type { AdpeTransformerFusionOptions } from './fusions/transformer_adpe_fusion';
export { LinearFusion } from './fusions/linear_fusion';
export type { LinearFusionOptions } from './fusions/linear_fusion';
export { AverageFusion } from './fusions/average_fusion';
export { ComponentRegistry } from './component_registry';
export type { ComponentConfig, ComponentDefinition, ComponentOptions } from './component_registry';
export { ENCODERS, registerEncoder, createEncoder, encoderConfigOf } from './encoder_registry';
export type { ResNet2DConfigOptions } from './encoder_registry';
export { FUSIONS, registerFusion, createFusion, fusionConfigOf } from './fusion_registry';
export type { ModelCapabilities, GradientStrategyName } from './capabilities';
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
export type { ResNet3DOptions, ResNet3DConfigOptions, ResNet3DModelConfig } from './resnet3d';
export { ResNet2D, resnet2d18, resnet2d34, resnet2d50 } from './resnet2d';
export type { ResNet2DOptions } from './resnet2d';
export { MODEL_REGISTRY, PAPER_LEARNING_RATES, SMALL_VITS, createModel, registerModel, modelSpec, archOf, loadRegistryModel, predictVolume, smallVitOptions } from './registry';
export type { ModelSpec, CreateModelOptions, VolumeClassifier, TrainingFamily, SmallVit } from './registry';
export { buildModel, configOf, checkModelConfig, upgradeConfigV1, estimateModelValues } from './model_config';
export type { CheckModelConfigOptions } from './model_config';
export type { ModelConfig, ConfigurableModel, BuildModelOptions } from './model_config';
export { saveModel, encodeModel, bundleJson, configPathFor, MODEL_FORMAT_VERSION } from './save_model';
export type { SaveModelOptions, SavedModelJson, EncodedModel, BundleInfo, ExplainDefaults } from './save_model';
export { fromPretrained, parseSavedModelJson, loadSavedModel, loadModelBundle } from './from_pretrained';
export type { FromPretrainedOptions, PretrainedArch } from './from_pretrained';
export { toOnnxBytes, exportOnnx, ONNX_OPSET, ONNX_IR_VERSION } from '../onnx/onnx_export';
export type { OnnxExportOptions, OnnxExportableModel } from '../onnx/onnx_export';
export {
  saveModelToIndexedDB,
  loadModelFromIndexedDB,
  listModelsInIndexedDB,
  deleteModelFromIndexedDB,
  downloadModel,
  loadModelFromFiles,
  loadBundleFromFiles,
  modelArtifacts,
  modelFromArtifacts,
  saveModelTo,
  loadModelFrom,
} from './browser_storage';
