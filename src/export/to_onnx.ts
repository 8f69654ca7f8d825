import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../io/files';
import type { TransformerEncoderLayer } from '../layers/transformer_encoder_layer';
import { DinoVisionTransformer } from '../models/dinov2';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { ResNet } from '../models/resnet';
import { ResNet3D } from '../models/resnet3d';
import type { SliceTransformerParts } from '../models/slice_transformer';
import { OnnxGraphBuilder } from './onnx_graph';
import { dinov2Graph, resnetGraph } from './onnx_encoders';
import { TO_END, gelu, layerNorm, linear, multiheadSelfAttention } from './onnx_layers';
import { encodeModel, type OnnxDim } from './onnx_proto';
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
   * resized to the patch grid at export; default `[224, 224]`); ResNets leave them dynamic unless given.
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
}

/** Models that export to ONNX. */
export type OnnxExportableModel = MedicalSliceTransformer | ResNet3D;

function checkPositive(what: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`exportOnnx: ${what} must be a positive integer, got ${v}`);
}

/**
 * `[B, D, E]` slice features through the slice transformer (CLS token, optional positional
 * embedding, pre- or post-norm layers, final norm): the CLS feature `[B, E]` and the last
 * layer's attention probabilities `[B, heads, 1 + D, 1 + D]`.
 */
function sliceTransformerGraph(
  g: OnnxGraphBuilder,
  h: string,
  parts: SliceTransformerParts,
  batchSlices: string,
  numSlices: number | undefined,
): { feature: string; probs: string } {
  const width = parts.sliceFusion.dModel;
  let x = h;
  const pe = parts.slicePosEmb;
  if (pe) {
    let table: string;
    if (numSlices !== undefined) {
      // A fixed slice count: the table exactly as the tfjs model computes it (learned tables resampled past their rows).
      table = g.computed(`${g.keyOf(pe)}.table_${numSlices}`, () => pe.forward(numSlices), `slice positional embedding of ${numSlices} slices (${pe.kind})`);
    } else if (pe.kind === 'learned') {
      const d = g.op('Slice', [batchSlices, g.int64s([1]), g.int64s([2])]);
      table = g.op('Slice', [g.weight(`${g.keyOf(pe)}.weight`, pe.weight as tf.Variable), g.int64s([0]), d, g.int64s([0])]);
    } else {
      table = sinusoidalTableGraph(g, batchSlices, width);
    }
    x = g.op('Add', [x, table]);
  }
  const b = g.op('Slice', [batchSlices, g.int64s([0]), g.int64s([1])]);
  const cls = g.op('Expand', [g.weight('cls_token', parts.clsToken), g.op('Concat', [b, g.int64s([1, width])], { axis: 0 })]);
  x = g.op('Concat', [cls, x], { axis: 1 });
  let probs = '';
  for (const layer of parts.sliceFusion.layers.items) {
    const out = encoderLayerGraph(g, x, layer);
    x = out.output;
    probs = out.probs;
  }
  // Norms act per token: taking the CLS token first gives the same feature.
  let feature = g.op('Gather', [x, g.int64s([0], true)], { axis: 1 });
  if (parts.sliceFusion.norm) feature = layerNorm(g, feature, parts.sliceFusion.norm);
  return { feature, probs };
}

/** The sinusoidal slice embedding `[D, E]` computed in the graph, so the slice count stays dynamic. */
function sinusoidalTableGraph(g: OnnxGraphBuilder, batchSlices: string, dim: number): string {
  const d = g.op('Cast', [g.op('Gather', [batchSlices, g.int64s([1], true)], { axis: 0 })], { to: 1 });
  const positions = g.op('Unsqueeze', [g.op('Range', [g.scalar(0), d, g.scalar(1)]), g.int64s([1])]);
  const divisor = new Float32Array(dim);
  const even = new Float32Array(dim);
  const odd = new Float32Array(dim);
  for (let c = 0; c < dim; c++) {
    divisor[c] = Math.pow(10000, (2 * Math.floor(c / 2)) / dim);
    (c % 2 === 0 ? even : odd)[c] = 1;
  }
  const angle = g.op('Div', [positions, g.floats('slice_pos_emb.divisor', divisor, [dim])]);
  const sin = g.op('Mul', [g.op('Sin', [angle]), g.floats('slice_pos_emb.even', even, [dim])]);
  const cos = g.op('Mul', [g.op('Cos', [angle]), g.floats('slice_pos_emb.odd', odd, [dim])]);
  return g.op('Add', [sin, cos]);
}

function encoderLayerGraph(g: OnnxGraphBuilder, x: string, layer: TransformerEncoderLayer): { output: string; probs: string } {
  return g.scope(g.keyOf(layer), () => {
    const ff = (h: string): string => {
      const hidden = linear(g, h, layer.linear1);
      return linear(g, layer.activation === 'gelu' ? gelu(g, hidden) : g.op('Relu', [hidden]), layer.linear2);
    };
    if (layer.normFirst) {
      const a = multiheadSelfAttention(g, layerNorm(g, x, layer.norm1), layer.selfAttn);
      const h = g.op('Add', [x, a.output]);
      return { output: g.op('Add', [h, ff(layerNorm(g, h, layer.norm2))]), probs: a.probs };
    }
    const a = multiheadSelfAttention(g, x, layer.selfAttn);
    const h = layerNorm(g, g.op('Add', [x, a.output]), layer.norm1);
    return { output: layerNorm(g, g.op('Add', [h, ff(h)]), layer.norm2), probs: a.probs };
  });
}

/** Rows `[..., K]` renormalised to sum 1, then the mean over `headAxis` (removed). */
function normalisedHeadMean(g: OnnxGraphBuilder, rows: string, headAxis: number): string {
  const norm = g.op('Div', [rows, g.op('ReduceSum', [rows, g.int64s([-1])], { keepdims: 1 })]);
  return g.op('ReduceMean', [norm], { axes: [headAxis], keepdims: 0 });
}

function mstGraph(g: OnnxGraphBuilder, model: MedicalSliceTransformer, options: OnnxExportOptions): void {
  const enc = model.encoder;
  const isDino = enc instanceof DinoVisionTransformer;
  if (!isDino && !(enc instanceof ResNet && enc.spatialDims === 2)) {
    throw new Error(`exportOnnx: MST encoders DinoVisionTransformer and ResNet2D export to ONNX; got ${enc.constructor.name}`);
  }
  const imageSize = options.imageSize ?? (isDino ? [224, 224] : undefined);
  let numSlices = options.numSlices;
  if (model.sliceFusionType === 'linear') {
    if (numSlices !== undefined && numSlices !== model.numSlices) {
      throw new Error(`exportOnnx: 'linear' fusion was built for ${model.numSlices} slices, got numSlices ${numSlices}`);
    }
    numSlices = model.numSlices;
  }
  const shape: OnnxDim[] = [options.batchSize ?? 'batch', numSlices ?? 'slices', imageSize?.[0] ?? 'height', imageSize?.[1] ?? 'width'];
  const volume = g.input('volume', shape, 'float32 volumes [batch, slices, height, width], slices first, preprocessed as for the tfjs model');
  const batchSlices = g.op('Shape', [volume], { start: 0, end: 2 });
  // [B, D, H, W] -> [B*D, 1, H, W], gray repeated to the encoder's channels as the original.
  let images = g.op('Reshape', [volume, g.int64s([-1, 1, 0, 0])]);
  if (enc.inChannels > 1) images = g.op('Tile', [images, g.int64s([1, enc.inChannels, 1, 1])]);

  let features: string;
  let planeProbs: string | undefined;
  let grid: [number, number] | undefined;
  if (isDino) {
    const out = dinov2Graph(g, images, enc, imageSize as [number, number]);
    features = out.features;
    if (model.encoderAttention) {
      planeProbs = out.lastAttention;
      grid = out.gridSize;
    }
  } else {
    features = resnetGraph(g, images, enc as unknown as ResNet, false);
  }
  if (model.bottleneck) features = linear(g, features, model.bottleneck);
  const h = g.op('Reshape', [features, g.op('Concat', [batchSlices, g.int64s([model.width])], { axis: 0 })]);

  let fused: string;
  let sliceProbs: string | undefined;
  if (model.sliceFusionType === 'transformer') {
    const out = g.scope('slice_fusion', () => sliceTransformerGraph(g, h, model as unknown as SliceTransformerParts, batchSlices, numSlices));
    fused = out.feature;
    sliceProbs = out.probs;
  } else if (model.sliceFusionType === 'linear') {
    fused = g.op('Reshape', [h, g.int64s([0, -1])]);
  } else {
    fused = g.op('ReduceMean', [h], { axes: [1], keepdims: 0 });
  }
  const batch = options.batchSize ?? 'batch';
  const slices = numSlices ?? 'slices';
  g.output('logits', linear(g, fused, model.linear), [batch, model.numClasses], 'class logits [batch, numClasses] (softmax gives the probabilities)');
  if (!options.attention) return;
  if (!sliceProbs && !planeProbs) {
    throw new Error(`exportOnnx: this MST (${enc.constructor.name} encoder, '${model.sliceFusionType}' fusion) has no attention maps to export`);
  }
  let sliceMap: string | undefined;
  if (sliceProbs) {
    const heads = (model.sliceFusion?.layers.items[0].selfAttn.numHeads) as number;
    // CLS row without the CLS column: [B, heads, 1, D] -> [B, heads, D]
    const rows = g.op('Reshape', [g.op('Slice', [sliceProbs, g.int64s([0, 1]), g.int64s([1, TO_END]), g.int64s([2, 3])]), g.int64s([0, 0, -1])]);
    g.output('slice_attention_heads', rows, [batch, heads, slices], 'slice transformer CLS -> slice attention per head [batch, heads, slices]');
    sliceMap = normalisedHeadMean(g, rows, 1);
    g.output('slice_attention', sliceMap, [batch, slices], 'slice attention [batch, slices]: CLS -> slice rows renormalised per head, mean over heads');
  }
  if (planeProbs && grid) {
    const dino = enc as DinoVisionTransformer;
    const prefix = dino.numPrefixTokens;
    const heads = dino.numHeads;
    const p = grid[0] * grid[1];
    // Last block's CLS row over the patches: [B*D, heads, 1, P] -> [B, D, heads, P]
    const cut = g.op('Slice', [planeProbs, g.int64s([0, prefix]), g.int64s([1, TO_END]), g.int64s([2, 3])]);
    let rows = g.op('Reshape', [cut, g.op('Concat', [batchSlices, g.int64s([heads, p])], { axis: 0 })]);
    g.output('plane_attention_heads', rows, [batch, slices, heads, p], 'last encoder block CLS -> patch attention per head [batch, slices, heads, rows*cols]');
    if (options.zeroFirstPatch) {
      const keep = new Float32Array(p).fill(1);
      keep[0] = 0;
      rows = g.op('Mul', [rows, g.floats('plane_attention.first_patch_mask', keep, [p])]);
    }
    const plane = g.op('Reshape', [normalisedHeadMean(g, rows, 2), g.int64s([0, 0, grid[0], grid[1]])]);
    g.output('plane_attention', plane, [batch, slices, grid[0], grid[1]], 'plane attention [batch, slices, rows, cols]: CLS -> patch rows renormalised per head, mean over heads');
    if (sliceMap) {
      const saliency = g.op('Mul', [g.op('Unsqueeze', [sliceMap, g.int64s([2, 3])]), plane]);
      g.output('saliency', saliency, [batch, slices, grid[0], grid[1]], 'MST saliency [batch, slices, rows, cols]: slice attention times plane attention');
    }
  }
}

function resnet3dGraph(g: OnnxGraphBuilder, model: ResNet3D, options: OnnxExportOptions): void {
  if (options.attention) throw new Error('exportOnnx: ResNet3D has no attention maps (explain it with Grad-CAM in mst-ts)');
  if (!model.fc) throw new Error('exportOnnx: this ResNet3D has no fc head (feedForward false); export needs logits');
  const c = model.nInputChannels;
  const batch = options.batchSize ?? 'batch';
  const spatial: OnnxDim[] = [options.numSlices ?? 'slices', options.imageSize?.[0] ?? 'height', options.imageSize?.[1] ?? 'width'];
  let x: string;
  if (c === 1) {
    const volume = g.input('volume', [batch, ...spatial], 'float32 volumes [batch, slices, height, width], slices first');
    x = g.op('Unsqueeze', [volume, g.int64s([1])]);
  } else {
    const volume = g.input('volume', [batch, ...spatial, c], `float32 volumes [batch, slices, height, width, ${c}], channels last as mst-ts`);
    x = g.op('Transpose', [volume], { perm: [0, 4, 1, 2, 3] });
  }
  g.output('logits', resnetGraph(g, x, model, true), [batch, model.numClasses], 'class logits [batch, numClasses]');
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
  const name = model.constructor.name;
  const g = new OnnxGraphBuilder(name, model);
  if (model instanceof MedicalSliceTransformer) mstGraph(g, model, options);
  else if (model instanceof ResNet3D) resnet3dGraph(g, model, options);
  else throw new Error(`exportOnnx: expected a MedicalSliceTransformer or a ResNet3D, got ${(model as object)?.constructor?.name ?? typeof model}`);
  const graph = await g.build(`${name} exported by mst-ts`);
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'mst-ts',
    producerVersion: '0',
    graph,
    docString: `${name} exported by mst-ts`,
    metadata: { 'mst_ts.model': name, 'mst_ts.config': JSON.stringify(model.config ?? {}) },
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
