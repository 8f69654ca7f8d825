/**
 * What the page computes, in one place that the Web Worker and the Node end-to-end test both run:
 * volume and model from picked files, the preprocessing, and the explanation. It imports the
 * library's modules from the repository's src (not its index), so the bundle holds what the page
 * uses and nothing of the Node-only parts (training, worker_threads pools).
 */
import * as tf from '@tensorflow/tfjs';
import { ClampRescale, ZNormalize } from '../../../src/data/transforms/intensity';
import { disposeExplanation, explainVolume, type ExplainableModel, type ExplainOptions } from '../../../src/explain/explain_volume';
import type { ExplainMethod } from '../../../src/explain/methods';
import { trilinearUpsample } from '../../../src/explain/trilinear_upsample';
import { Classifier } from '../../../src/classifier/classifier';
import { toInputGrid, type PreparedVolume } from '../../../src/data/preprocessing';
import { loadBundleFromFiles } from '../../../src/models/browser_storage';
import type { NamedBytesFile } from '../../../src/io/volume_files';
import type { Volume } from '../../../src/io/volume';
import { readVolumeFromFiles, type PickedFile } from '../../../src/io/volume_files';
import { DinoVisionTransformer } from '../../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../../src/models/medical_slice_transformer';
import type { ConfigurableModel } from '../../../src/models/model_config';
import { ResNet3D } from '../../../src/models/resnet3d';

/** Intensity preprocessing before the model. */
export type IntensityPreset = 'zscore' | 'ct-zscore' | 'none';

/**
 * How a volume becomes the model's input when the model's bundle carries no preprocessing (a
 * checkpoint from elsewhere); a bundle's own preprocessing always wins.
 */
export interface PreprocessOptions {
  /**
   * 'zscore': clip to the 0.5th-99.5th percentiles, subtract the mean, divide by the std (MRI, and
   * the demo model's training); 'ct-zscore': first window CT to -1000..1000 HU; 'none'.
   */
  intensity: IntensityPreset;
  /** Resize slices (and, for a fixed slice count, the depth) to what the model was built for. */
  fit: boolean;
}

/** How the page analyses: the preprocessing and the explanation method. */
export interface AnalysisOptions extends PreprocessOptions {
  /** The explanation (default: the model's own, 'attention' for MST-DINOv2 and 'gradcam++' otherwise). */
  method?: ExplainMethod;
}

/** Bounds that keep the costly methods interactive in a browser. */
const PAGE_LIMITS: Partial<Record<ExplainMethod, object>> = { scorecam: { maxForwardPasses: 32, batchSize: 4 }, occlusion: { batchSize: 4 } };

/** The model's input size `[D | null, H | null, W | null]`; null where any size is accepted. */
export function modelInputSize(model: ConfigurableModel): [number | null, number | null, number | null] {
  if (model instanceof MedicalSliceTransformer) {
    const depth = model.numSlices ?? null;
    if (model.encoder instanceof DinoVisionTransformer) {
      // Hub DINOv2 is built at 518 px with its positional embedding resized per grid; the paper feeds 224.
      const size = model.encoder.config.imgSize ?? 518;
      const px = size === 518 ? 224 : size;
      return [depth, px, px];
    }
    return [depth, null, null];
  }
  return [null, null, null];
}

/** The model as something {@link explainVolume} explains, or a clear error for other models. */
export function asExplainable(model: ConfigurableModel): ExplainableModel {
  if (model instanceof MedicalSliceTransformer || model instanceof ResNet3D) return model;
  throw notAVolumeClassifier(model);
}

function notAVolumeClassifier(model: ConfigurableModel): Error {
  return new Error(
    `the model file holds a ${model.constructor.name}, which classifies single images; this page needs a volume classifier: a Medical Slice Transformer or a 3D ResNet`,
  );
}

/** The model's input `[D, H, W]` as float32 voxels (row-major). */
export async function preprocessVolume(
  volume: Pick<Volume, 'data' | 'shape'>,
  target: [number | null, number | null, number | null],
  options: PreprocessOptions,
): Promise<{ data: Float32Array; shape: [number, number, number] }> {
  const sample = { id: 'input', data: volume.data, shape: volume.shape, spacing: [1, 1, 1] as [number, number, number], label: 0 };
  let data = volume.data;
  if (options.intensity === 'ct-zscore') data = new ClampRescale(-1000, 1000, -1, 1).apply(sample).data;
  if (options.intensity === 'ct-zscore' || options.intensity === 'zscore') data = new ZNormalize({ percentiles: [0.5, 99.5], eps: 1e-6 }).apply({ ...sample, data }).data;
  const shape = [...volume.shape] as [number, number, number];
  const out = options.fit ? (shape.map((n, i) => target[i] ?? n) as [number, number, number]) : shape;
  if (out.every((n, i) => n === shape[i])) return { data, shape };
  const resized = tf.tidy(() => trilinearUpsample(tf.tensor3d(data, shape), { size: out }));
  const values = (await resized.data()) as Float32Array;
  resized.dispose();
  return { data: values, shape: out };
}

/** Everything the page shows of one analysis, as plain arrays. */
export interface Analysis {
  /** Class probabilities (softmax). */
  probabilities: number[];
  logits: number[];
  predictedClass: number;
  /** The explanation method (by default 'attention' for MST-DINOv2, 'gradcam++' for ResNets). */
  method: string;
  /** MST slice attention `[D]` of the model's input, summing to 1; null for a 3D ResNet. */
  sliceAttention: number[] | null;
  /** The saliency upsampled trilinearly to the scan `[D, H, W]`, raw values. */
  saliency: Float32Array;
  /** The model's input shape after preprocessing. */
  inputShape: [number, number, number];
  /**
   * For each slice `d` of the scan, the slice of the model's input it became (the bar of the
   * slice attention), or -1 where preprocessing cropped it away.
   */
  inputSliceOfScan: number[];
}

/** Scan slice -> input slice where the input is the scan resized along its slice axis. */
function resizedSlices(scanDepth: number, inputDepth: number): number[] {
  return Array.from({ length: scanDepth }, (_, d) => Math.min(inputDepth - 1, Math.max(0, Math.round(((d + 0.5) * inputDepth) / scanDepth - 0.5))));
}

/**
 * Scan slice -> input slice through a bundle's preprocessing: a map whose input slice `k` holds
 * `k + 1` is brought back onto the scan's grid (as the saliency is); each scan slice takes the
 * nearest input slice of its largest value, -1 where none reached it.
 */
function preparedSlices(prepared: PreparedVolume, scanShape: [number, number, number]): number[] {
  const [D, H, W] = prepared.sample.shape;
  const map = new Float32Array(D * H * W);
  for (let k = 0; k < D; k++) map.fill(k + 1, k * H * W, (k + 1) * H * W);
  const back = toInputGrid(map, prepared);
  const n = scanShape[1] * scanShape[2];
  return Array.from({ length: scanShape[0] }, (_, d) => {
    let top = 0;
    for (let i = d * n; i < (d + 1) * n; i++) if (back[i] > top) top = back[i];
    return top < 0.5 ? -1 : Math.min(D - 1, Math.round(top - 1));
  });
}

/** Stages reported while {@link analyse} runs. */
export type AnalysisStage = 'preprocessing' | 'model' | 'saliency';

/**
 * Prepares `volume` for the classifier (its bundle's preprocessing, else the page's `options`),
 * runs the model with the chosen explanation (by default slice x plane attention for MST-DINOv2,
 * Grad-CAM++ for ResNets) and returns the prediction and the saliency on the scan's grid. Leaves
 * no tensors behind.
 */
export async function analyse(clf: Classifier, volume: Volume, options: AnalysisOptions, onStage: (stage: AnalysisStage) => void = () => {}): Promise<Analysis> {
  const model = asExplainable(clf.model);
  const method = options.method || undefined;
  const methodOptions = (method ? { method, ...PAGE_LIMITS[method] } : {}) as ExplainOptions;
  onStage('preprocessing');
  if (clf.preprocessing) {
    onStage('model');
    const e = await clf.explain(volume, methodOptions);
    onStage('saliency');
    const { volume: input, prepared } = await clf.prepare(volume);
    input.dispose();
    return {
      inputSliceOfScan: prepared ? preparedSlices(prepared, volume.shape) : resizedSlices(volume.shape[0], e.saliencyPrepared.shape[0]),
      probabilities: e.probabilities,
      logits: e.logits,
      predictedClass: e.classIndex,
      method: e.method,
      sliceAttention: e.sliceAttention ?? null,
      saliency: e.saliency.data,
      inputShape: e.saliencyPrepared.shape,
    };
  }
  const input = await preprocessVolume(volume, modelInputSize(clf.model), options);
  onStage('model');
  const x = tf.tensor3d(input.data, input.shape);
  let e;
  try {
    e = await explainVolume(model, x, { ...methodOptions, upsample: false });
  } finally {
    x.dispose();
  }
  try {
    onStage('saliency');
    const up = trilinearUpsample(e.saliency, { size: volume.shape }) as tf.Tensor3D;
    const saliency = (await up.data()) as Float32Array;
    up.dispose();
    return {
      probabilities: e.probabilities,
      logits: e.logits ?? [],
      predictedClass: e.predictedClass,
      method: e.method,
      sliceAttention: e.sliceAttention ? Array.from(await e.sliceAttention.data()) : null,
      saliency,
      inputShape: input.shape,
      inputSliceOfScan: resizedSlices(volume.shape[0], input.shape[0]),
    };
  } finally {
    disposeExplanation(e);
  }
}

/** Reads the scan from picked files (NIfTI or a DICOM series). */
export function readScan(files: PickedFile[]): Promise<Volume> {
  return readVolumeFromFiles(files);
}

/**
 * Rebuilds the model from picked files (a bundle: saveModel's pair or a lone mst-ts safetensors;
 * or a checkpoint) as a classifier with the bundle's preprocessing and class names.
 */
export async function readModel(files: NamedBytesFile[]): Promise<Classifier> {
  const { model, bundle } = await loadBundleFromFiles(files);
  if (!(model instanceof MedicalSliceTransformer || model instanceof ResNet3D)) {
    model.dispose();
    throw notAVolumeClassifier(model);
  }
  model.eval();
  return new Classifier(model, bundle);
}
