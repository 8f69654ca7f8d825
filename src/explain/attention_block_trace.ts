import * as tf from '@tensorflow/tfjs';
import { Dinov2Block } from '../layers/dinov2_block';
import { Mlp } from '../layers/mlp';
import { gelu } from '../layers/gelu';
import { TransformerEncoderLayer } from '../layers/transformer_encoder_layer';
import { batchMatMul } from '../ops/batch_matmul';
import { linear } from '../ops/linear';
import { lrpAdd, lrpLinear, lrpMatMul } from './relevance_rules';

/**
 * One transformer block, DINOv2's or `nn.TransformerEncoderLayer`, as the pieces an attribution
 * needs: its forward can take an offset on the attention probabilities (whose gradient is the
 * gradient with respect to the attention, without hooks) and record what relevance propagation
 * reads. Built by {@link attentionBlockView} from the layer's own modules.
 */
export interface AttentionBlockView {
  normFirst: boolean;
  numHeads: number;
  norm1: (x: tf.Tensor) => tf.Tensor;
  norm2: (x: tf.Tensor) => tf.Tensor;
  /** Packed q, k, v projection `[E, 3E]` and bias `[3E]`. */
  qkvWeight: tf.Tensor;
  qkvBias?: tf.Tensor;
  projWeight: tf.Tensor;
  projBias?: tf.Tensor;
  /** LayerScale on the attention and feed-forward branches (DINOv2). */
  ls1?: (x: tf.Tensor) => tf.Tensor;
  ls2?: (x: tf.Tensor) => tf.Tensor;
  /** The feed-forward as two Linears around an element-wise activation; absent for SwiGLU. */
  ffn?: { fc1: tf.Tensor; fc1Bias?: tf.Tensor; activation: (x: tf.Tensor) => tf.Tensor; fc2: tf.Tensor; fc2Bias?: tf.Tensor };
  /** The whole feed-forward. */
  ffnForward: (x: tf.Tensor) => tf.Tensor;
}

/** A transformer block the attributions understand. */
export type AttentionBlock = Dinov2Block | TransformerEncoderLayer;

/**
 * The {@link AttentionBlockView} of a DINOv2 block or a PyTorch-style encoder layer. A layer in
 * training mode with dropout is refused: the attributions explain the deterministic forward.
 *
 * @example
 * const views = dino.blocks.items.map(attentionBlockView);
 */
export function attentionBlockView(block: AttentionBlock): AttentionBlockView {
  if (block instanceof Dinov2Block) {
    const mlp = block.mlp;
    return {
      normFirst: true,
      numHeads: block.attn.numHeads,
      norm1: (x) => block.norm1.forward(x),
      norm2: (x) => block.norm2.forward(x),
      qkvWeight: block.attn.qkv.weight,
      qkvBias: block.attn.qkv.bias,
      projWeight: block.attn.proj.weight,
      projBias: block.attn.proj.bias,
      ls1: block.ls1 ? (x) => (block.ls1 as NonNullable<typeof block.ls1>).forward(x) : undefined,
      ls2: block.ls2 ? (x) => (block.ls2 as NonNullable<typeof block.ls2>).forward(x) : undefined,
      ffn: mlp instanceof Mlp ? { fc1: mlp.fc1.weight, fc1Bias: mlp.fc1.bias, activation: gelu, fc2: mlp.fc2.weight, fc2Bias: mlp.fc2.bias } : undefined,
      ffnForward: (x) => mlp.forward(x),
    };
  }
  if (block instanceof TransformerEncoderLayer) {
    if (block.training && block.dropout > 0) throw new Error('attention attribution: the encoder layer is in training mode with dropout; call model.eval() first');
    const act = block.activation === 'gelu' ? gelu : (x: tf.Tensor) => tf.relu(x);
    const ffn = { fc1: block.linear1.weight, fc1Bias: block.linear1.bias, activation: act, fc2: block.linear2.weight, fc2Bias: block.linear2.bias };
    return {
      normFirst: block.normFirst,
      numHeads: block.selfAttn.numHeads,
      norm1: (x) => block.norm1.forward(x),
      norm2: (x) => block.norm2.forward(x),
      qkvWeight: block.selfAttn.inProjWeight,
      qkvBias: block.selfAttn.inProjBias,
      projWeight: block.selfAttn.outProj.weight,
      projBias: block.selfAttn.outProj.bias,
      ffn,
      ffnForward: (x) => linear(act(linear(x, ffn.fc1 as tf.Tensor2D, ffn.fc1Bias as tf.Tensor1D | undefined)), ffn.fc2 as tf.Tensor2D, ffn.fc2Bias as tf.Tensor1D | undefined),
    };
  }
  throw new Error('attention attribution: expected a DINOv2 block or a TransformerEncoderLayer');
}

/** What one traced block forward computed; every tensor is the caller's. */
export interface BlockTrace {
  /** Block input `[N, T, E]`. */
  input: tf.Tensor;
  /** Input of the q, k, v projection (after norm1 when pre-norm). */
  attnInput: tf.Tensor;
  /** `[N, heads, T, d]`, q already scaled by `d^-0.5`. */
  q: tf.Tensor;
  k: tf.Tensor;
  v: tf.Tensor;
  /** Attention probabilities `[N, heads, T, T]` (before any offset). */
  attention: tf.Tensor;
  /** The probabilities used, with the offset: `[N, heads, T, T]`. */
  used: tf.Tensor;
  /** The heads merged, input of the output projection `[N, T, E]`. */
  merged: tf.Tensor;
  /** The attention branch after LayerScale, added to the input `[N, T, E]`. */
  attnBranch: tf.Tensor;
  /** After the first residual (and norm1 when post-norm). */
  mid: tf.Tensor;
  /** Feed-forward input. */
  ffnInput: tf.Tensor;
  /** Activation of the hidden layer, input of the second Linear (absent without `ffn` parts). */
  hidden?: tf.Tensor;
  /** The feed-forward branch after LayerScale, added to `mid`. */
  ffnBranch: tf.Tensor;
  /** Block output `[N, T, E]`. */
  output: tf.Tensor;
}

const heads = (x: tf.Tensor, h: number): tf.Tensor => {
  const [n, t, e] = x.shape;
  return tf.transpose(tf.reshape(x, [n, t, h, e / h]), [0, 2, 1, 3]);
};
const merge = (x: tf.Tensor): tf.Tensor => {
  const [n, h, t, d] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [n, t, h * d]);
};

/**
 * The block's forward, equal to the layer's own, with `offset` added to the attention
 * probabilities (zeros leave the output unchanged and give the gradient with respect to them).
 *
 * @param x `[N, T, E]`
 * @param offset `[N, heads, T, T]` or none
 * @example
 * const t = tracedBlockForward(view, tokens, tf.zeros([n, heads, T, T]));
 */
export function tracedBlockForward(view: AttentionBlockView, x: tf.Tensor, offset?: tf.Tensor): BlockTrace {
  const e = x.shape[2] as number;
  const w = view.qkvWeight;
  const b = view.qkvBias;
  const part = (i: number) => linear(attnInput, tf.slice(w, [0, i * e], [e, e]) as tf.Tensor2D, b ? (tf.slice(b, [i * e], [e]) as tf.Tensor1D) : undefined);
  const attnInput = view.normFirst ? view.norm1(x) : x;
  const q = tf.mul(heads(part(0), view.numHeads), 1 / Math.sqrt(e / view.numHeads));
  const k = heads(part(1), view.numHeads);
  const v = heads(part(2), view.numHeads);
  // batchMatMul's gradient transposes explicitly (tfjs's uses the matMul flags, slow on wasm).
  const attention = tf.softmax(batchMatMul(q, tf.transpose(k, [0, 1, 3, 2])));
  const used = offset ? tf.add(attention, offset) : attention;
  const merged = merge(batchMatMul(used, v));
  const projected = linear(merged, view.projWeight as tf.Tensor2D, view.projBias as tf.Tensor1D | undefined);
  const attnBranch = view.ls1 ? view.ls1(projected) : projected;
  const sum1 = tf.add(x, attnBranch);
  const mid = view.normFirst ? sum1 : view.norm1(sum1);
  const ffnInput = view.normFirst ? view.norm2(mid) : mid;
  let hidden: tf.Tensor | undefined;
  let ffnOut: tf.Tensor;
  if (view.ffn) {
    hidden = view.ffn.activation(linear(ffnInput, view.ffn.fc1 as tf.Tensor2D, view.ffn.fc1Bias as tf.Tensor1D | undefined));
    ffnOut = linear(hidden, view.ffn.fc2 as tf.Tensor2D, view.ffn.fc2Bias as tf.Tensor1D | undefined);
  } else {
    ffnOut = view.ffnForward(ffnInput);
  }
  const ffnBranch = view.ls2 ? view.ls2(ffnOut) : ffnOut;
  const sum2 = tf.add(mid, ffnBranch);
  const output = view.normFirst ? sum2 : view.norm2(sum2);
  return { input: x, attnInput, q, k, v, attention, used, merged, attnBranch, mid, ffnInput, hidden, ffnBranch, output };
}

/** The tensors of a trace, for disposal. */
export function traceTensors(t: BlockTrace): tf.Tensor[] {
  return [t.input, t.attnInput, t.q, t.k, t.v, t.attention, t.used, t.merged, t.attnBranch, t.mid, t.ffnInput, t.ffnBranch, t.output, ...(t.hidden ? [t.hidden] : [])];
}

/**
 * Relevance propagation through one block (Chefer et al. 2021, Sec. 3.1): from the output's
 * relevance to the input's, recording the relevance of the attention probabilities on the way.
 * LayerNorm, LayerScale and the activations pass relevance unchanged.
 *
 * @returns `input` `[N, T, E]` and `attention` `[N, heads, T, T]`
 * @example
 * const { input, attention } = blockRelevance(view, trace, rOut);
 */
export function blockRelevance(view: AttentionBlockView, trace: BlockTrace, relevance: tf.Tensor): { input: tf.Tensor; attention: tf.Tensor } {
  const ffn = view.ffn;
  if (!ffn || !trace.hidden) throw new Error('transformer attribution: relevance propagation needs a Linear-activation-Linear feed-forward; SwiGLU blocks are not supported');
  const hidden = trace.hidden;
  return tf.tidy(() => {
    const [rMid, rFfn] = lrpAdd(trace.mid, trace.ffnBranch, relevance);
    const rFfnInput = lrpLinear(trace.ffnInput, ffn.fc1, lrpLinear(hidden, ffn.fc2, rFfn));
    // Pre-norm: mid feeds both the skip and norm2; post-norm: ffnInput is mid itself.
    const rMidTotal = tf.add(rMid, rFfnInput);
    const [rInSkip, rAttn] = lrpAdd(trace.input, trace.attnBranch, rMidTotal);
    const rMerged = lrpLinear(trace.merged, view.projWeight, rAttn);
    const [rAttention, rV] = lrpMatMul(trace.used, trace.v, heads(rMerged, view.numHeads));
    const [rQ, rKt] = lrpMatMul(trace.q, tf.transpose(trace.k, [0, 1, 3, 2]), rAttention);
    const rK = tf.transpose(rKt, [0, 1, 3, 2]);
    const rQkv = tf.concat([merge(rQ), merge(rK), merge(rV)], 2);
    const rAttnInput = lrpLinear(trace.attnInput, view.qkvWeight, rQkv);
    return { input: tf.add(rInSkip, rAttnInput), attention: rAttention };
  });
}
