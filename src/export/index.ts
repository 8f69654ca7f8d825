/** ONNX export of MST and ResNet3D, and running exported models through onnxruntime-node. */
// In Node, tfjs's first tensor lands on wasm with mst-ts's kernels (see registerNodeDefaultBackend).
import '../kernels/node_default_backend';
export { toOnnxBytes, exportOnnx, ONNX_OPSET, ONNX_IR_VERSION, type OnnxExportOptions, type OnnxExportableModel } from '../onnx/onnx_export';
export { OnnxGraphBuilder } from '../onnx/onnx_graph';
export * as onnxLayers from '../onnx/onnx_layers';
export { loadOnnxModel, type OnnxVolumeModel, type OnnxVolumePrediction } from './onnx_predict';
