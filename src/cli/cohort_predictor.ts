/**
 * One loaded model behind one interface, for `mst-ts predict` (one volume or a cohort): a tfjs
 * registry model, or an exported ONNX graph run by onnxruntime-node.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeExplanation, explainVolume } from '../explain/explain_volume';
import { explainJsonFields, type ExplainJsonFields } from '../explain/explain_json';
import { mstSaliency, planeAttentionMap, sliceAttentionMap } from '../explain/mst_saliency';
import type { OnnxVolumeModel, OnnxVolumePrediction } from '../export/onnx_predict';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { loadRegistryModel, predictVolume, type VolumeClassifier } from '../models/registry';

/** The runtimes `--runtime` accepts. */
export const RUNTIMES = ['tfjs', 'onnx'] as const;
/** A model runtime: tfjs (any backend) or ONNX Runtime. */
export type Runtime = (typeof RUNTIMES)[number];

/** What to load: everything a worker thread needs to build its own copy (plain data). */
export interface PredictorSpec {
  runtime: Runtime;
  /** Registry architecture (required for tfjs; a label only for onnx). */
  arch?: string;
  /** `.safetensors` (tfjs) or `.onnx` (onnx) file. */
  weights: string;
  /** Output classes of a tfjs model (default 2). */
  numClasses?: number;
  /** ONNX Runtime intra-op threads (default: its own choice). */
  threads?: number;
}

/** One volume as the readers give it. */
export interface VolumeInput {
  data: Float32Array;
  shape: [number, number, number];
}

/** What to compute besides the prediction. */
export interface PredictRequest {
  /** The slice attention `[D]` (MST; from the ONNX graph's attention outputs). */
  sliceAttention?: boolean;
  /** The saliency volume `[D, H, W]` (the model's explanation method, upsampled to the input). */
  saliency?: boolean;
}

/** A prediction and the explanation asked for. */
export interface VolumeOutput {
  logits: number[];
  probabilities: number[];
  /** `[D]`, summing to 1. */
  sliceAttention?: number[];
  /** `[D, H, W]` flattened, the input's shape. */
  saliency?: Float32Array;
  /** The method that made {@link saliency}. */
  saliencyMethod?: string;
}

/** A loaded model; {@link dispose} frees it. */
export interface VolumePredictor {
  readonly spec: PredictorSpec;
  /** Whether {@link predict} can give the slice attention. */
  readonly hasSliceAttention: boolean;
  predict(volume: VolumeInput, request?: PredictRequest): Promise<VolumeOutput>;
  /** The fields `mst-ts predict --json --explain` adds (the single-volume JSON). */
  explainJson(volume: VolumeInput): Promise<ExplainJsonFields>;
  dispose(): Promise<void>;
}

function hasTransformerFusion(model: VolumeClassifier): model is MedicalSliceTransformer {
  return model instanceof MedicalSliceTransformer && model.sliceFusionType === 'transformer';
}

class TfjsPredictor implements VolumePredictor {
  readonly hasSliceAttention: boolean;

  constructor(
    readonly spec: PredictorSpec,
    private readonly model: VolumeClassifier,
  ) {
    this.hasSliceAttention = hasTransformerFusion(model);
  }

  async predict(volume: VolumeInput, request: PredictRequest = {}): Promise<VolumeOutput> {
    const x = tf.tensor3d(volume.data, volume.shape);
    try {
      if (request.saliency) {
        const e = await explainVolume(this.model, x, { upsample: true });
        try {
          const out: VolumeOutput = { logits: e.logits as number[], probabilities: e.probabilities, saliencyMethod: e.method };
          out.saliency = (await (e.saliencyUpsampled as tf.Tensor).data()) as Float32Array;
          if (request.sliceAttention && e.sliceAttention) out.sliceAttention = Array.from(await e.sliceAttention.data());
          return out;
        } finally {
          disposeExplanation(e);
        }
      }
      if (request.sliceAttention && hasTransformerFusion(this.model)) return await this.predictWithSliceAttention(this.model, x);
      return await predictVolume(this.model, x);
    } finally {
      x.dispose();
    }
  }

  /** One forward that returns the logits and the last slice-transformer layer's attention. */
  private async predictWithSliceAttention(model: MedicalSliceTransformer, x: tf.Tensor3D): Promise<VolumeOutput> {
    const batch = tf.expandDims(x, 0);
    const out = model.forward(batch, { attention: 'last' });
    batch.dispose();
    const [logits, probs, slice] = tf.tidy(() => [tf.squeeze(out.logits, [0]), tf.softmax(tf.squeeze(out.logits, [0])), tf.reshape(sliceAttentionMap(out.sliceAttention as tf.Tensor), [-1])]);
    tf.dispose([out.logits, out.sliceAttention, out.planeAttention, ...(out.encoderAttentions ?? [])].filter((t) => t !== undefined) as tf.Tensor[]);
    const [l, p, s] = await Promise.all([logits.data(), probs.data(), slice.data()]);
    tf.dispose([logits, probs, slice]);
    return { logits: Array.from(l), probabilities: Array.from(p), sliceAttention: Array.from(s) };
  }

  async explainJson(volume: VolumeInput): Promise<ExplainJsonFields> {
    const x = tf.tensor3d(volume.data, volume.shape);
    try {
      return await explainJsonFields(this.model, x);
    } finally {
      x.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}

/** An output tensor of an ONNX run. */
type OrtOutput = { data: Float32Array; dims: number[] };

// Output names an ONNX export may give its attention maps (the exporter's snake_case first).
const SLICE_OUTPUTS = ['slice_attention', 'sliceAttention'];
const PLANE_OUTPUTS = ['plane_attention', 'planeAttention'];

function findOutput(extra: OnnxVolumePrediction['extra'], names: string[]): OrtOutput | undefined {
  const name = names.find((n) => extra[n] !== undefined);
  return name === undefined ? undefined : extra[name];
}

class OnnxPredictor implements VolumePredictor {
  /** Known after the first prediction, from the graph's outputs. */
  hasSliceAttention = false;

  constructor(
    readonly spec: PredictorSpec,
    private readonly model: OnnxVolumeModel,
  ) {}

  private noAttention(what: string, needsPlane: boolean, extra: OnnxVolumePrediction['extra']): Error {
    const wanted = needsPlane ? `${SLICE_OUTPUTS[0]} and ${PLANE_OUTPUTS[0]}` : SLICE_OUTPUTS[0];
    return new Error(
      `${what} with --runtime onnx needs the model's attention outputs (${wanted}), but '${this.spec.weights}' has only: ` +
        `${['logits', ...Object.keys(extra)].join(', ')}. Export the model with its attention outputs, or use --runtime tfjs`,
    );
  }

  async predict(volume: VolumeInput, request: PredictRequest = {}): Promise<VolumeOutput> {
    const r = await this.model.predict(volume);
    const slice = findOutput(r.extra, SLICE_OUTPUTS);
    this.hasSliceAttention = slice !== undefined;
    const out: VolumeOutput = { logits: r.logits, probabilities: r.probabilities };
    if (request.saliency) {
      const plane = findOutput(r.extra, PLANE_OUTPUTS);
      if (!slice || !plane) throw this.noAttention('--saliency', true, r.extra);
      const s = await onnxSaliency(slice, plane, volume.shape);
      if (request.sliceAttention) out.sliceAttention = s.sliceAttention;
      out.saliency = s.saliency;
      out.saliencyMethod = 'attention';
    } else if (request.sliceAttention && slice) {
      out.sliceAttention = await onnxSliceAttention(slice);
    }
    return out;
  }

  async explainJson(volume: VolumeInput): Promise<ExplainJsonFields> {
    const r = await this.model.predict(volume);
    const slice = findOutput(r.extra, SLICE_OUTPUTS);
    if (!slice) throw this.noAttention('--explain', false, r.extra);
    const out: ExplainJsonFields = { explainMethod: 'attention', sliceAttention: await onnxSliceAttention(slice), saliencyShape: [...volume.shape] };
    const plane = findOutput(r.extra, PLANE_OUTPUTS);
    if (plane) {
      const map = tf.tidy(() => tf.squeeze(planeAttentionMap(tf.tensor(plane.data, plane.dims), squareGrid(plane.dims)), [0]));
      const flat = Array.from(await map.data());
      const [d, h, w] = map.shape;
      map.dispose();
      out.planeAttention = Array.from({ length: d }, (_, i) => Array.from({ length: h }, (_, j) => flat.slice((i * h + j) * w, (i * h + j + 1) * w)));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * The slice attention `[D]` of an ONNX attention output: full maps `[1, heads, 1+D, 1+D]` or CLS
 * rows `[1, heads, D]` (renormalised and head-averaged as {@link sliceAttentionMap}), or an already
 * reduced `[1, D]` / `[D]`.
 */
export async function onnxSliceAttention(output: OrtOutput): Promise<number[]> {
  const { data, dims } = output;
  if (dims.length <= 2) return Array.from(data);
  const t = tf.tidy(() => tf.reshape(sliceAttentionMap(tf.tensor(data, dims)), [-1]));
  const out = Array.from(await t.data());
  t.dispose();
  return out;
}

/** The patch grid of CLS -> patch rows `[1, D, heads, P]`, assumed square (P = side^2). */
function squareGrid(dims: number[]): [number, number] {
  const p = dims[dims.length - 1];
  const side = Math.round(Math.sqrt(p));
  if (dims.length !== 4 || side * side !== p) {
    throw new Error(`the ONNX plane attention output has dims [${dims.join(', ')}]; expected [1, D, heads, P] with a square patch grid (P = side^2)`);
  }
  return [side, side];
}

async function onnxSaliency(slice: OrtOutput, plane: OrtOutput, shape: [number, number, number]): Promise<{ sliceAttention: number[]; saliency: Float32Array }> {
  if (slice.dims.length < 3) throw new Error(`--saliency needs the ONNX slice attention per head ([1, heads, D] or [1, heads, 1+D, 1+D]), got dims [${slice.dims.join(', ')}]`);
  const grid = squareGrid(plane.dims);
  const sw = tf.tensor(slice.data, slice.dims);
  const pw = tf.tensor(plane.data, plane.dims);
  try {
    const s = mstSaliency({ sliceAttention: sw, planeAttention: pw, gridSize: grid }, { outputShape: shape });
    const [a, b] = await Promise.all([s.sliceAttention.data(), (s.saliencyUpsampled as tf.Tensor).data()]);
    tf.dispose([s.sliceAttention, s.planeAttention, s.saliency, s.saliencyUpsampled as tf.Tensor]);
    return { sliceAttention: Array.from(a), saliency: b as Float32Array };
  } finally {
    tf.dispose([sw, pw]);
  }
}

/**
 * Loads the model a spec names, once per process or worker thread: a registry model with its
 * safetensors weights (tfjs; the backend must be set), or an `.onnx` file through
 * onnxruntime-node (`loadOnnxModel`, imported only here so tfjs users need no ONNX Runtime).
 */
export async function loadVolumePredictor(spec: PredictorSpec): Promise<VolumePredictor> {
  if (spec.runtime === 'onnx') {
    const { loadOnnxModel } = await import('../export/onnx_predict');
    return new OnnxPredictor(spec, await loadOnnxModel(spec.weights, spec.threads === undefined ? {} : { threads: spec.threads }));
  }
  if (!spec.arch) throw new Error('--runtime tfjs needs --arch');
  const model = await loadRegistryModel(spec.arch, spec.weights, { numClasses: spec.numClasses ?? 2 });
  model.eval();
  return new TfjsPredictor(spec, model);
}
