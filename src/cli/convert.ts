import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { useDefaultBackend } from '../backend';
import { preprocessedSize, type PreprocessingSpec } from '../data/preprocessing';
import { PREPROCESSING_PRESETS, type PreprocessingPreset } from '../data/preprocessing_presets';
import { writeFileAtomic } from '../io/files';
import { loadModelBundle, type FromPretrainedOptions, type PretrainedArch } from '../models/from_pretrained';
import { configOf, type ConfigurableModel } from '../models/model_config';
import { loadRegistryModel, MODEL_REGISTRY } from '../models/registry';
import { bundleJson, configPathFor, saveModel, type SavedModelJson } from '../models/save_model';
import { exportOnnx, type OnnxExportableModel } from '../onnx/onnx_export';

const KINDS: PretrainedArch[] = ['dinov2', 'resnet2d', 'resnet3d', 'resnet', 'mst'];

const USAGE = `Usage: mst-ts convert <in> <out.safetensors | out.onnx> [options]

Converts a checkpoint in any format mst-ts reads (safetensors, torch.save .pth/.pt/.bin, Lightning
.ckpt; the format is read from the file's content) and any known key convention (DINOv2 hub /
Hugging Face / timm, the authors' MST and ResNet checkpoints, MONAI and torchvision ResNets), or a
model bundle, into
  <out.safetensors>  a model bundle: the PyTorch originals' key names plus <out>.json (architecture,
                     config, class names, preprocessing); it loads with fromPretrained/loadClassifier
                     in mst-ts and with load_state_dict in the original PyTorch classes
  <out.onnx>         an ONNX graph (opset 17) plus <out>.json, the bundle whose preprocessing
                     \`mst-ts predict --runtime onnx\` applies (it is also in the graph's metadata)

Options:
  --arch A            a registry architecture for a bare state dict (${[...MODEL_REGISTRY.keys()].join(', ')}),
                      or what to build from the file: ${KINDS.join(' | ')} (default: what the file
                      holds; 'mst' on a backbone adds a fresh slice fusion and head, 'dinov2'/'resnet2d'
                      on an MST file keeps its encoder only)
  --preset P          store the paper's preprocessing (${Object.keys(PREPROCESSING_PRESETS).join(', ')}) in the bundle, for
                      the authors' published checkpoints that carry none
  --num-heads N       DINOv2 attention heads, needed when the width is not 384/768/1024/1536
  --slice-heads N     MST slice-transformer heads, needed when the width is not a published one
  --num-classes N     classes (must match a file's head; sets the head of --arch mst)
  --key PATH          dotted path of the state dict inside a torch checkpoint
  --conv1-stride S    ResNet stem stride, which tensors cannot tell (torchvision 2, MONAI 1)
  --key-prefix P      .safetensors: prefix for every written key ('model.' for the authors' 3D ResNet wrapper)
  --attention         .onnx: add the attention outputs (slice_attention, plane_attention, saliency)
  --image-size HxW    .onnx: slice size fixed in the graph (DINOv2 default 224x224; else the bundle's crop)
  --json              print a JSON summary { in, out, config, json }
`;

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`convert: --${name} expects a positive integer, got '${value}'`);
  return n;
}

function imageSize(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`convert: --image-size must look like 224x224, got '${value}'`);
  return [Number(m[1]), Number(m[2])];
}

/** `mst-ts convert`: any checkpoint -> a model bundle (safetensors + JSON) or an ONNX graph + JSON. */
export const convertCommand: CliCommand = {
  name: 'convert',
  summary: 'convert any checkpoint or bundle to a model bundle (.safetensors + .json) or an ONNX graph (.onnx + .json)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs('convert', USAGE, {
      args: argv,
      allowPositionals: true,
      options: {
        arch: { type: 'string' },
        preset: { type: 'string' },
        'num-heads': { type: 'string' },
        'slice-heads': { type: 'string' },
        'num-classes': { type: 'string' },
        key: { type: 'string' },
        'conv1-stride': { type: 'string' },
        'key-prefix': { type: 'string' },
        attention: { type: 'boolean', default: false },
        'image-size': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 2) throw new UsageError(`convert: expected <in> and <out.safetensors | out.onnx>, got ${positionals.length} argument(s)\n\n${USAGE}`);
    const [input, output] = positionals;
    const onnx = /\.onnx$/i.test(output);
    if (!onnx && !output.endsWith('.safetensors')) throw new UsageError(`convert: the output must end in .safetensors or .onnx, got '${output}'`);
    if (onnx && values['key-prefix'] !== undefined) throw new UsageError('convert: --key-prefix applies to .safetensors output');
    if (!onnx && (values.attention || values['image-size'] !== undefined)) throw new UsageError('convert: --attention and --image-size apply to .onnx output');
    const arch = values.arch as string | undefined;
    const registryArch = arch !== undefined && MODEL_REGISTRY.has(arch);
    if (arch !== undefined && !registryArch && !KINDS.includes(arch as PretrainedArch)) {
      throw new UsageError(`convert: --arch must be a registry architecture (${[...MODEL_REGISTRY.keys()].join(', ')}) or one of ${KINDS.join(', ')}, got '${arch}'`);
    }
    const preset = values.preset as PreprocessingPreset | undefined;
    if (preset !== undefined && !(preset in PREPROCESSING_PRESETS)) throw new UsageError(`convert: --preset must be one of ${Object.keys(PREPROCESSING_PRESETS).join(', ')}, got '${preset}'`);
    const options: FromPretrainedOptions = {
      ...(arch && !registryArch ? { arch: arch as PretrainedArch } : {}),
      numHeads: intOption('num-heads', values['num-heads']),
      sliceHeads: intOption('slice-heads', values['slice-heads']),
      numClasses: intOption('num-classes', values['num-classes']),
      conv1Stride: intOption('conv1-stride', values['conv1-stride']),
      key: values.key,
    };
    await useDefaultBackend();
    let model: ConfigurableModel;
    let bundle: SavedModelJson;
    if (registryArch) {
      const m = await loadRegistryModel(arch as string, input, { numClasses: options.numClasses ?? 2 });
      model = m;
      bundle = bundleJson(m, { arch });
    } else {
      ({ model, bundle } = await loadModelBundle(input, options));
    }
    try {
      const info = { arch: bundle.arch, classNames: bundle.classNames, preprocessing: preset ? PREPROCESSING_PRESETS[preset] : bundle.preprocessing, explain: bundle.explain };
      const jsonPath = configPathFor(onnx ? output.replace(/\.onnx$/i, '.safetensors') : output);
      if (onnx) {
        if (typeof (model as Partial<OnnxExportableModel>).toOnnx !== 'function') throw new Error(`convert: the file holds a ${model.constructor.name}, which does not export to ONNX (an MST or a 3D ResNet does)`);
        const json = bundleJson(model, info, output.split(/[\\/]/).pop());
        const size = imageSize(values['image-size']) ?? crop(info.preprocessing);
        // A multi-sequence model takes its channels as the graph's last axis.
        const channels = info.preprocessing && info.preprocessing.channels > 1 ? { channels: info.preprocessing.channels } : {};
        await exportOnnx(model as OnnxExportableModel, output, { attention: values.attention as boolean, ...(size ? { imageSize: size } : {}), ...channels, metadata: { 'mst_ts.bundle': JSON.stringify(json) } });
        await writeFileAtomic(jsonPath, `${JSON.stringify(json, null, 1)}\n`);
      } else {
        await saveModel(model, output, { ...info, keyPrefix: values['key-prefix'] });
      }
      const config = configOf(model);
      const summary = { in: input, out: output, json: jsonPath, config };
      if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
      else process.stdout.write(`wrote ${output} and ${summary.json} (${config.model}, ${model.numParameters().toLocaleString('en-US')} parameters)\n`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};

/** The slice size a preprocessing fixes (its last crop or resize), for the ONNX graph. */
function crop(spec: PreprocessingSpec | null): [number, number] | undefined {
  const size = spec ? preprocessedSize(spec) : null;
  return size ? [size[1], size[2]] : undefined;
}
