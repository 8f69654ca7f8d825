import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import { useDefaultBackend } from '../backend';
import { inspectCheckpoint, loadCheckpoint } from '../io/checkpoint';
import { detectConvention, toOurConvention } from '../io/key_conventions';
import { describeOnnxModel } from '../export/onnx_predict';
import { fileSource } from '../io/byte_source';
import { disposeStateDict } from '../nn/module';
import { weightsError } from './flag_files';

const USAGE = `Usage: mst-ts inspect <file> [--json] [--check] [--key PATH] [--opaque-objects]

Lists the tensors of a checkpoint (names, dtypes, shapes) and the key convention they follow,
without reading tensor data. Reads safetensors, torch.save files (.pth/.pt/.bin, zip or legacy
format) and PyTorch Lightning .ckpt files; pickles are read by a restricted unpickler that never
runs code. For an .onnx graph it lists the inputs and outputs (through onnxruntime-node).

Options:
  --json              print JSON instead of text
  --check             also load the tensors, map them to mst-ts names and check every shape;
                      prints the architecture they describe (reads the whole file)
  --key PATH          dotted path of the state dict in a torch checkpoint (default: the root,
                      else state_dict, model_state_dict, model, module, net, teacher)
  --opaque-objects    keep objects of unknown classes as inert placeholders instead of refusing

JSON fields:
  file, format        the path; 'safetensors' | 'torch-zip' | 'torch-legacy' | 'onnx'
  inputs, outputs     an .onnx graph's, [{ name, type, shape }] (a name for a symbolic axis); an
                      .onnx report has only file, format, inputs and outputs
  stateDictKey        where the state dict was found ('state_dict' for Lightning), or null
  convention          { convention, family, prefix, reason } (see detectConvention)
  numTensors, numElements
  tensors             [{ key, dtype, shape }] in file order
  topLevelKeys        a torch checkpoint's top-level keys (epoch, hyper_parameters, ...)
  metadata            safetensors __metadata__, or the non-tensor top-level values as JSON
  check               with --check: { ok, mappedKeys, extraKeys, synthesized, dinov2?, resnet?, error? }
`;

/** `mst-ts inspect`: keys, dtypes, shapes and the detected key convention of a checkpoint. */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'list a checkpoint’s keys, dtypes and shapes and its key convention (safetensors, .pth, .ckpt)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs('inspect', USAGE, {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        key: { type: 'string' },
        'opaque-objects': { type: 'boolean', default: false },
      },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`mst-ts inspect: expected one file, got ${positionals.length}\n\n${USAGE}`);
    const file = positionals[0];
    if (/\.onnx$/i.test(file)) {
      for (const flag of ['check', 'key', 'opaque-objects'] as const) if (values[flag]) throw new UsageError(`mst-ts inspect: --${flag} applies to checkpoints, not to an .onnx graph`);
      return inspectOnnx(file, values.json);
    }
    const options = { key: values.key, opaqueObjects: values['opaque-objects'] };
    const info = await inspectCheckpoint(file, options);
    const tensors = Object.entries(info.tensors).map(([key, t]) => ({ key, dtype: t.dtype, shape: t.shape }));
    const shapes = Object.fromEntries(tensors.map((t) => [t.key, t.shape]));
    const convention = detectConvention(Object.keys(shapes), shapes);
    const numElements = tensors.reduce((acc, t) => acc + t.shape.reduce((a, b) => a * b, 1), 0);
    let check: Record<string, unknown> | undefined;
    if (values.check) {
      await useDefaultBackend();
      const sd = await loadCheckpoint(file, options);
      try {
        const c = toOurConvention(sd);
        check = { ok: true, mappedKeys: Object.keys(c.stateDict).length, extraKeys: Object.keys(c.extra), synthesized: c.synthesized, dinov2: c.dinov2, resnet: c.resnet };
        disposeStateDict(c.stateDict);
        disposeStateDict(c.extra);
      } catch (e) {
        check = { ok: false, error: (e as Error).message };
        disposeStateDict(sd);
      }
    }
    const report = { file, format: info.format, stateDictKey: info.stateDictKey, convention, numTensors: tensors.length, numElements, tensors, topLevelKeys: info.topLevelKeys, metadata: info.metadata, check };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
      return check && !check.ok ? 1 : 0;
    }
    const lines = [
      `file:        ${file}`,
      `format:      ${info.format}${info.stateDictKey ? ` (state dict under '${info.stateDictKey}')` : ''}`,
      `convention:  ${convention.convention}${convention.prefix ? ` (prefix '${convention.prefix}')` : ''}: ${convention.reason}`,
      `tensors:     ${tensors.length} (${numElements.toLocaleString('en-US')} elements)`,
    ];
    if (info.topLevelKeys.length) lines.push(`top level:   ${info.topLevelKeys.join(', ')}`);
    if (check) lines.push(`check:       ${check.ok ? `ok, ${JSON.stringify(check.dinov2 ?? check.resnet ?? {})}` : `FAILED: ${check.error}`}`);
    lines.push('');
    const width = Math.max(...tensors.map((t) => t.key.length), 3);
    for (const t of tensors) lines.push(`  ${t.key.padEnd(width)}  ${t.dtype.padEnd(4)}  [${t.shape.join(', ')}]`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return check && !check.ok ? 1 : 0;
  },
};

/** An .onnx graph's inputs and outputs, as text or JSON. */
async function inspectOnnx(file: string, json: boolean): Promise<number> {
  let described;
  try {
    // ONNX Runtime's words for a missing file or a folder say neither plainly.
    await (await fileSource(file)).close();
    described = await describeOnnxModel(file);
  } catch (e) {
    throw weightsError(file, e, '');
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ file, format: 'onnx', ...described }, null, 1)}\n`);
    return 0;
  }
  const all = [...described.inputs, ...described.outputs];
  const width = Math.max(...all.map((v) => v.name.length), 4);
  const row = (v: (typeof all)[number]): string => `  ${v.name.padEnd(width)}  ${(v.type ?? '?').padEnd(7)}  ${v.shape ? `[${v.shape.join(', ')}]` : '(shape not reported)'}`;
  process.stdout.write(`${[`file:        ${file}`, 'format:      onnx', 'inputs:', ...described.inputs.map(row), 'outputs:', ...described.outputs.map(row)].join('\n')}\n`);
  return 0;
}
