/**
 * mst-ts: the Medical Slice Transformer on TensorFlow.js.
 *
 * Subpaths (`mst-ts/layers`, `mst-ts/models`, `mst-ts/explain`, `mst-ts/stats`, `mst-ts/io`,
 * `mst-ts/nn`) expose the same symbols for smaller imports; `mst-ts/stats` loads no tfjs.
 */
export * from './nn';
export * from './layers';
export * from './models';
export * from './explain';
export * from './stats';
export * from './io';
export * from './train';
export * from './data';
export * from './reproduce';
export { toOnnxBytes, exportOnnx, loadOnnxModel, ONNX_OPSET, type OnnxExportOptions, type OnnxExportableModel, type OnnxVolumeModel, type OnnxVolumePrediction } from './export';
export { setBackend, useDefaultBackend, webgpuAvailable, installWebGpuGlobals } from './backend';
export type { BackendName, SetBackendOptions, DawnModule } from './backend';
export { installWasmMatMul, wasmKernelVariant, type WasmKernelOptions, type WasmKernelVariant } from './kernels/wasm_matmul';
export { relaxedSimdSupported, enableNodeRelaxedSimd } from './kernels/wasm_features';
export { WebSliceEncoderPool, serveSliceEncoder, type WebSliceEncoderPoolOptions, type WebWorkerLike } from './parallel/web_pool';
export { predictWithPool, type SliceFeaturePool } from './parallel/predict_with_pool';
export { Rng } from './utils/rng';
