import type * as tf from '@tensorflow/tfjs';
import type { BatchNorm } from '../layers/batch_norm';
import type { ConvStem } from '../layers/conv_stem';
import { interpolatePosEmbed } from '../layers/pos_embed_interpolation';
import type { Linear } from '../layers/linear';
import type { LayerNorm } from '../layers/layer_norm';
import type { MaxPool2d, MaxPool3d } from '../layers/max_pool';
import { Mlp } from '../layers/mlp';
import type { PatchEmbed } from '../layers/patch_embed';
import type { SwiGLUFFN } from '../layers/swiglu_ffn';
import type { Dinov2Block } from '../layers/dinov2_block';
import type { BasicBlock, Bottleneck, ConvNd } from '../layers/resnet_blocks';
import type { Module, ModuleList } from '../nn/module';
import { oursToTorch } from '../nn/layout';
import type { OnnxGraphBuilder } from './onnx_graph';
import { TO_END, batchNorm, conv, gelu, layerNorm, linear, maxPool, vitAttention } from './onnx_layers';

/** The parts of a DINOv2 ViT its graph is written from (`DinoVisionTransformer` has them). */
export interface Dinov2GraphParts extends Module {
  readonly patchSize: number;
  readonly embedDim: number;
  readonly numRegisters: number;
  readonly stem?: ConvStem;
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly registerTokens?: tf.Variable;
  readonly blocks: ModuleList<Dinov2Block>;
  readonly norm: LayerNorm;
  readonly config: { interpolateOffset?: number; interpolateAntialias?: boolean };
}

/** The parts of a 2D or 3D ResNet its graph is written from (`ResNet` has them). */
export interface ResNetGraphParts extends Module {
  readonly spatialDims: number;
  readonly conv1: ConvNd;
  readonly bn1: BatchNorm;
  readonly maxpool?: MaxPool2d | MaxPool3d;
  readonly stages: ModuleList<BasicBlock | Bottleneck>[];
  readonly fc?: Linear;
}

/** What a DINOv2 encoder graph yields. */
export interface Dinov2GraphOutput {
  /** Normalised class token `[N, E]`. */
  features: string;
  /** The last block's attention probabilities `[N, heads, T, T]`. */
  lastAttention: string;
  /** Patch grid `[rows, cols]`. */
  gridSize: [number, number];
}

function feedForward(g: OnnxGraphBuilder, x: string, ffn: Mlp | SwiGLUFFN): string {
  if (ffn instanceof Mlp) return linear(g, gelu(g, linear(g, x, ffn.fc1)), ffn.fc2);
  // SwiGLU: w3(silu(x1) * x2) with [x1, x2] the halves of w12(x).
  const [x1, x2] = g.opN('Split', [linear(g, x, ffn.w12)], 2, { axis: -1 });
  return linear(g, g.op('Mul', [g.op('Mul', [x1, g.op('Sigmoid', [x1])]), x2]), ffn.w3);
}

function dinov2Block(g: OnnxGraphBuilder, x: string, block: Dinov2Block): { output: string; probs: string } {
  return g.scope(g.keyOf(block), () => {
    const a = vitAttention(g, layerNorm(g, x, block.norm1), block.attn);
    const scaled = block.ls1 ? g.op('Mul', [a.output, g.weight(`${g.keyOf(block.ls1)}.gamma`, block.ls1.gamma)]) : a.output;
    const h = g.op('Add', [x, scaled]);
    const f = feedForward(g, layerNorm(g, h, block.norm2), block.mlp);
    const fs = block.ls2 ? g.op('Mul', [f, g.weight(`${g.keyOf(block.ls2)}.gamma`, block.ls2.gamma)]) : f;
    return { output: g.op('Add', [h, fs]), probs: a.probs };
  });
}

/**
 * DINOv2 on images `[N, C, H, W]` of a fixed size (the positional embedding is resized to its
 * patch grid at export, exactly as the tfjs model does): the optional convolutional stem, patch
 * conv, class token, positional embedding, registers, blocks, final norm of the class token.
 */
export function dinov2Graph(g: OnnxGraphBuilder, images: string, enc: Dinov2GraphParts, imageSize: [number, number]): Dinov2GraphOutput {
  const p = enc.patchSize;
  const [h, w] = imageSize;
  if (h % p !== 0 || w % p !== 0 || h <= 0 || w <= 0) {
    throw new Error(`exportOnnx: DINOv2 needs an image size that is a positive multiple of the patch size ${p}, got ${h}x${w} (set options.imageSize)`);
  }
  const grid: [number, number] = [h / p, w / p];
  const e = enc.embedDim;
  const key = g.keyOf(enc);
  const pre = key ? `${key}.` : '';
  return g.scope(key || 'encoder', () => {
    let input = images;
    if (enc.stem) {
      const stem = enc.stem;
      stem.convs.items.forEach((c, i) => {
        input = g.op('Relu', [batchNorm(g, conv(g, input, c), stem.norms.items[i])]);
      });
    }
    const proj = enc.patchEmbed.proj;
    const projKey = g.keyOf(proj);
    const k = enc.patchEmbed.patchSize;
    const projWeight = g.weight(`${projKey}.weight`, proj.weight, { transform: (t) => oursToTorch(t, 'conv2d') });
    const conv1 = g.op('Conv', [input, projWeight, g.weight(`${projKey}.bias`, proj.bias)], { kernel_shape: [k, k], strides: [k, k], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
    // [N, E, gh, gw] -> [N, gh*gw, E]
    const patches = g.op('Transpose', [g.op('Reshape', [conv1, g.int64s([0, 0, -1])])], { perm: [0, 2, 1] });
    const n = g.op('Shape', [patches], { start: 0, end: 1 });
    const cls = g.op('Expand', [g.weight(`${pre}cls_token`, enc.clsToken), g.op('Concat', [n, g.int64s([1, e])], { axis: 0 })]);
    const { interpolateOffset = 0.1, interpolateAntialias = false } = enc.config;
    const pos = g.weight(`${pre}pos_embed`, enc.posEmbed, {
      transform: (t) => interpolatePosEmbed(t, grid[0], grid[1], { offset: interpolateOffset, antialias: interpolateAntialias }),
      docString: `${pre}pos_embed resized bicubically to the ${grid[0]}x${grid[1]} patch grid, as DINOv2's interpolate_pos_encoding`,
    });
    let x = g.op('Add', [g.op('Concat', [cls, patches], { axis: 1 }), pos]);
    if (enc.registerTokens) {
      // DINOv2 inserts the registers after the class token, after the positional embedding.
      const regs = g.op('Expand', [g.weight(`${pre}register_tokens`, enc.registerTokens), g.op('Concat', [n, g.int64s([enc.numRegisters, e])], { axis: 0 })]);
      const first = g.op('Slice', [x, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
      const rest = g.op('Slice', [x, g.int64s([1]), g.int64s([TO_END]), g.int64s([1])]);
      x = g.op('Concat', [first, regs, rest], { axis: 1 });
    }
    let lastAttention = '';
    for (const block of enc.blocks.items) {
      const out = dinov2Block(g, x, block);
      x = out.output;
      lastAttention = out.probs;
    }
    // LayerNorm acts per token: normalising only the class token gives the same feature.
    const clsToken = g.op('Gather', [x, g.int64s([0], true)], { axis: 1 });
    return { features: layerNorm(g, clsToken, enc.norm), lastAttention, gridSize: grid };
  });
}

function residualBlock(g: OnnxGraphBuilder, x: string, block: BasicBlock | Bottleneck, inChannels: number, spatialDims: number): string {
  return g.scope(g.keyOf(block), () => {
    let out = g.op('Relu', [batchNorm(g, conv(g, x, block.conv1), block.bn1)]);
    if ('conv3' in block) {
      out = g.op('Relu', [batchNorm(g, conv(g, out, block.conv2), block.bn2)]);
      out = batchNorm(g, conv(g, out, block.conv3), block.bn3);
    } else {
      out = batchNorm(g, conv(g, out, block.conv2), block.bn2);
    }
    let identity = x;
    // Bracket access reads the private shortcut 'A' settings the block's own forward uses.
    const shortcutA = block['shortcutA'];
    if (block.downsample) identity = batchNorm(g, conv(g, x, block.downsample.conv), block.downsample.norm);
    else if (shortcutA) {
      // MONAI's shortcut 'A': every stride-th cell, zero channels appended.
      const axes = Array.from({ length: spatialDims }, (_, i) => i + 2);
      identity = g.op('Slice', [x, g.int64s(axes.map(() => 0)), g.int64s(axes.map(() => TO_END)), g.int64s(axes), g.int64s(axes.map(() => shortcutA.stride))]);
      const extra = shortcutA.outChannels - inChannels;
      if (extra > 0) {
        const rank = spatialDims + 2;
        const pads = new Array<number>(2 * rank).fill(0);
        pads[rank + 1] = extra;
        identity = g.op('Pad', [identity, g.int64s(pads)], { mode: 'constant' });
      }
    }
    return g.op('Relu', [g.op('Add', [out, identity])]);
  });
}

/**
 * A 2D or 3D ResNet on NC(D)HW input up to the pooled features `[N, C]`, or through `fc` to
 * the logits with `head`.
 */
export function resnetGraph(g: OnnxGraphBuilder, x: string, net: ResNetGraphParts, head: boolean): string {
  const key = g.keyOf(net);
  return g.scope(key || 'resnet', () => {
    let y = g.op('Relu', [batchNorm(g, conv(g, x, net.conv1), net.bn1)]);
    if (net.maxpool) y = maxPool(g, y, net.maxpool);
    for (const stage of net.stages) {
      for (const block of stage.items) {
        const inChannels = block.conv1.inChannels;
        y = residualBlock(g, y, block, inChannels, net.spatialDims);
      }
    }
    y = g.op('Flatten', [g.op('GlobalAveragePool', [y])], { axis: 1 });
    return head && net.fc ? linear(g, y, net.fc) : y;
  });
}
