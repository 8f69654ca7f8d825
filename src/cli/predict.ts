import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { ONNXRUNTIME_INSTALL } from '../export/onnx_predict';
import { MODEL_REGISTRY } from '../models/registry';
import { formatCohortSummary, runCohort } from './cohort';
import { parseShard, type Shard } from './cohort_plan';
import { loadVolumePredictor, RUNTIMES, type PredictorSpec, type Runtime } from './cohort_predictor';
import { useBackend } from './cohort_runner';
import { checkOutFolder, readInputScans } from './flag_files';
import { UsageError, type CliCommand } from './command';
import { checkBackendFlag, parseCommandArgs } from './args';
import { DICOM_READ_OPTIONS, dicomReadUsage, dicomReadOptions } from './dicom_args';

const USAGE = `Usage: mst-ts predict --weights <model.safetensors> --input <scan> [--workers N] [options]
       mst-ts predict --weights <model.safetensors> --manifest cases.csv --out <dir> [--shard k/n] [--workers N]
       mst-ts predict --runtime onnx --weights <model.onnx> (--input <scan> | --manifest cases.csv --out <dir>)

Classifies one scan (--input), or a whole cohort (--manifest) with one result file per case. A
model bundle (\`mst-ts train\`'s model.safetensors + model.json, or saveModel's pair) carries its
preprocessing: the raw scan is reoriented, resampled, cropped and normalised as in training.

Options:
  --weights <file>       the model (required): a bundle, any checkpoint fromPretrained reads (the
                         authors' Lightning .ckpt, MONAI, torch .pth; the format is read from the
                         file's content, whatever its extension), or an .onnx file (--runtime onnx;
                         the .json that \`mst-ts convert\` writes beside it carries the preprocessing)
  --arch <name>          for a bare state dict without a config: ${[...MODEL_REGISTRY.keys()].join(', ')}
  --preset <name>        the paper's preprocessing for a model whose file carries none (the authors'
                         published checkpoints): ${Object.keys(PREPROCESSING_PRESETS).join(', ')}
  --runtime <r>          tfjs (default) or onnx: the exported graph through onnxruntime-node (an
                         optional dependency: ${ONNXRUNTIME_INSTALL})
  --input <path>         one volume: .nii/.nii.gz, a DICOM folder or .dcm, or a .npy array [D, H, W]
                         with slices along the first axis (read as mst-ts readVolume does: any
                         numeric dtype, converted to float32; a 2D array is one slice). A model of
                         several sequences (its bundle's preprocessing.inputs) takes one per
                         sequence, --input <name>=<path> (--input pre=pre.nii.gz --input
                         post=post.nii.gz), registered onto the first one's grid and made into its
                         channels (e.g. the subtraction post - pre)
${dicomReadUsage(25)}
  --num-classes <n>      output classes of a model given by --arch (default 2; with a manifest,
                         labels must be in [0, n))
  --backend <name>       tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --json                 one volume: print {"arch": ..., "logits": [...], "probabilities": [...],
                         "label": ..., "classNames": [...]} on one line ("arch" is the bundle's or the
                         inferred architecture; with --runtime onnx also "runtime": "onnx", and "arch"
                         is null without a bundle JSON); a cohort: print the summary as JSON
  --explain              one volume, with --json: add explainMethod, sliceAttention [D] and
                         planeAttention [D][h][w] (MST), or saliency [d][h][w] (ResNet3D), and
                         saliencyShape (onnx: from the graph's attention outputs, an error without);
                         a cohort has the slice attention in each case's JSON by default
  -h, --help             this text

Cohort options (--manifest):
  --manifest <csv>       cases: columns id, path (relative to the CSV's folder), and optionally label,
                         mask, fold, split (the training manifest's format; label may be absent);
                         one path_<name> column per sequence for a multi-sequence model
  --out <dir>            output folder, created if missing (required with --manifest)
  --shard <k/n>          predict only shard k of n (k 0-based, e.g. $SLURM_ARRAY_TASK_ID with
                         --array=0-(n-1), or Kubernetes' $JOB_COMPLETION_INDEX): the cases whose
                         id's FNV-1a hash modulo n is k. It depends on the id only (not the row
                         order), so every case is in exactly one shard
  --workers <n>          worker threads, each with its own backend and copy of the model (default 1:
                         no worker thread). With --input (tfjs MSTs on wasm): worker threads that
                         share the volume's slices (default: none where the native kernels use every
                         core, else one per core; 1: the main thread only)
  --split <s>            only the rows of the manifest's split column equal to s (train, val, test)
  --no-explain           leave the slice attention out of the JSON (by default it is in, for MST)
  --saliency             also write <stem>.saliency.nii.gz: the model's explanation (attention for
                         MST-DINOv2, Grad-CAM++ for ResNets) upsampled to the input, with its affine

Writes to <dir>, each file atomically, one case at a time:
  <stem>.json            {"id", "label" (when the manifest has one), "prediction" (argmax class),
                         "probabilities", "logits", "sliceAttention" [D], "saliency" (file name),
                         "shape", "input", "index" (manifest row), "cohortSize", "shard", "model",
                         "seconds"}; <stem> is the id where it is a safe file name ([A-Za-z0-9._-],
                         not starting with . _ or -), otherwise its safe characters + "@" + 16 hex
                         digits of its SHA-256 (no id can write outside <dir>)
  _summary.json          done, skipped (already done), failed (with errors), seconds per case
                         (_summary.shard-k-of-n.json with --shard)
A rerun skips cases whose JSON exists (a folder never mixes models: a rerun with other weights is an
error). A case that fails (unreadable or corrupt volume, model error) is reported and skipped, and
listed in the summary; the exit code is then 1. Join the shards with mst-ts merge.

Without --json, one volume prints the arch, the logits and the probabilities as text.`;

const COHORT_ONLY = ['out', 'shard', 'split', 'no-explain', 'saliency'] as const;

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new UsageError(`predict: ${flag} must be a positive integer, got '${value}'`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const values: Record<string, string | string[] | boolean | undefined> = parseCommandArgs('predict', USAGE, {
    args: argv,
    options: {
      arch: { type: 'string' },
      weights: { type: 'string' },
      preset: { type: 'string' },
      runtime: { type: 'string' },
      input: { type: 'string', multiple: true },
      manifest: { type: 'string' },
      out: { type: 'string' },
      shard: { type: 'string' },
      workers: { type: 'string' },
      split: { type: 'string' },
      'num-classes': { type: 'string' },
      ...DICOM_READ_OPTIONS,
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
      explain: { type: 'boolean', default: false },
      'no-explain': { type: 'boolean', default: false },
      saliency: { type: 'boolean', default: false },
    },
  }).values;
  const str = (k: string) => values[k] as string | undefined;
  const runtime = (str('runtime') ?? 'tfjs') as Runtime;
  if (!RUNTIMES.includes(runtime)) throw new UsageError(`predict: --runtime must be ${RUNTIMES.join(' or ')}, got '${runtime}'`);
  const [arch, weights, manifest] = [str('arch'), str('weights'), str('manifest')];
  const inputs = (values.input as string[] | undefined) ?? [];
  const input = inputs.length ? inputs : undefined;
  if (!weights) throw new UsageError(`predict: --weights is required\n\n${USAGE}`);
  if (!input && !manifest) throw new UsageError(`predict: --input is required (or --manifest for a cohort)\n\n${USAGE}`);
  if (input && manifest) throw new UsageError('predict: give --input (one volume) or --manifest (a cohort), not both');
  if (arch !== undefined && !MODEL_REGISTRY.has(arch)) throw new UsageError(`predict: unknown --arch '${arch}'; expected one of ${[...MODEL_REGISTRY.keys()].join(', ')}`);
  const isOnnx = /\.onnx$/i.test(weights);
  if (runtime === 'onnx' && !isOnnx) throw new UsageError(`predict: --runtime onnx needs --weights <model.onnx>, got '${weights}'`);
  if (runtime === 'tfjs' && isOnnx) throw new UsageError(`predict: '${weights}' is an ONNX model; add --runtime onnx`);
  const numClasses = positiveInt(str('num-classes'), '--num-classes', 2);
  checkBackendFlag('predict', str('backend'));
  const preset = str('preset');
  if (preset !== undefined && !(preset in PREPROCESSING_PRESETS)) throw new UsageError(`predict: --preset must be one of ${Object.keys(PREPROCESSING_PRESETS).join(', ')}, got '${preset}'`);
  const spec: PredictorSpec = { runtime, weights, ...(arch ? { arch } : {}), numClasses, ...(preset ? { preset: preset as PreprocessingPreset } : {}) };

  if (manifest) return runCohortCommand(values, spec, manifest);
  for (const k of COHORT_ONLY) if (values[k]) throw new UsageError(`predict: --${k} applies to a cohort (--manifest), not to --input`);
  if (values.explain && !values.json) throw new UsageError('predict: --explain needs --json (the maps are written as JSON fields)');

  const workers = str('workers') === undefined ? 'auto' : positiveInt(str('workers'), '--workers', 1);
  const dicomRead = dicomReadOptions('predict', values);
  await useBackend(str('backend'));
  const predictor = await loadVolumePredictor({ ...spec, sliceWorkers: workers });
  try {
    const volume = await readInputScans('predict', inputs, predictor.inputs, dicomRead);
    const { logits, probabilities, classNames } = await predictor.predict(volume);
    const explained = values.explain ? await predictor.explainJson(volume) : {};
    const archName = arch ?? predictor.arch;
    const head = runtime === 'onnx' ? { arch: archName ?? null, runtime } : { arch: archName };
    const label = classNames[probabilities.indexOf(Math.max(...probabilities))];
    if (values.json) process.stdout.write(`${JSON.stringify({ ...head, logits, probabilities, label, classNames, ...explained })}\n`);
    else process.stdout.write(`arch: ${archName ?? `(onnx) ${weights}`}\nlabel: ${label}\nlogits: ${logits.join(' ')}\nprobabilities: ${probabilities.join(' ')}\n`);
  } finally {
    await predictor.dispose();
  }
  return 0;
}

async function runCohortCommand(values: Record<string, string | string[] | boolean | undefined>, spec: PredictorSpec, manifest: string): Promise<number> {
  const out = values.out as string | undefined;
  if (!out) throw new UsageError(`predict: --manifest needs --out <dir>\n\n${USAGE}`);
  await checkOutFolder(out);
  if (values.explain && values['no-explain']) throw new UsageError('predict: --explain and --no-explain contradict each other');
  if (values['no-explain'] && values.saliency) throw new UsageError('predict: --saliency is an explanation; drop --no-explain');
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    try {
      shard = parseShard(values.shard as string);
    } catch (e) {
      throw new UsageError(`predict: ${(e as Error).message}`);
    }
  }
  const split = values.split as string | undefined;
  if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new UsageError(`predict: --split must be train, val or test, got '${split}'`);
  const summary = await runCohort({
    manifest,
    outDir: out,
    spec,
    backend: values.backend as string | undefined,
    shard,
    split,
    workers: positiveInt(values.workers as string | undefined, '--workers', 1),
    sliceAttention: !values['no-explain'],
    saliency: values.saliency as boolean,
    progress: process.stderr,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
  else process.stdout.write(formatCohortSummary(summary));
  return summary.failed.length > 0 ? 1 : 0;
}

/** `mst-ts predict`: one volume, or a cohort from a manifest, through a registry model or an ONNX graph. */
export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'classify one volume (--input) or a cohort (--manifest, --out; resumable, --shard k/n, --workers N) with a trained model',
  usage: USAGE,
  run,
};
