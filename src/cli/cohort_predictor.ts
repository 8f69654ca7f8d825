/**
 * One loaded model behind one interface, for `mst-ts predict` (one volume or a cohort): a tfjs
 * registry model, or an exported ONNX graph run by onnxruntime-node.
 */
import * as tf from '@tensorflow/tfjs';
import { disposeExplanation, explainVolume } from '../explain/explain_volume';
import { explainJsonFields, type ExplainJsonFields } from '../explain/explain_json';
import { trilinearUpsample } from '../explain/trilinear_upsample';
import type { OnnxVolumeModel, OnnxVolumePrediction } from '../export/onnx_predict';
import { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { fromPretrained } from '../models/from_pretrained';
import { loadRegistryModel, predictVolume, type VolumeClassifier } from '../models/registry';
import { ResNet3D } from '../models/resnet3d';

/** The runtimes `--runtime` accepts. */
export const RUNTIMES = ['tfjs', 'onnx'] as const;
/** A model runtime: tfjs (any backend) or ONNX Runtime. */
export type Runtime = (typeof RUNTIMES)[number];

/** What to load: everything a worker thread needs to build its own copy (plain data). */
export interface PredictorSpec {
  runtime: Runtime;
  /**
   * Registry architecture (tfjs; without it the weights must carry their config, as `saveModel`
   * and `mst-ts train` write them, or be a checkpoint whose architecture `fromPretrained` infers;
   * a label only for onnx).
   */
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

function hasSliceAttention(model: VolumeClassifier): model is MedicalSliceTransformer {
  return model instanceof MedicalSliceTransformer && model.capabilities.sliceAttention;
}

class TfjsPredictor implements VolumePredictor {
  readonly hasSliceAttention: boolean;

  constructor(
    readonly spec: PredictorSpec,
    private readonly model: VolumeClassifier,
  ) {
    this.hasSliceAttention = hasSliceAttention(model);
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
      if (request.sliceAttention && hasSliceAttention(this.model)) return await this.predictWithSliceAttention(this.model, x);
      return await predictVolume(this.model, x);
    } finally {
      x.dispose();
    }
  }

  /** One forward that returns the logits and the last slice-transformer layer's attention. */
  private async predictWithSliceAttention(model: MedicalSliceTransformer, x: tf.Tensor3D): Promise<VolumeOutput> {
    const batch = tf.expandDims(x, 0);
    const out = model.forward(batch, { sliceWeights: true });
    batch.dispose();
    const [logits, probs, slice] = tf.tidy(() => [tf.squeeze(out.logits, [0]), tf.softmax(tf.squeeze(out.logits, [0])), tf.reshape(out.sliceWeights as tf.Tensor, [-1])]);
    tf.dispose([out.logits, out.sliceWeights, out.sliceAttention, out.planeAttention, ...(out.encoderAttentions ?? [])].filter((t) => t !== undefined) as tf.Tensor[]);
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

// The attention outputs of an export with `attention: true` (see `OnnxExportOptions.attention`):
// slice_attention [1, D] (already head-averaged), plane_attention and saliency [1, D, rows, cols].
const SLICE_OUTPUT = 'slice_attention';
const PLANE_OUTPUT = 'plane_attention';
const SALIENCY_OUTPUT = 'saliency';

function nest3(data: ArrayLike<number>, [d, h, w]: number[]): number[][][] {
  const flat = Array.from(data);
  return Array.from({ length: d }, (_, i) => Array.from({ length: h }, (_, j) => flat.slice((i * h + j) * w, (i * h + j + 1) * w)));
}

/** A `[1, D, h, w]` output as `[D, h, w]`, checked against the volume's slice count. */
function perSliceMap(name: string, out: OrtOutput, depth: number): number[] {
  if (out.dims.length !== 4 || out.dims[0] !== 1 || out.dims[1] !== depth) {
    throw new Error(`the ONNX output ${name} has dims [${out.dims.join(', ')}]; expected [1, ${depth}, rows, cols]`);
  }
  return out.dims.slice(1);
}

class OnnxPredictor implements VolumePredictor {
  /** Known after the first prediction, from the graph's outputs. */
  hasSliceAttention = false;

  constructor(
    readonly spec: PredictorSpec,
    private readonly model: OnnxVolumeModel,
  ) {}

  private missing(what: string, names: string[], extra: OnnxVolumePrediction['extra']): Error {
    return new Error(
      `${what} with --runtime onnx needs the model's ${names.join(' and ')} output${names.length > 1 ? 's' : ''}, but '${this.spec.weights}' has only: ` +
        `${['logits', ...Object.keys(extra)].join(', ')}. Export it with attention outputs (exportOnnx(path, { attention: true }); ` +
        `plane attention and saliency need a DINOv2 encoder), or use --runtime tfjs`,
    );
  }

  async predict(volume: VolumeInput, request: PredictRequest = {}): Promise<VolumeOutput> {
    const r = await this.model.predict(volume);
    const slice = r.extra[SLICE_OUTPUT];
    this.hasSliceAttention = slice !== undefined;
    const out: VolumeOutput = { logits: r.logits, probabilities: r.probabilities };
    if (request.sliceAttention && slice) out.sliceAttention = Array.from(slice.data);
    if (request.saliency) {
      const low = r.extra[SALIENCY_OUTPUT];
      if (!low) throw this.missing('--saliency', [SALIENCY_OUTPUT], r.extra);
      const shape = perSliceMap(SALIENCY_OUTPUT, low, volume.shape[0]);
      // Upsampled to the volume as explainVolume does (F.interpolate trilinear, align_corners false).
      const up = tf.tidy(() => trilinearUpsample(tf.tensor3d(low.data, shape as [number, number, number]), { size: volume.shape }));
      out.saliency = (await up.data()) as Float32Array;
      up.dispose();
      out.saliencyMethod = 'attention';
    }
    return out;
  }

  async explainJson(volume: VolumeInput): Promise<ExplainJsonFields> {
    const r = await this.model.predict(volume);
    const slice = r.extra[SLICE_OUTPUT];
    if (!slice) throw this.missing('--explain', [SLICE_OUTPUT], r.extra);
    const out: ExplainJsonFields = { explainMethod: 'attention', sliceAttention: Array.from(slice.data), saliencyShape: [...volume.shape] };
    const plane = r.extra[PLANE_OUTPUT];
    if (plane) out.planeAttention = nest3(plane.data, perSliceMap(PLANE_OUTPUT, plane, volume.shape[0]));
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * A model saved with its config (`saveModel`'s JSON beside the weights, as `mst-ts train` writes
 * it, or in the file's metadata), or a checkpoint whose architecture `fromPretrained` infers.
 */
async function loadSavedClassifier(weights: string): Promise<VolumeClassifier> {
  const model = await fromPretrained(weights);
  if (model instanceof MedicalSliceTransformer || model instanceof ResNet3D) return model;
  model.dispose();
  throw new Error(`${weights}: holds a ${model.constructor.name}, not a volume classifier (an MST or a 3D ResNet); name the architecture with --arch`);
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
  const model = spec.arch ? await loadRegistryModel(spec.arch, spec.weights, { numClasses: spec.numClasses ?? 2 }) : await loadSavedClassifier(spec.weights);
  model.eval();
  return new TfjsPredictor(spec, model);
}
