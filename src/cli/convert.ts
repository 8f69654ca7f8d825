import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { useDefaultBackend } from '../backend';
import { fromPretrained, type FromPretrainedOptions, type PretrainedArch } from '../models/from_pretrained';
import { configOf } from '../models/model_config';
import { configPathFor, saveModel } from '../models/save_model';

const ARCHS: PretrainedArch[] = ['dinov2', 'resnet2d', 'resnet3d', 'resnet', 'mst'];

const USAGE = `Usage: mst-ts convert <in> <out.safetensors> [--arch A] [--num-heads N] [--slice-heads N]
                      [--num-classes N] [--key PATH] [--conv1-stride S] [--key-prefix P] [--json]

Converts a checkpoint in any format mst-ts reads (safetensors, torch.save .pth/.pt/.bin, Lightning
.ckpt) and any known key convention (DINOv2 hub / Hugging Face / timm, the authors' MST and ResNet
checkpoints, MONAI and torchvision ResNets) into <out.safetensors> with the PyTorch originals' key
names, plus <out>.json (the model config), via fromPretrained + saveModel: the result loads with
fromPretrained(out) in mst-ts and with load_state_dict in the original PyTorch classes.

Options:
  --arch A            dinov2 | resnet2d | resnet3d | resnet | mst (default: what the file holds;
                      'mst' on a backbone adds a fresh slice fusion and head, 'dinov2'/'resnet2d'
                      on an MST file keeps its encoder only)
  --num-heads N       DINOv2 attention heads, needed when the width is not 384/768/1024/1536
  --slice-heads N     MST slice-transformer heads, needed when the width is not a published one
  --num-classes N     classes (must match a file's head; sets the head of --arch mst)
  --key PATH          dotted path of the state dict inside a torch checkpoint
  --conv1-stride S    ResNet stem stride, which tensors cannot tell (torchvision 2, MONAI 1)
  --key-prefix P      prefix for every written key ('model.' for the authors' 3D ResNet wrapper)
  --json              print a JSON summary { in, out, config, json }
`;

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`mst-ts convert: --${name} expects a positive integer, got '${value}'`);
  return n;
}

/** `mst-ts convert`: any checkpoint -> safetensors with the originals' names plus the config JSON. */
export const convertCommand: CliCommand = {
  name: 'convert',
  summary: 'convert any checkpoint (.pth, .bin, .ckpt, safetensors; hub/HF/timm/MST/MONAI/torchvision names) to safetensors + config',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs('convert', USAGE, {
      args: argv,
      allowPositionals: true,
      options: {
        arch: { type: 'string' },
        'num-heads': { type: 'string' },
        'slice-heads': { type: 'string' },
        'num-classes': { type: 'string' },
        key: { type: 'string' },
        'conv1-stride': { type: 'string' },
        'key-prefix': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 2) throw new UsageError(`mst-ts convert: expected <in> and <out.safetensors>, got ${positionals.length} argument(s)\n\n${USAGE}`);
    const [input, output] = positionals;
    if (!output.endsWith('.safetensors')) throw new UsageError(`mst-ts convert: the output must end in .safetensors, got '${output}'`);
    const arch = values.arch as PretrainedArch | undefined;
    if (arch !== undefined && !ARCHS.includes(arch)) throw new UsageError(`mst-ts convert: --arch must be one of ${ARCHS.join(', ')}, got '${arch}'`);
    const options: FromPretrainedOptions = {
      arch,
      numHeads: intOption('num-heads', values['num-heads']),
      sliceHeads: intOption('slice-heads', values['slice-heads']),
      numClasses: intOption('num-classes', values['num-classes']),
      conv1Stride: intOption('conv1-stride', values['conv1-stride']),
      key: values.key,
    };
    await useDefaultBackend();
    const model = await fromPretrained(input, options);
    try {
      await saveModel(model, output, { keyPrefix: values['key-prefix'] });
      const config = configOf(model);
      const summary = { in: input, out: output, json: configPathFor(output), config };
      if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
      else process.stdout.write(`wrote ${output} and ${summary.json} (${config.model}, ${model.numParameters().toLocaleString('en-US')} parameters)\n`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};
