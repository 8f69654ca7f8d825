import * as tf from '@tensorflow/tfjs';
import { prepareVolume, toInputGrid, type PreparedVolume, type PreprocessingSpec } from '../data/preprocessing';
import { channelsLast } from '../data/sample';
import { combineSequences } from '../data/sequences';
import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { scoreExplanation, type ExplanationScore, type ScoreExplanationOptions } from '../explain/evaluate_explanations';
import { disposeExplanation, explainVolume, type ExplainMethod, type ExplainOptions } from '../explain/explain_volume';
import { classifierOf } from '../explain/method_passes';
import type { Affine, Volume } from '../io/volume';
import { nativeKernelsInfo } from '../kernels/native_kernels';
import { processCpuCount } from '../kernels/usable_cpus';
import { MedicalSliceTransformer, type FusedFeatures } from '../models/medical_slice_transformer';
import { loadModelBundle, type FromPretrainedOptions } from '../models/from_pretrained';
import type { VolumeClassifier } from '../models/registry';
import { ResNet3D } from '../models/resnet3d';
import type { ExplainDefaults, SavedModelJson } from '../models/save_model';
import type { SliceEncoderPool } from '../parallel/slice_encoder_pool';

/**
 * What a classifier takes: a file path (NIfTI, DICOM file or folder, npy; read in the file's own
 * voxel order and prepared as the model's bundle says), a `Volume` (prepared the same way; with
 * `channels` for a multi-sequence model), or a tensor `[D, H, W]` (`[D, H, W, C]`) taken as
 * already prepared (the network's input). A model of several sequences (its bundle's
 * `preprocessing.inputs`) also takes the scans of one case: paths or volumes in the order of its
 * sequence names (`['pre.nii.gz', 'post.nii.gz']`) or by name (`{ pre, post }`); they are
 * registered onto the first one's grid and made into the model's channels (a subtraction, say).
 */
export type ClassifierInput = string | Volume | tf.Tensor | SequenceScans;

/** The scans of one case of a multi-sequence model: in the order of its sequence names, or by name. */
export type SequenceScans = readonly (string | Volume)[] | Readonly<Record<string, string | Volume>>;

function isVolume(x: unknown): x is Volume {
  const v = x as Partial<Volume> | null;
  return !!v && v.data instanceof Float32Array && Array.isArray(v.shape) && Array.isArray(v.affine);
}

/** What {@link Classifier.predict} resolves to. */
export interface ClassifierPrediction {
  /** The predicted class's name. */
  label: string;
  /** The predicted class's index (argmax of the probabilities). */
  classIndex: number;
  classNames: string[];
  /** Softmax of the logits. */
  probabilities: number[];
  logits: number[];
  /** How much each slice of the network's input counts `[D]` (an MST whose fusion weighs slices). */
  sliceAttention?: number[];
}

/** A saliency volume on the input's own voxel grid, with its affine (voxel -> RAS+ mm). */
export interface SaliencyVolume {
  data: Float32Array;
  shape: [number, number, number];
  affine: Affine;
}

/** What {@link Classifier.explain} resolves to. */
export interface ClassifierExplanation extends ClassifierPrediction {
  /** The method that made the map. */
  method: string;
  /** The class a class-specific method explained. */
  targetClass?: number;
  /** The saliency on the input's grid (the file's voxel order and affine for a path). */
  saliency: SaliencyVolume;
  /** The saliency on the network's input grid `[D, H, W]`, before it was mapped back. */
  saliencyPrepared: { data: Float32Array; shape: [number, number, number] };
  /** The map's faithfulness (and with a mask its localisation) on the network's input, when asked. */
  metrics?: Omit<ExplanationScore, 'caseIndex' | 'seconds'>;
}

/** Options of {@link loadClassifier}. */
export interface LoadClassifierOptions extends FromPretrainedOptions {
  /**
   * The preprocessing of a model whose file carries none (the authors' published checkpoints):
   * a preset of the paper's datasets, or a spec. A bundle's own preprocessing wins unless this is given.
   */
  preprocessing?: PreprocessingPreset | PreprocessingSpec;
  /** Class names (default the bundle's, else '0', '1', ...). */
  classNames?: string[];
  /** See {@link ClassifierOptions.workers}. */
  workers?: number;
}

/** Options of the {@link Classifier} constructor. */
export interface ClassifierOptions {
  /**
   * Worker threads that share the slices of each MST prediction (Node, on the `wasm` backend):
   * started by the first {@link Classifier.predict}, reused by later calls and stopped by
   * {@link Classifier.dispose} (idle, they do not keep the process alive). `1` computes on the
   * calling thread. By default: none where the native kernels already split every product over
   * all cores (`nativeKernelsInfo().threads > 1`: the pool's start-up costs more than it saves on
   * one volume; name a count for throughput on many), else one per core. A pool that cannot start (running from
   * TypeScript sources, an encoder no registry can rebuild) falls back to the calling thread; an
   * explicit count > 1 makes that an error. Browsers and other backends use the calling thread.
   */
  workers?: number;
}

/**
 * Which volume of a DICOM folder a path input stands for, as `readVolume`'s options choose it
 * (`mst-ts predict --series/--phase`). They apply to every path of the input (each sequence of a
 * multi-sequence model alike): for scans from different phases of one series, read each with
 * `readVolume(path, { phase })` and pass the volumes. Other formats ignore them.
 */
export interface ClassifierReadOptions {
  /** The DICOM series (SeriesInstanceUID); default the folder's series with the most images. */
  series?: string;
  /**
   * The phase of a DICOM series that repeats its positions (dynamic contrast, cardiac phases):
   * 0-based in ascending order of the field that separates them (`listDicomSeries` lists them), or
   * `'first'`. Required where the series holds several: they are never merged into one volume.
   */
  phase?: number | 'first';
}

/**
 * Options of {@link Classifier.explain}: which DICOM series and phase a path stands for, those of
 * `explainVolume` (the bundle's defaults fill the rest), and `metrics` to score the map's
 * faithfulness (deletion, insertion, ROAD) on the network's input; a `metrics.mask` lies on that
 * input's grid.
 */
export type ClassifierExplainOptions = Omit<ExplainOptions, 'upsample'> & ClassifierReadOptions & { metrics?: boolean | ScoreExplanationOptions };

/**
 * A model with everything needed to run it on a raw scan: its bundle's preprocessing, class names
 * and explanation defaults. Made by {@link loadClassifier}.
 */
export class Classifier {
  private pool: Promise<SliceEncoderPool | null> | null = null;

  constructor(
    /** The network (an MST or a 3D ResNet), in evaluation mode. */
    readonly model: VolumeClassifier,
    /** The bundle it came from (synthesised for checkpoints without one). */
    readonly bundle: SavedModelJson,
    private readonly options: ClassifierOptions = {},
  ) {
    const w = options.workers;
    if (w !== undefined && !(Number.isInteger(w) && w > 0)) throw new Error(`Classifier: workers must be a positive integer, got ${w}`);
  }

  /**
   * Worker threads of the slice-encoder pool now running (0 before the first MST prediction, and
   * where predictions run on the calling thread).
   *
   * @example
   * const clf = await loadClassifier('runs/demo/model.safetensors');
   * await clf.predict('scan.nii.gz');
   * await clf.workerThreads(); // 2 on two cores (Node, wasm, built package)
   */
  async workerThreads(): Promise<number> {
    return (await this.pool)?.size ?? 0;
  }

  /** Class names, index = class. */
  get classNames(): string[] {
    return this.bundle.classNames;
  }

  /** The preprocessing applied to paths and volumes, or null when inputs must come prepared. */
  get preprocessing(): PreprocessingSpec | null {
    return this.bundle.preprocessing;
  }

  /**
   * The network's input for `input` and how to map maps back: a path is read in its own voxel
   * order (`canonical: false`; of a DICOM folder, the series and phase `read` names) and prepared
   * by the bundle's preprocessing, or only brought to the canonical orientation when the bundle
   * has none.
   *
   * @example
   * const { volume, prepared } = await clf.prepare('dce/', { phase: 1 });
   * volume.dispose();
   */
  async prepare(input: ClassifierInput, read: ClassifierReadOptions = {}): Promise<{ volume: tf.Tensor; prepared: PreparedVolume | null }> {
    if (input instanceof tf.Tensor) {
      if ((input.rank !== 3 && input.rank !== 4) || input.dtype !== 'float32') {
        throw new Error(`Classifier: expected a prepared float32 volume [D, H, W] or [D, H, W, C], got ${input.dtype} [${input.shape.join(', ')}]`);
      }
      return { volume: tf.clone(input), prepared: null };
    }
    const spec = this.preprocessing ?? { orientation: 'canonical' as const, steps: [], channels: 1 };
    const { series, phase } = read;
    const readOptions = { canonical: false, ...(series !== undefined ? { seriesInstanceUid: series } : {}), ...(phase !== undefined ? { phase } : {}) };
    const readInput = async (x: string | Volume): Promise<Volume> => {
      if (typeof x === 'string') {
        const { readVolume } = await import('../io/read_volume');
        return readVolume(x, readOptions);
      }
      if (isVolume(x)) return x;
      throw new Error('Classifier: expected a file path, a Volume ({ data, shape, spacing, affine, ... }) or a tf.Tensor [D, H, W]');
    };
    let raw: Volume;
    if (typeof input === 'string' || isVolume(input)) raw = await readInput(input);
    else if (input && typeof input === 'object') {
      const inputs = spec.inputs;
      if (!inputs) throw new Error('Classifier: this model takes one scan (its bundle names no sequences); give a path or a Volume');
      const scans: Volume[] | Record<string, Volume> = Array.isArray(input) ? await Promise.all(input.map(readInput)) : {};
      if (!Array.isArray(input)) for (const [name, x] of Object.entries(input as Record<string, string | Volume>)) (scans as Record<string, Volume>)[name] = await readInput(x);
      raw = combineSequences(scans, inputs);
    } else {
      throw new Error('Classifier: expected a file path, a Volume ({ data, shape, spacing, affine, ... }), the scans of a multi-sequence model, or a tf.Tensor [D, H, W]');
    }
    const prepared = prepareVolume(raw, spec);
    const s = prepared.sample;
    const c = s.channels ?? 1;
    const volume = c > 1 ? tf.tensor4d(channelsLast(s.data, c), [...s.shape, c]) : tf.tensor3d(s.data, s.shape);
    return { volume, prepared };
  }

  /**
   * Classifies one input (a path, a `Volume` or a prepared tensor); `read` chooses the series and
   * phase of a DICOM folder.
   *
   * @example
   * const clf = await loadClassifier('runs/demo/model.safetensors');
   * const { label, probabilities } = await clf.predict('scan.nii.gz');
   * await clf.predict('breast-dce/', { phase: 1 }); // the second phase of a dynamic series
   */
  async predict(input: ClassifierInput, read: ClassifierReadOptions = {}): Promise<ClassifierPrediction> {
    // The workers start while the input is read and prepared.
    const starting = this.model instanceof MedicalSliceTransformer ? this.slicePool(this.model) : null;
    starting?.catch(() => undefined);
    const { volume } = await this.prepare(input, read);
    try {
      const pool = await starting;
      const channels = volume.rank === 4 ? volume.shape[3] : 1;
      // Other channel counts go to the model, whose error names them.
      if (pool && (channels === 1 || channels === (this.model as MedicalSliceTransformer).encoder.inChannels)) {
        return await this.predictOnPool(this.model as MedicalSliceTransformer, pool, volume);
      }
      if (this.model instanceof MedicalSliceTransformer && this.model.capabilities.sliceAttention) return await this.predictWithSliceWeights(this.model, volume);
      const [logits, probs] = tf.tidy(() => {
        const l = tf.squeeze(this.logitsOf(tf.expandDims(volume, 0)), [0]);
        return [l, tf.softmax(l)];
      });
      const [l, p] = await Promise.all([logits.data(), probs.data()]);
      tf.dispose([logits, probs]);
      return this.prediction(Array.from(l), Array.from(p));
    } finally {
      volume.dispose();
    }
  }

  /**
   * Classifies and explains one input: the bundle's explanation defaults (else the model's default
   * method), the saliency upsampled to the network's input and mapped back onto the input's own
   * grid and affine, so written as NIfTI it overlays the original file in a viewer.
   *
   * @example
   * const { saliency } = await clf.explain('scan.nii.gz'); // saliency.shape equals the file's
   * await clf.explain('breast-dce/', { phase: 1, method: 'rollout' }); // a phase of a DICOM series
   */
  async explain(input: ClassifierInput, options: ClassifierExplainOptions = {}): Promise<ClassifierExplanation> {
    const { metrics: scoring, series, phase, ...explainOptions } = options;
    const { volume, prepared } = await this.prepare(input, { series, phase });
    const defaults: ExplainDefaults = this.bundle.explain ?? {};
    // The bundle's layer and first-patch defaults belong to its default method only.
    const ownMethod = explainOptions.method === undefined || explainOptions.method === defaults.method;
    const merged = {
      ...(defaults.method ? { method: defaults.method as ExplainMethod } : {}),
      ...(ownMethod && defaults.layer ? { layer: defaults.layer } : {}),
      ...(ownMethod && defaults.zeroFirstPatch !== undefined ? { zeroFirstPatch: defaults.zeroFirstPatch } : {}),
      ...explainOptions,
      upsample: true,
    } as ExplainOptions;
    try {
      const e = await explainVolume(this.model, volume, merged);
      try {
        const up = (await (e.saliencyUpsampled as tf.Tensor).data()) as Float32Array;
        const sliceAttention = e.sliceAttention ? Array.from(await e.sliceAttention.data()) : undefined;
        const shape = volume.shape.slice(0, 3) as [number, number, number];
        const saliency: SaliencyVolume = prepared
          ? { data: toInputGrid(up, prepared), shape: prepared.inputShape, affine: prepared.inputAffine }
          : { data: up, shape, affine: identityAffine() };
        const base = this.prediction(e.logits ?? e.probabilities.map((p) => Math.log(p)), e.probabilities);
        const metrics = scoring ? await scoreExplanation(classifierOf(this.model), volume, e, scoring === true ? {} : scoring) : undefined;
        return { ...base, ...(sliceAttention ? { sliceAttention } : {}), method: e.method, ...(e.targetClass !== undefined ? { targetClass: e.targetClass } : {}), saliency, saliencyPrepared: { data: up, shape }, ...(metrics ? { metrics } : {}) };
      } finally {
        disposeExplanation(e);
      }
    } finally {
      volume.dispose();
    }
  }

  /** Frees the model and stops the worker threads. */
  dispose(): void {
    const pool = this.pool;
    this.pool = Promise.resolve(null);
    void pool?.then((p) => p?.dispose(), () => undefined);
    this.model.dispose();
  }

  /** The slice-encoder pool, started on first use (null: compute on the calling thread). */
  private slicePool(model: MedicalSliceTransformer): Promise<SliceEncoderPool | null> {
    if (this.pool) return this.pool;
    const explicit = this.options.workers;
    const isNode = typeof process !== 'undefined' && !!process.versions?.node;
    const nativeThreads = nativeKernelsInfo()?.threads ?? 1;
    if (explicit === 1 || !isNode || tf.getBackend() !== 'wasm' || (explicit === undefined && nativeThreads > 1)) {
      this.pool = Promise.resolve(null);
      return this.pool;
    }
    this.pool = (async () => {
      const { SliceEncoderPool } = await import('../parallel/slice_encoder_pool');
      const workers = explicit ?? processCpuCount();
      if (workers <= 1) return null;
      try {
        return await SliceEncoderPool.create(model.encoder, { workers, unrefWhenIdle: true });
      } catch (e) {
        if (explicit !== undefined) throw new Error(`Classifier: the slice-encoder pool of ${workers} workers did not start: ${(e as Error).message}`);
        return null;
      }
    })();
    return this.pool;
  }

  private async predictOnPool(model: MedicalSliceTransformer, pool: SliceEncoderPool, volume: tf.Tensor): Promise<ClassifierPrediction> {
    const [D, H, W] = volume.shape as number[];
    const features = await pool.encode((await volume.data()) as Float32Array, [D, H, W, volume.rank === 4 ? (volume.shape[3] as number) : 1]);
    const x = tf.tensor2d(features, [D, pool.featureSize]);
    let out: FusedFeatures;
    try {
      out = model.fuseFeatures(x, 1, D, { sliceWeights: !!model.capabilities.sliceAttention });
    } finally {
      x.dispose();
    }
    return this.fusedPrediction(out);
  }

  private logitsOf(batch: tf.Tensor): tf.Tensor {
    const out = this.model.forward(batch);
    return out instanceof tf.Tensor ? out : out.logits;
  }

  private async predictWithSliceWeights(model: MedicalSliceTransformer, volume: tf.Tensor): Promise<ClassifierPrediction> {
    const batch = tf.expandDims(volume, 0);
    const out = model.forward(batch, { sliceWeights: true });
    batch.dispose();
    return this.fusedPrediction(out);
  }

  /** The prediction of one case's fused output (with its slice weights where the fusion gives them); frees `out`. */
  private async fusedPrediction(out: FusedFeatures): Promise<ClassifierPrediction> {
    const [logits, probs] = tf.tidy(() => [tf.squeeze(out.logits, [0]), tf.softmax(tf.squeeze(out.logits, [0]))]);
    try {
      const [l, p, s] = await Promise.all([logits.data(), probs.data(), out.sliceWeights?.data()]);
      return { ...this.prediction(Array.from(l), Array.from(p)), ...(s ? { sliceAttention: Array.from(s) } : {}) };
    } finally {
      tf.dispose([logits, probs, out.logits, ...(out.sliceWeights ? [out.sliceWeights] : []), ...(out.attentions ?? [])]);
    }
  }

  private prediction(logits: number[], probabilities: number[]): ClassifierPrediction {
    const classIndex = probabilities.indexOf(Math.max(...probabilities));
    const classNames = this.classNames;
    return { label: classNames[classIndex] ?? String(classIndex), classIndex, classNames, probabilities, logits };
  }
}

function identityAffine(): Affine {
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => (r === c ? 1 : 0)));
}

/**
 * Loads a model ready for raw scans in one call: a bundle (`saveModel`, `mst-ts train`) with its
 * preprocessing, class names and explanation defaults, or any checkpoint `fromPretrained` reads
 * (the authors' Lightning `.ckpt`, MONAI, DINOv2 + options) with `preprocessing` (a preset of the
 * paper's datasets for their published checkpoints) where the file carries none. The model is a
 * volume classifier (MST or 3D ResNet) in evaluation mode.
 *
 * @example
 * const clf = await loadClassifier('runs/demo/model.safetensors');
 * const { label, probabilities, sliceAttention } = await clf.predict('scan.nii.gz');
 * const { saliency } = await clf.explain('scan.nii.gz'); // on the scan's own grid, with its affine
 * clf.dispose();
 */
export async function loadClassifier(pathOrBytes: string | Uint8Array, options: LoadClassifierOptions = {}): Promise<Classifier> {
  const { preprocessing, classNames, workers, ...fromOptions } = options;
  const { model, bundle } = await loadModelBundle(pathOrBytes, fromOptions);
  if (!(model instanceof MedicalSliceTransformer || model instanceof ResNet3D)) {
    model.dispose();
    throw new Error(`loadClassifier: the file holds a ${model.constructor.name}, not a volume classifier (an MST or a 3D ResNet); build one with fromPretrained(file, { arch: 'mst', numClasses })`);
  }
  model.eval();
  const spec = preprocessing === undefined ? bundle.preprocessing : typeof preprocessing === 'string' ? PREPROCESSING_PRESETS[preprocessing] : preprocessing;
  if (preprocessing !== undefined && !spec) {
    model.dispose();
    throw new Error(`loadClassifier: unknown preprocessing preset '${String(preprocessing)}'; expected one of ${Object.keys(PREPROCESSING_PRESETS).join(', ')} or a spec`);
  }
  const numClasses = model.numClasses;
  const names = classNames ?? (bundle.classNames.length === numClasses ? bundle.classNames : Array.from({ length: numClasses }, (_, i) => String(i)));
  if (names.length !== numClasses) {
    model.dispose();
    throw new Error(`loadClassifier: ${names.length} class names for a model of ${numClasses} classes`);
  }
  return new Classifier(model, { ...bundle, preprocessing: spec ?? null, classNames: names }, { workers });
}
