import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setBackend, useDefaultBackend } from '../backend';
import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { ATTENTION_METHODS, CNN_METHODS, EXPLAIN_METHODS, explainMethodsFor, type ExplainMethod, type ExplainOptions } from '../explain/explain_volume';
import { localisationMetrics, pointingGame } from '../explain/localisation';
import { montagePng, sliceAttentionBarChart, type MontageRow } from '../explain/montage';
import type { ColormapName } from '../explain/colormap';
import type { HeadFusion } from '../explain/rollout';
import { writeFileAtomic } from '../io/files';
import { writeNifti } from '../io/nifti';
import { readDicomSourceInfo, writeSaliencyDicom, type DicomSourceInfo } from '../io/dicom_write';
import type { Volume } from '../io/volume';
import { MODEL_REGISTRY } from '../models/registry';
import { UsageError, type CliCommand } from './command';
import { checkBackendFlag, parseCommandArgs } from './args';
import { checkOutFolder, loadWeights, readInputScans, readScan } from './flag_files';
import { DICOM_READ_OPTIONS, dicomReadOptions, dicomReadUsage } from './dicom_args';

const USAGE = `Usage: mst-ts explain --weights <model.safetensors> --input <scan> --out <dir> [options]

Explains one scan: prepares it as the model's bundle says, runs the model with attention
(MST-DINOv2) or gradients (ResNet3D, MST-ResNet) and writes what a reader looks at, the saliency
volume on the scan's own grid.

Options:
  --weights <file>       the model (required): a bundle (\`mst-ts train\`'s model.safetensors +
                         model.json, or saveModel's pair), or any checkpoint fromPretrained reads
  --arch <name>          for a bare state dict without a config: ${[...MODEL_REGISTRY.keys()].join(', ')}
  --preset <name>        the paper's preprocessing for a model whose file carries none (the authors'
                         published checkpoints): ${Object.keys(PREPROCESSING_PRESETS).join(', ')}
  --input <path>         the scan (required): .nii/.nii.gz, a DICOM folder or .dcm, or a .npy array
                         [D, H, W] with slices along the first axis; a model of several sequences
                         takes one per sequence, --input <name>=<path> (--input pre=... --input
                         post=...), the maps lying on the first one's grid
${dicomReadUsage(25)}
  --out <dir>            output folder, created if missing (required)
  --method <m>           MST-DINOv2: ${ATTENTION_METHODS.join(' | ')} (default attention);
                         ResNet3D, MST-ResNet: ${CNN_METHODS.join(' | ')}
                         (default gradcam++, the authors')
  --zero-first-patch     attention: plane attention with the first patch zeroed, as the authors' code
  --head-fusion <f>      rollout head fusion: mean (default), max, min
  --layer <name>         CAM layer (default layer4: the output of its last block)
  --target-class <n>     class a class-specific method explains (default: the predicted class)
  --cam-target <t>       MST-ResNet gradient CAMs: class (default) or sliceFeature (the authors' per-slice target)
  --max-forward-passes <n>  scorecam: masked forward passes at most (default: one per channel)
  --window <d,h,w>       occlusion: box size in voxels, or one number (default: a quarter of each axis)
  --stride <d,h,w>       occlusion: step between boxes (default: the window)
  --batch-size <n>       scorecam, occlusion: volumes per forward pass
  --chunk-size <n>       transformer-attribution, gradient-attention: slices traced at once (default 1)
  --tta                  average predictions and maps over the 8 flips of the volume
  --smooth <n>           average maps over n noisy copies of the volume (SmoothGrad)
  --noise <s>            --smooth noise as a fraction of the value range (default 0.1)
  --metrics              faithfulness of the map: deletion and insertion curves and areas, ROAD (noisy
                         linear imputation, most and least relevant first); with --mask also the
                         pointing game within --pointing-tolerance voxels (default 15), on the
                         scan's own grid where the mask lies
  --metrics-steps <n>    slabs of the deletion and insertion curves (default 16)
  --pointing-tolerance <v>  pointing-game tolerance in voxels (default 15)
  --mask <path>          a lesion mask of the input's shape (any readVolume format): adds the
                         localisation metrics (slice and lesion correctness, Dice and IoU of the map
                         above its 99.9th percentile) to the summary
  --top-k <k>            slices counted by slice correctness (default 1)
  --colormap <name>      jet (default, the paper's) or turbo
  --alpha <a>            overlay opacity in [0, 1] (default 0.5)
  --slices <a:b>         slices shown in the montage, a to b-1 (default: 8 around the peak)
  --num-classes <n>      output classes of a model given by --arch (default 2)
  --backend <name>       tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --dicom-out <dir>      also write the saliency as a DICOM series that a PACS viewer overlays on the
                         input (a DICOM series): one Secondary Capture image per source slice, in the
                         source's study and Frame of Reference, each at its source image's position,
                         16-bit with Rescale Slope/Intercept; de-identified (no patient name, ID,
                         birth date, accession number or study date copied)
  --dicom-keep-patient   --dicom-out: copy the patient and study identifiers of the source
  --dicom-uid-seed <s>   --dicom-out: new UIDs from this seed (the same seed, the same UIDs and bytes);
                         default random
  --dicom-uid-root <uid> --dicom-out: your organisation's UID root for the new UIDs (default 2.25)
  --json                 print the summary as one JSON line
  -h, --help             this text

Writes to <dir>:
  montage.png            input row and saliency overlay row (plus slice attention and per-slice map
                         rows for MST) of the network's input, consecutive slices as columns, as the
                         paper's Figures 4-6
  slice_attention.png    bar chart of the slice attention (MST)
  saliency.nii.gz        the saliency volume float32 on the scan's own voxel grid, with its affine
                         (identity, 1 mm, for .npy), to open over the scan in ITK-SNAP, 3D Slicer or
                         NiiVue
  explanation.json       probabilities, predicted class, method, map shapes, slice attention, with
                         --mask the localisation metrics, with --metrics the faithfulness metrics
  <dicom-out>/IM00001.dcm, ...  with --dicom-out, the saliency series (one file per slice)

The summary (text, or --json) gives the arch, probabilities, predicted class and the files written.`;

function parseSlices(text: string, depth: number): number[] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`explain: --slices must look like a:b (slices a to b-1), got '${text}'`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (!(a < b && b <= depth)) throw new UsageError(`explain: --slices ${text} is outside the volume's ${depth} slices (need a < b <= ${depth})`);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('explain', USAGE, {
    args: argv,
    options: {
      arch: { type: 'string' },
      weights: { type: 'string' },
      preset: { type: 'string' },
      input: { type: 'string', multiple: true },
      out: { type: 'string' },
      'dicom-out': { type: 'string' },
      'dicom-keep-patient': { type: 'boolean', default: false },
      'dicom-uid-seed': { type: 'string' },
      'dicom-uid-root': { type: 'string' },
      method: { type: 'string' },
      'zero-first-patch': { type: 'boolean', default: false },
      'head-fusion': { type: 'string' },
      layer: { type: 'string' },
      'target-class': { type: 'string' },
      'cam-target': { type: 'string' },
      'max-forward-passes': { type: 'string' },
      window: { type: 'string' },
      stride: { type: 'string' },
      'batch-size': { type: 'string' },
      'chunk-size': { type: 'string' },
      tta: { type: 'boolean', default: false },
      smooth: { type: 'string' },
      noise: { type: 'string' },
      metrics: { type: 'boolean', default: false },
      'metrics-steps': { type: 'string' },
      'pointing-tolerance': { type: 'string' },
      mask: { type: 'string' },
      'top-k': { type: 'string' },
      colormap: { type: 'string' },
      alpha: { type: 'string' },
      slices: { type: 'string' },
      'num-classes': { type: 'string' },
      ...DICOM_READ_OPTIONS,
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const str = (k: keyof typeof values) => values[k] as string | undefined;
  const [arch, weights, out] = [str('arch'), str('weights'), str('out')];
  const inputs = (values.input as string[] | undefined) ?? [];
  for (const [flag, v] of [['--weights', weights], ['--input', inputs[0]], ['--out', out]] as const) {
    if (!v) throw new UsageError(`explain: ${flag} is required\n\n${USAGE}`);
  }
  const dicomOut = str('dicom-out');
  for (const k of ['dicom-keep-patient', 'dicom-uid-seed', 'dicom-uid-root'] as const) if (values[k] !== undefined && values[k] !== false && !dicomOut) throw new UsageError(`explain: --${k} applies to --dicom-out`);
  if (arch !== undefined && !MODEL_REGISTRY.has(arch)) throw new UsageError(`explain: unknown --arch '${arch}'; expected one of ${[...MODEL_REGISTRY.keys()].join(', ')}`);
  checkBackendFlag('explain', str('backend'));
  const preset = str('preset');
  if (preset !== undefined && !(preset in PREPROCESSING_PRESETS)) throw new UsageError(`explain: --preset must be one of ${Object.keys(PREPROCESSING_PRESETS).join(', ')}, got '${preset}'`);
  const method = str('method') as ExplainMethod | undefined;
  if (method !== undefined && !EXPLAIN_METHODS.includes(method)) throw new UsageError(`explain: --method must be one of ${EXPLAIN_METHODS.join(', ')}, got '${method}'`);
  // Checked before the (slow) model construction where the registry knows the architecture.
  if (arch && method !== undefined) {
    const { valid } = explainMethodsFor(MODEL_REGISTRY.get(arch)!.capabilities);
    if (!valid.includes(method)) throw new UsageError(`explain: --method ${method} does not apply to ${arch}; expected one of ${valid.join(', ')}`);
  }
  const fusion = str('head-fusion') as HeadFusion | undefined;
  if (fusion !== undefined && !['mean', 'max', 'min'].includes(fusion)) throw new UsageError(`explain: --head-fusion must be mean, max or min, got '${fusion}'`);
  const camTarget = str('cam-target');
  if (camTarget !== undefined && camTarget !== 'class' && camTarget !== 'sliceFeature') throw new UsageError(`explain: --cam-target must be class or sliceFeature, got '${camTarget}'`);
  const colormap = (str('colormap') ?? 'jet') as ColormapName;
  if (colormap !== 'jet' && colormap !== 'turbo') throw new UsageError(`explain: --colormap must be jet or turbo, got '${colormap}'`);
  const alpha = str('alpha') === undefined ? 0.5 : Number(str('alpha'));
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`explain: --alpha must be a number in [0, 1], got '${str('alpha')}'`);
  const intFlag = (k: keyof typeof values, fallback: number | undefined, min: number) => {
    const v = str(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= min)) throw new UsageError(`explain: --${k} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  const numClasses = intFlag('num-classes', 2, 1) as number;
  const targetClass = intFlag('target-class', undefined, 0);
  const topK = intFlag('top-k', 1, 1) as number;
  const triple = (k: 'window' | 'stride'): number | [number, number, number] | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const parts = v.split(',').map(Number);
    if (!((parts.length === 1 || parts.length === 3) && parts.every((n) => Number.isInteger(n) && n >= 1))) {
      throw new UsageError(`explain: --${k} must be a positive integer or three of them as d,h,w, got '${v}'`);
    }
    return parts.length === 1 ? parts[0] : (parts as [number, number, number]);
  };
  const smoothSamples = intFlag('smooth', undefined, 1);
  const noise = str('noise') === undefined ? undefined : Number(str('noise'));
  if (noise !== undefined && !(noise >= 0)) throw new UsageError(`explain: --noise must be a non-negative fraction of the value range, got '${str('noise')}'`);
  const metricsSteps = intFlag('metrics-steps', 16, 1) as number;
  const tolerance = str('pointing-tolerance') === undefined ? 15 : Number(str('pointing-tolerance'));
  if (!(tolerance >= 0)) throw new UsageError(`explain: --pointing-tolerance must be a non-negative number of voxels, got '${str('pointing-tolerance')}'`);
  const base = { targetClass, tta: values.tta as boolean, ...(smoothSamples ? { smooth: { samples: smoothSamples, noise } } : {}) };
  const layer = str('layer');
  const batchSize = intFlag('batch-size', undefined, 1);
  const options: ExplainOptions = (() => {
    switch (method) {
      case undefined:
        return { ...base, zeroFirstPatch: values['zero-first-patch'] as boolean, headFusion: fusion, layer, camTarget: camTarget as 'class' | 'sliceFeature' | undefined };
      case 'attention':
        return { ...base, method, zeroFirstPatch: values['zero-first-patch'] as boolean };
      case 'rollout':
        return { ...base, method, headFusion: fusion };
      case 'transformer-attribution':
      case 'gradient-attention':
        return { ...base, method, chunkSize: intFlag('chunk-size', undefined, 1) };
      case 'eigencam':
        return { ...base, method, layer };
      case 'scorecam':
        return { ...base, method, layer, batchSize, maxForwardPasses: intFlag('max-forward-passes', undefined, 1) };
      case 'occlusion':
        return { ...base, method, window: triple('window'), stride: triple('stride'), batchSize };
      default:
        return { ...base, method, layer, camTarget: camTarget as 'class' | 'sliceFeature' | undefined };
    }
  })();

  const dicomRead = dicomReadOptions('explain', values);
  if (values.backend) await setBackend(str('backend') as string);
  else await useDefaultBackend();

  await checkOutFolder(out as string);
  const clf = await loadWeights({ weights: weights as string, arch, numClasses, preset: preset as PreprocessingPreset | undefined });
  try {
    const { valid, kind } = explainMethodsFor(clf.model.capabilities);
    if (method !== undefined && !valid.includes(method)) throw new UsageError(`explain: --method ${method} does not apply to this model (${clf.bundle.arch}, ${kind}); expected one of ${valid.join(', ')}`);
    const classes = clf.model.numClasses;
    if (targetClass !== undefined && targetClass >= classes) {
      throw new UsageError(`explain: --target-class ${targetClass} is out of range: the model has ${classes} classes (${clf.classNames.map((c, i) => `${i} ${c}`).join(', ')})`);
    }
    const scan = await readInputScans('explain', inputs, clf.preprocessing?.inputs ?? null, dicomRead);
    const mask = str('mask') === undefined ? undefined : await readScan(str('mask') as string, { canonical: false });
    if (mask && mask.shape.some((d, i) => d !== scan.shape[i])) {
      throw new Error(`explain: the mask ${str('mask')} has shape [${mask.shape.join(', ')}], the input [${scan.shape.join(', ')}]`);
    }
    // Checked before the explanation: the series is written into the source's study.
    const dicomSource = dicomOut ? await dicomSourceOf(scan, inputs[0]) : undefined;
    const { volume: preparedVolume, prepared } = await clf.prepare(scan);
    // The montage shows the network's first channel (the only one of a gray or subtraction input).
    const first = preparedVolume.rank === 4 ? tf.tidy(() => tf.squeeze(tf.slice(preparedVolume, [0, 0, 0, 0], [-1, -1, -1, 1]), [3])) : preparedVolume;
    const vol = (await first.data()) as Float32Array;
    const shape = first.shape.slice(0, 3) as [number, number, number];
    if (first !== preparedVolume) first.dispose();
    preparedVolume.dispose();
    // The network saw the scan's own voxels where preparing moved none (only intensities).
    const sameGrid = prepared === null || prepared.steps.length === 0;
    const e = await clf.explain(scan, {
      ...options,
      ...(values.metrics
        ? { metrics: { mask: mask && sameGrid ? { data: mask.data, shape } : undefined, deletion: { steps: metricsSteps }, road: true, pointingTolerance: tolerance, topK } }
        : {}),
    });
    if (topK > shape[0]) throw new UsageError(`explain: --top-k ${topK} exceeds the network input's ${shape[0]} slices`);
    const slices = str('slices') === undefined ? undefined : parseSlices(str('slices') as string, shape[0]);
    fs.mkdirSync(out as string, { recursive: true });
    const sal = e.saliencyPrepared.data;
    const slice = e.sliceAttention ? Float32Array.from(e.sliceAttention) : undefined;
    const rows: MontageRow[] = [];
    if (slice) rows.push({ map: slice, clip: null });
    rows.push({ map: { data: sal, shape } });
    const files: string[] = [];
    const write = async (name: string, bytes: Uint8Array) => {
      const p = path.join(out as string, name);
      await writeFileAtomic(p, bytes);
      files.push(p);
    };
    await write('montage.png', montagePng({ data: vol, shape }, rows, { colormap, alpha, slices: slices ?? undefined }));
    if (slice) await write('slice_attention.png', sliceAttentionBarChart(slice));
    const niftiPath = path.join(out as string, 'saliency.nii.gz');
    await writeNifti(niftiPath, { data: e.saliency.data, shape: e.saliency.shape, affine: e.saliency.affine }, { description: `mst-ts ${e.method} saliency` });
    files.push(niftiPath);
    if (dicomOut && dicomSource) {
      const written = await writeSaliencyDicom(dicomOut, e.saliency, dicomSource, {
        description: `mst-ts ${e.method} saliency`,
        copyPatient: values['dicom-keep-patient'] as boolean,
        ...(str('dicom-uid-seed') !== undefined ? { uidSeed: str('dicom-uid-seed') } : {}),
        ...(str('dicom-uid-root') !== undefined ? { uidRoot: str('dicom-uid-root') } : {}),
      });
      files.push(...written);
    }
    // Localisation is scored on the scan's own grid, where the mask lives (with the slice
    // attention where the network saw the scan's own slices).
    const localisation = mask ? await localisationMetrics({ data: e.saliency.data, shape: e.saliency.shape }, sameGrid ? (slice ?? null) : null, mask, { topK }) : undefined;
    // The pointing game likewise: the network's grid has no mask wherever preparing moved voxels.
    const metrics = e.metrics && mask ? { ...e.metrics, pointingGame: pointingGame({ data: e.saliency.data, shape: e.saliency.shape }, mask, tolerance) } : e.metrics;
    const summary = {
      arch: arch ?? clf.bundle.arch,
      method: e.method,
      label: e.label,
      classNames: e.classNames,
      probabilities: e.probabilities,
      predictedClass: e.classIndex,
      ...(e.targetClass !== undefined ? { targetClass: e.targetClass } : {}),
      shapes: { input: [...scan.shape], prepared: shape, saliency: [...e.saliency.shape] },
      ...(slice ? { sliceAttention: Array.from(slice) } : {}),
      tta: options.tta,
      ...(options.smooth ? { smooth: options.smooth } : {}),
      ...(localisation ? { localisation } : {}),
      ...(metrics ? { metrics } : {}),
    };
    await write('explanation.json', new TextEncoder().encode(`${JSON.stringify(summary, null, 1)}\n`));
    if (values.json) process.stdout.write(`${JSON.stringify({ ...summary, files })}\n`);
    else {
      process.stdout.write(
        `arch: ${summary.arch}\nmethod: ${e.method}\nlabel: ${e.label}\nprobabilities: ${e.probabilities.join(' ')}\npredicted class: ${e.classIndex}\n` +
          (e.metrics ? `deletion AUC: ${e.metrics.deletion?.auc.toFixed(4)}, insertion AUC: ${e.metrics.insertion?.auc.toFixed(4)}, ROAD MoRF / LeRF AUC: ${e.metrics.roadMorf?.auc.toFixed(4)} / ${e.metrics.roadLerf?.auc.toFixed(4)}\n` : '') +
          (metrics?.pointingGame !== undefined ? `pointing game (within ${tolerance} voxels): ${metrics.pointingGame ? 'hit' : 'miss'}\n` : '') +
          `wrote: ${files.join(', ')}\n`,
      );
    }
  } finally {
    clf.dispose();
  }
  return 0;
}

/** The source series a `--dicom-out` series is written into: the input's DICOM files, or an error. */
async function dicomSourceOf(scan: Volume, input: string): Promise<DicomSourceInfo> {
  const files = scan.meta.files as string[] | undefined;
  if (scan.meta.format !== 'dicom' || !files?.length) {
    throw new UsageError(`explain: --dicom-out writes a series into the study and Frame of Reference of a DICOM input; '${input.replace(/^[A-Za-z][A-Za-z0-9_]*=/, '')}' is ${String(scan.meta.format ?? 'not DICOM')} (use saliency.nii.gz for it)`);
  }
  if (files.length !== scan.shape[0]) throw new Error(`explain: --dicom-out needs one DICOM image per slice; the input has ${files.length} files for ${scan.shape[0]} slices (a multi-frame file)`);
  return readDicomSourceInfo(files);
}

/** `mst-ts explain`: saliency maps of one volume as PNG montage, bar chart and volume file. */
export const explainCommand: CliCommand = {
  name: 'explain',
  summary: 'explain one scan: saliency montage PNG, slice-attention chart, saliency volume on the scan\'s grid (--weights, --input, --out)',
  usage: USAGE,
  run,
};
