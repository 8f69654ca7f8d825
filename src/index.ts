/**
 * mst-ts: the Medical Slice Transformer on TensorFlow.js.
 *
 * The root entry is the researcher's API: models and their registry, custom encoders and fusions,
 * one-call classifiers, explanations, statistics, readers, training and the paper's tables.
 * Subpaths (`mst-ts/layers`, `mst-ts/models`, `mst-ts/explain`, `mst-ts/stats`, `mst-ts/io`,
 * `mst-ts/nn`, ...) expose narrower sets for smaller imports; `mst-ts/stats` loads no tfjs.
 */
export * from './nn';
export * from './layers';
export * from './models';
export * from './explain';
export * from './stats';
export * from './io';
export * from './train';
export * from './pretrain';
export * from './data';
export * from './classifier';
export { runFigure2, runTable1, runTable2, runTable3, runTableS1, figure2Models, table2Models, table3Models, tableS1Models, mstRecipe, resnet3dRecipe, scaleConfig, dinoPretraining } from './reproduce';
export type { ReproduceOptions, ModelRecipe, MstRecipeOptions, EncoderKind, EncoderWeights, ReproduceScale, ScaleConfig, ReproduceTask, AucTableResult, Table1Result } from './reproduce';
export { loadOnnxModel, OnnxGraphBuilder, onnxLayers, type OnnxVolumeModel, type OnnxVolumePrediction } from './export';
export { setBackend, useDefaultBackend, webgpuAvailable, installWebGpuGlobals } from './backend';
export type { BackendName, SetBackendOptions, DawnModule } from './backend';
export { installWasmMatMul, wasmKernelsInstalled, wasmKernelVariant, type WasmKernelOptions, type WasmKernelVariant } from './kernels/wasm_matmul';
export { relaxedSimdSupported, enableNodeRelaxedSimd } from './kernels/wasm_features';
export { nativeKernelsInfo, setNativeThreads, type NativeKernelsInfo } from './kernels/native_kernels';
export { WebSliceEncoderPool, serveSliceEncoder, type WebSliceEncoderPoolOptions, type WebWorkerLike } from './parallel/web_pool';
export { predictWithPool, type SliceFeaturePool } from './parallel/predict_with_pool';
// Importing it registers Node's default backend: wasm with mst-ts's kernels.
export { registerNodeDefaultBackend } from './kernels/node_default_backend';
export { Rng } from './utils/rng';
