import { writeFileAtomic } from '../io/files';
import type { Module } from '../nn/module';
import { OnnxGraphBuilder } from './onnx_graph';
import { encodeModel } from './onnx_proto';
import { PROTOBUF_MAX_BYTES } from './protobuf_writer';

/** ONNX operator set of the exported graphs (LayerNormalization needs 17). */
export const ONNX_OPSET = 17;
/** ONNX IR version that goes with opset 17. */
export const ONNX_IR_VERSION = 8;

/** Options of {@link toOnnxBytes} and `model.exportOnnx`. */
export interface OnnxExportOptions {
  /**
   * Add attention outputs (default false). MST: `slice_attention` `[batch, slices]` (CLS -> slice
   * rows renormalised, mean over heads, as `sliceAttentionMap`), `slice_attention_heads`
   * `[batch, heads, slices]` (raw rows), and with a DINOv2 encoder `plane_attention`
   * `[batch, slices, rows, cols]` (last block's CLS -> patch rows renormalised, mean over heads, as
   * `planeAttentionMap`), `plane_attention_heads` `[batch, slices, heads, rows * cols]` and
   * `saliency` `[batch, slices, rows, cols]` (slice times plane attention, as `mstSaliency`).
   * ResNet3D has no attention and refuses the option.
   */
  attention?: boolean;
  /** Zero the first patch before renormalising the plane attention, as the authors' code (default false). */
  zeroFirstPatch?: boolean;
  /**
   * Slice height and width fixed in the graph. DINOv2 needs them (its positional embedding is
   * resized to the patch grid at export; default: its positional grid's size, at most 224, so
   * DINOv2-S/14 exports at the paper's 224 and a small model at its own size); ResNets leave them
   * dynamic unless given.
   */
  imageSize?: [number, number];
  /**
   * Slices per volume fixed in the graph (default dynamic, the `slices` dimension; 'linear'
   * fusion fixes it to the model's `numSlices`). A learned slice positional embedding exported
   * without it takes up to its table's rows (256).
   */
  numSlices?: number;
  /** Batch size fixed in the graph (default dynamic, the `batch` dimension). */
  batchSize?: number;
  /**
   * MST: channels per voxel of the `volume` input. Default 1: gray `[batch, slices, height,
   * width]`, repeated to the encoder's channels as mst-ts does. An MST trained on several
   * sequences as image channels (pre/post contrast, T1/T2) takes its encoder's `inChannels`:
   * `volume` is then `[batch, slices, height, width, channels]`, channels last as mst-ts. A 3D
   * ResNet's input channels are its conv1's.
   */
  channels?: number;
  /** More metadata entries (a model bundle's preprocessing, say), as strings. */
  metadata?: Record<string, string>;
}

/**
 * A model that writes itself into an ONNX graph (MST, ResNet3D): its `toOnnx` declares the
 * `volume` input and the outputs; `originalKey` (where the state-dict keys differ from the module
 * paths) names the initializers as the state dict does.
 */
export interface OnnxExportableModel extends Module {
  toOnnx(g: OnnxGraphBuilder, options: OnnxExportOptions): void;
  originalKey?(path: string): string;
  /** The JSON config that rebuilds the model, stored in the ONNX metadata as `mst_ts.config`. */
  modelConfig?(): object;
}

function checkPositive(what: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`exportOnnx: ${what} must be a positive integer, got ${v}`);
}

/**
 * The ONNX model (opset 17) of an MST (DINOv2 or ResNet2D encoder, any fusion) or a ResNet3D, as
 * bytes: input `volume` `[batch, slices, height, width]` float32 (slices first, as mst-ts),
 * output `logits` `[batch, numClasses]`, optional attention outputs. Weights are initializers
 * under their state-dict names (Linear weights transposed for MatMul as `<key>.T`). Works in the
 * browser (no file access); the model should be in evaluation mode (BatchNorm uses its running
 * statistics, dropout is off, whatever the model's mode).
 *
 * @example
 * const bytes = await toOnnxBytes(model, { attention: true });
 * // onnxruntime-web: await ort.InferenceSession.create(bytes)
 */
export async function toOnnxBytes(model: OnnxExportableModel, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  checkPositive('numSlices', options.numSlices);
  checkPositive('batchSize', options.batchSize);
  if (options.imageSize !== undefined) {
    const s = options.imageSize;
    if (!Array.isArray(s) || s.length !== 2) throw new Error(`exportOnnx: imageSize must be [height, width], got ${JSON.stringify(s)}`);
    checkPositive('imageSize[0]', s[0]);
    checkPositive('imageSize[1]', s[1]);
  }
  if (!model || typeof (model as Partial<OnnxExportableModel>).toOnnx !== 'function') {
    throw new Error(`exportOnnx: expected a model with toOnnx() (a MedicalSliceTransformer or a ResNet3D), got ${(model as object)?.constructor?.name ?? typeof model}`);
  }
  const name = model.constructor.name;
  const g = new OnnxGraphBuilder(name, model, model.originalKey ? (p) => (model.originalKey as (p: string) => string)(p) : undefined);
  model.toOnnx(g, options);
  const graph = await g.build(`${name} exported by mst-ts`);
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'mst-ts',
    producerVersion: '0',
    graph,
    docString: `${name} exported by mst-ts`,
    metadata: { 'mst_ts.model': name, ...(model.modelConfig ? { 'mst_ts.config': JSON.stringify(model.modelConfig()) } : {}), ...(options.metadata ?? {}) },
  });
  if (bytes.length > PROTOBUF_MAX_BYTES) throw new Error(`exportOnnx: the model is ${bytes.length} bytes, above protobuf's 2 GiB limit`);
  return bytes;
}

/**
 * Writes {@link toOnnxBytes} to `path` atomically (Node only; `node:fs` is imported lazily).
 *
 * @example
 * await exportOnnx(model, 'mst.onnx', { attention: true });
 */
export async function exportOnnx(model: OnnxExportableModel, path: string, options: OnnxExportOptions = {}): Promise<void> {
  await writeFileAtomic(path, await toOnnxBytes(model, options));
}
