import type * as tf from '@tensorflow/tfjs';
import type { Attention } from '../layers/attention';
import type { BatchNorm } from '../layers/batch_norm';
import type { Conv2d } from '../layers/conv2d';
import type { Conv3d } from '../layers/conv3d';
import type { LayerNorm } from '../layers/layer_norm';
import type { Linear } from '../layers/linear';
import type { MaxPool2d, MaxPool3d } from '../layers/max_pool';
import type { MultiheadAttention } from '../layers/multihead_attention';
import type { TransformerEncoderLayer } from '../layers/transformer_encoder_layer';
import { oursToTorch } from '../nn/layout';
import type { OnnxGraphBuilder } from './onnx_graph';

/**
 * The ONNX form of mst-ts's layers, one function each. Tokens are `[N, T, E]` and images NCHW
 * (NCDHW in 3D), ONNX's layouts. Linear weights are stored `[in, out]` (PyTorch's `[out, in]`
 * transposed at export, named `<key>.T`) for a plain MatMul; conv weights and everything else
 * keep PyTorch's layout and state-dict name.
 */

/** Largest end index for Slice: "to the end of the axis". */
export const TO_END = Number.MAX_SAFE_INTEGER;

/** `x W^T + b` over the last axis: MatMul with the transposed weight, then Add. */
export function linear(g: OnnxGraphBuilder, x: string, lin: Linear): string {
  const key = g.keyOf(lin);
  const w = g.weight(`${key}.weight.T`, lin.weight, { docString: `${key}.weight [${lin.outFeatures}, ${lin.inFeatures}] transposed to [in, out] for MatMul` });
  const y = g.op('MatMul', [x, w]);
  return lin.bias ? g.op('Add', [y, g.weight(`${key}.bias`, lin.bias)]) : y;
}

/** LayerNormalization (opset 17) over the last axis with the layer's eps. */
export function layerNorm(g: OnnxGraphBuilder, x: string, ln: LayerNorm): string {
  const key = g.keyOf(ln);
  return g.op('LayerNormalization', [x, g.weight(`${key}.weight`, ln.weight), g.weight(`${key}.bias`, ln.bias)], { axis: -1, epsilon: { float: ln.eps } });
}

/** Exact GELU `0.5 x (1 + erf(x / sqrt 2))`, PyTorch's exporter's pattern (ONNX Runtime fuses it). */
export function gelu(g: OnnxGraphBuilder, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.scalar(1)])]), g.scalar(0.5)]);
}

/**
 * Multi-head self-attention on packed q, k, v `[N, T, 3E]` (q, k, v, head-major within each):
 * `softmax(scale q k^T) v`, heads merged back to `[N, T, E]`. Returns the probabilities
 * `[N, heads, T, T]` too.
 */
export function attentionCore(g: OnnxGraphBuilder, qkv: string, heads: number, headDim: number): { output: string; probs: string } {
  // [N, T, 3E] -> [N, T, 3, heads, d] -> [3, N, heads, T, d]
  const split = g.op('Transpose', [g.op('Reshape', [qkv, g.int64s([0, 0, 3, heads, headDim])])], { perm: [2, 0, 3, 1, 4] });
  const [q, k, v] = [0, 1, 2].map((i) => g.op('Gather', [split, g.int64s([i], true)], { axis: 0 }));
  // The scale multiplies q before the product, as the tfjs model (and DINOv2) does.
  const qs = g.op('Mul', [q, g.scalar(1 / Math.sqrt(headDim))]);
  const scores = g.op('MatMul', [qs, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const heads4 = g.op('MatMul', [probs, v]);
  const merged = g.op('Reshape', [g.op('Transpose', [heads4], { perm: [0, 2, 1, 3] }), g.int64s([0, 0, heads * headDim])]);
  return { output: merged, probs };
}

/** DINOv2's / timm's `Attention`: `qkv` Linear, attention, `proj` Linear. */
export function vitAttention(g: OnnxGraphBuilder, x: string, attn: Attention): { output: string; probs: string } {
  const core = attentionCore(g, linear(g, x, attn.qkv), attn.numHeads, attn.headDim);
  return { output: linear(g, core.output, attn.proj), probs: core.probs };
}

/** `torch.nn.MultiheadAttention` self-attention: packed `in_proj_weight`/`in_proj_bias`, `out_proj`. */
export function multiheadSelfAttention(g: OnnxGraphBuilder, x: string, mha: MultiheadAttention): { output: string; probs: string } {
  const key = g.keyOf(mha);
  const w = g.weight(`${key}.in_proj_weight.T`, mha.inProjWeight, { docString: `${key}.in_proj_weight [3E, E] transposed to [E, 3E] for MatMul` });
  let qkv = g.op('MatMul', [x, w]);
  if (mha.inProjBias) qkv = g.op('Add', [qkv, g.weight(`${key}.in_proj_bias`, mha.inProjBias)]);
  const core = attentionCore(g, qkv, mha.numHeads, mha.headDim);
  return { output: linear(g, core.output, mha.outProj), probs: core.probs };
}

/** A Conv2d/Conv3d on NCHW/NCDHW input, weight in PyTorch's `[O, I, k...]` layout. */
export function conv(g: OnnxGraphBuilder, x: string, c: Conv2d | Conv3d): string {
  const key = g.keyOf(c);
  const three = c.kernelSize.length === 3;
  const w = g.weight(`${key}.weight`, c.weight, { transform: (t: tf.Tensor) => oursToTorch(t, three ? 'conv3d' : 'conv2d') });
  const inputs = [x, w];
  if (c.bias) inputs.push(g.weight(`${key}.bias`, c.bias));
  return g.op('Conv', inputs, {
    kernel_shape: [...c.kernelSize],
    strides: [...c.stride],
    pads: [...c.padding, ...c.padding],
    dilations: c.kernelSize.map(() => 1),
    group: 1,
  });
}

/** Inference BatchNormalization with the running statistics. */
export function batchNorm(g: OnnxGraphBuilder, x: string, bn: BatchNorm): string {
  const key = g.keyOf(bn);
  return g.op(
    'BatchNormalization',
    [x, g.weight(`${key}.weight`, bn.weight), g.weight(`${key}.bias`, bn.bias), g.weight(`${key}.running_mean`, bn.runningMean), g.weight(`${key}.running_var`, bn.runningVar)],
    { epsilon: { float: bn.eps }, momentum: { float: 1 - bn.momentum } },
  );
}

/** MaxPool with PyTorch's symmetric padding (padded cells never win, as -inf padding). */
export function maxPool(g: OnnxGraphBuilder, x: string, pool: MaxPool2d | MaxPool3d): string {
  return g.op('MaxPool', [x], { kernel_shape: [...pool.kernelSize], strides: [...pool.stride], pads: [...pool.padding, ...pool.padding], ceil_mode: 0 });
}

/** `torch.nn.TransformerEncoderLayer` (pre- or post-norm, ReLU or GELU) on tokens `[B, T, E]`; also returns its attention probabilities. */
export function transformerEncoderLayer(g: OnnxGraphBuilder, x: string, layer: TransformerEncoderLayer): { output: string; probs: string } {
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
export function normalisedHeadMean(g: OnnxGraphBuilder, rows: string, headAxis: number): string {
  const norm = g.op('Div', [rows, g.op('ReduceSum', [rows, g.int64s([-1])], { keepdims: 1 })]);
  return g.op('ReduceMean', [norm], { axes: [headAxis], keepdims: 0 });
}
