import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../classifier/classifier';
import { prepareVolume, toInputGrid, type PreparedVolume, type PreprocessingSpec } from '../data/preprocessing';
import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { explainJsonFields, type ExplainJsonFields } from '../explain/explain_json';
import { trilinearUpsample } from '../explain/trilinear_upsample';
import type { OnnxVolumeModel, OnnxVolumePrediction } from '../export/onnx_predict';
import { fileSource } from '../io/byte_source';
import type { Volume } from '../io/volume';
import { channelsLast } from '../data/sample';
import type { SequenceInputs } from '../data/sequences';
import { parseSavedModelJson } from '../models/from_pretrained';
import { configPathFor } from '../models/save_model';
import { loadWeights, weightsError } from './flag_files';

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
  /** `.safetensors`/`.pth`/`.ckpt` (tfjs) or `.onnx` (onnx) file. */
  weights: string;
  /** Output classes of a tfjs model given by `arch` (default 2). */
  numClasses?: number;
  /** ONNX Runtime intra-op threads (default: its own choice). */
  threads?: number;
  /** The paper's preprocessing for a model whose file carries none (the authors' checkpoints). */
  preset?: PreprocessingPreset;
  /**
   * tfjs MSTs: worker threads that share each volume's slices (`'auto'`: one per core; default 1,
   * the calling thread, as a cohort's workers each run one model).
   */
  sliceWorkers?: number | 'auto';
}

/** What to compute besides the prediction. */
export interface PredictRequest {
  /** The slice attention `[D]` (MST; from the ONNX graph's attention outputs). */
  sliceAttention?: boolean;
  /** The saliency volume on the input's grid (the model's explanation method). */
  saliency?: boolean;
}

/** A prediction and the explanation asked for. */
export interface VolumeOutput {
  logits: number[];
  probabilities: number[];
  /** Class names of the model (its bundle's). */
  classNames: string[];
  /** `[D]` of the network's input, summing to 1. */
  sliceAttention?: number[];
  /** The input's shape flattened, on its own voxel grid (write it with the input's affine). */
  saliency?: Float32Array;
  /** The method that made {@link saliency}. */
  saliencyMethod?: string;
}

/** A loaded model; {@link dispose} frees it. */
export interface VolumePredictor {
  readonly spec: PredictorSpec;
  /** The architecture the model's bundle names (the registry name `mst-ts train` used), or null. */
  readonly arch: string | null;
  /** Whether {@link predict} can give the slice attention. */
  readonly hasSliceAttention: boolean;
  /** The sequences a multi-sequence model takes and how it makes its channels, or null for one scan. */
  readonly inputs: SequenceInputs | null;
  /** One volume as read in its own voxel order (`readVolume(path, { canonical: false })`), prepared as the bundle says. */
  predict(volume: Volume, request?: PredictRequest): Promise<VolumeOutput>;
  /** The fields `mst-ts predict --json --explain` adds (the single-volume JSON). */
  explainJson(volume: Volume): Promise<ExplainJsonFields>;
  dispose(): Promise<void>;
}

class TfjsPredictor implements VolumePredictor {
  readonly hasSliceAttention: boolean;
  readonly arch: string;

  constructor(
    readonly spec: PredictorSpec,
    private readonly clf: Classifier,
  ) {
    this.hasSliceAttention = !!clf.model.capabilities.sliceAttention;
    this.arch = clf.bundle.arch;
  }

  get inputs(): SequenceInputs | null {
    return this.clf.preprocessing?.inputs ?? null;
  }

  async predict(volume: Volume, request: PredictRequest = {}): Promise<VolumeOutput> {
    if (request.saliency) {
      const e = await this.clf.explain(volume);
      const out: VolumeOutput = { logits: e.logits, probabilities: e.probabilities, classNames: e.classNames, saliency: e.saliency.data, saliencyMethod: e.method };
      if (request.sliceAttention && e.sliceAttention) out.sliceAttention = e.sliceAttention;
      return out;
    }
    const p = await this.clf.predict(volume);
    return { logits: p.logits, probabilities: p.probabilities, classNames: p.classNames, ...(request.sliceAttention && p.sliceAttention ? { sliceAttention: p.sliceAttention } : {}) };
  }

  async explainJson(volume: Volume): Promise<ExplainJsonFields> {
    const { volume: x } = await this.clf.prepare(volume);
    try {
      return await explainJsonFields(this.clf.model, x);
    } finally {
      x.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.clf.dispose();
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
    private readonly preprocessing: PreprocessingSpec | null,
    private readonly classNames: string[] | null,
    readonly arch: string | null,
  ) {}

  private missing(what: string, names: string[], extra: OnnxVolumePrediction['extra']): Error {
    return new Error(
      `${what} with --runtime onnx needs the model's ${names.join(' and ')} output${names.length > 1 ? 's' : ''}, but '${this.spec.weights}' has only: ` +
        `${['logits', ...Object.keys(extra)].join(', ')}. Export it with attention outputs (exportOnnx(path, { attention: true }); ` +
        `plane attention and saliency need a DINOv2 encoder), or use --runtime tfjs`,
    );
  }

  get inputs(): SequenceInputs | null {
    return this.preprocessing?.inputs ?? null;
  }

  /** The volume as the bundle prepares it, checked against the slice size the graph fixes. */
  private prepare(volume: Volume): PreparedVolume {
    const prepared = prepareVolume(volume, this.preprocessing ?? { orientation: 'canonical', steps: [], channels: 1 });
    const [, , h, w] = this.model.inputShape;
    const [, H, W] = prepared.sample.shape;
    if ((typeof h === 'number' && h !== H) || (typeof w === 'number' && w !== W)) {
      throw new Error(
        `--weights ${this.spec.weights}: the graph expects slices of ${h}x${w}, the prepared scan has ${H}x${W}` +
          (this.preprocessing ? '' : ' (no bundle JSON beside the graph prepares it: pass --preset, or a scan of that size)'),
      );
    }
    return prepared;
  }

  /** The network's input as the ONNX model takes it: `[D, H, W]`, or `[D, H, W, C]` channels last. */
  private input(prepared: PreparedVolume): { data: Float32Array; shape: [number, number, number] | [number, number, number, number] } {
    const s = prepared.sample;
    const c = s.channels ?? 1;
    return c > 1 ? { data: channelsLast(s.data, c), shape: [...s.shape, c] } : { data: s.data, shape: s.shape };
  }

  private names(n: number): string[] {
    return this.classNames && this.classNames.length === n ? this.classNames : Array.from({ length: n }, (_, i) => String(i));
  }

  async predict(volume: Volume, request: PredictRequest = {}): Promise<VolumeOutput> {
    const prepared = this.prepare(volume);
    const s = prepared.sample;
    const r = await this.model.predict(this.input(prepared));
    const slice = r.extra[SLICE_OUTPUT];
    this.hasSliceAttention = slice !== undefined;
    const out: VolumeOutput = { logits: r.logits, probabilities: r.probabilities, classNames: this.names(r.probabilities.length) };
    if (request.sliceAttention && slice) out.sliceAttention = Array.from(slice.data);
    if (request.saliency) {
      const low = r.extra[SALIENCY_OUTPUT];
      if (!low) throw this.missing('--saliency', [SALIENCY_OUTPUT], r.extra);
      const shape = perSliceMap(SALIENCY_OUTPUT, low, s.shape[0]);
      // Upsampled to the network's input as explainVolume does (F.interpolate trilinear, align_corners false), then mapped back.
      const up = tf.tidy(() => trilinearUpsample(tf.tensor3d(low.data, shape as [number, number, number]), { size: s.shape }));
      const data = (await up.data()) as Float32Array;
      up.dispose();
      out.saliency = toInputGrid(data, prepared);
      out.saliencyMethod = 'attention';
    }
    return out;
  }

  async explainJson(volume: Volume): Promise<ExplainJsonFields> {
    const prepared = this.prepare(volume);
    const s = prepared.sample;
    const r = await this.model.predict(this.input(prepared));
    const slice = r.extra[SLICE_OUTPUT];
    if (!slice) throw this.missing('--explain', [SLICE_OUTPUT], r.extra);
    const out: ExplainJsonFields = { explainMethod: 'attention', sliceAttention: Array.from(slice.data), saliencyShape: [...s.shape] };
    const plane = r.extra[PLANE_OUTPUT];
    if (plane) out.planeAttention = nest3(plane.data, perSliceMap(PLANE_OUTPUT, plane, s.shape[0]));
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** The bundle JSON `mst-ts convert` writes beside an `.onnx` file, or null. */
async function onnxBundle(path: string): Promise<{ preprocessing: PreprocessingSpec | null; classNames: string[]; arch: string } | null> {
  const fs = await import('node:fs/promises');
  const side = configPathFor(path.replace(/\.onnx$/i, '.safetensors'));
  const text = await fs.readFile(side, 'utf8').catch(() => null);
  if (text === null) return null;
  // The graph runs by itself: its encoder and fusion need not be registered in this process.
  const bundle = parseSavedModelJson(text, side, { components: 'any' });
  return { preprocessing: bundle.preprocessing, classNames: bundle.classNames, arch: bundle.arch };
}

/**
 * Loads the model a spec names, once per process or worker thread: a bundle or any checkpoint
 * `fromPretrained` reads (tfjs; the backend must be set; `arch` names a registry architecture for
 * a bare state dict), or an `.onnx` file through onnxruntime-node (`loadOnnxModel`, imported only
 * here so tfjs users need no ONNX Runtime) with the bundle JSON `mst-ts convert` writes beside it.
 */
export async function loadVolumePredictor(spec: PredictorSpec): Promise<VolumePredictor> {
  if (spec.runtime === 'onnx') {
    const { importOnnxRuntime, loadOnnxModel } = await import('../export/onnx_predict');
    await importOnnxRuntime();
    let model: OnnxVolumeModel;
    try {
      // ONNX Runtime's own message for a folder or a missing file says neither plainly.
      await checkReadable(spec.weights);
      model = await loadOnnxModel(spec.weights, spec.threads === undefined ? {} : { threads: spec.threads });
    } catch (e) {
      throw weightsError(spec.weights, e);
    }
    const bundle = await onnxBundle(spec.weights);
    const preset = spec.preset ? PREPROCESSING_PRESETS[spec.preset] : undefined;
    return new OnnxPredictor(spec, model, preset ?? bundle?.preprocessing ?? null, bundle?.classNames ?? null, bundle?.arch ?? spec.arch ?? null);
  }
  // A cohort's worker threads each run one model: its slices stay on that thread unless asked.
  const workers = spec.sliceWorkers === 'auto' ? undefined : (spec.sliceWorkers ?? 1);
  return new TfjsPredictor(spec, await loadWeights({ ...spec, workers }));
}

/** Opens a file and reads nothing: an error for a missing path or a folder, as the readers word it. */
async function checkReadable(path: string): Promise<void> {
  await (await fileSource(path)).close();
}
