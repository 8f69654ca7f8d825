import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setBackend, useDefaultBackend } from '../backend';
import { explainJsonFields } from '../explain/explain_json';
import { npyToTensor, readNpy } from '../io/npy';
import { loadRegistryModel, MODEL_REGISTRY, predictVolume } from '../models/registry';
import { UsageError, type CliCommand } from './command';

const USAGE = `Usage: mst-ts predict --arch <name> --weights <file.safetensors> --input <volume.npy> [options]

Classifies one volume with a trained model.

Options:
  --arch <name>          architecture (required): ${[...MODEL_REGISTRY.keys()].join(', ')}
  --weights <file>       PyTorch-named weights as .safetensors (required; loaded strictly)
  --input <file>         the volume as a .npy array [D, H, W], slices along the first axis (required;
                         any numeric dtype, converted to float32)
  --num-classes <n>      output classes of the model (default 2)
  --backend <name>       tfjs backend: wasm (Node default), cpu, webgpu, tensorflow
  --json                 print {"arch": ..., "logits": [...], "probabilities": [...]} on one line
  --explain              with --json, add explainMethod, sliceAttention [D] and planeAttention
                         [D][h][w] (MST), or saliency [d][h][w] (ResNet3D), and saliencyShape
  -h, --help             this text

Without --json it prints the arch, the logits and the probabilities as text.`;

async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: 'string' },
        weights: { type: 'string' },
        input: { type: 'string' },
        'num-classes': { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean', default: false },
        explain: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`predict: ${(e as Error).message}\n\n${USAGE}`);
  }
  const arch = values.arch as string | undefined;
  const weights = values.weights as string | undefined;
  const input = values.input as string | undefined;
  for (const [flag, v] of [['--arch', arch], ['--weights', weights], ['--input', input]] as const) {
    if (!v) throw new UsageError(`predict: ${flag} is required\n\n${USAGE}`);
  }
  if (values.explain && !values.json) throw new UsageError('predict: --explain needs --json (the maps are written as JSON fields)');
  if (!MODEL_REGISTRY.has(arch as string)) throw new UsageError(`predict: unknown --arch '${arch}'; expected one of ${[...MODEL_REGISTRY.keys()].join(', ')}`);
  const numClasses = values['num-classes'] === undefined ? 2 : Number(values['num-classes']);
  if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new UsageError(`predict: --num-classes must be a positive integer, got '${values['num-classes']}'`);

  if (values.backend) await setBackend(values.backend as string);
  else await useDefaultBackend();

  const npy = await readNpy(input as string);
  if (npy.shape.length !== 3) throw new Error(`predict: ${input}: expected a volume [D, H, W], got shape [${npy.shape.join(', ')}]`);
  const model = await loadRegistryModel(arch as string, weights as string, { numClasses });
  const volume = npyToTensor(npy, 'float32');
  try {
    const { logits, probabilities } = await predictVolume(model, volume);
    const explained = values.explain ? await explainJsonFields(model, volume) : {};
    if (values.json) process.stdout.write(`${JSON.stringify({ arch, logits, probabilities, ...explained })}\n`);
    else process.stdout.write(`arch: ${arch}\nlogits: ${logits.join(' ')}\nprobabilities: ${probabilities.join(' ')}\n`);
  } finally {
    tf.dispose(volume);
    model.dispose();
  }
  return 0;
}

/** `mst-ts predict`: one volume through a registry model with weights from a safetensors file. */
export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'classify one .npy volume with a trained model (--arch, --weights, --input)',
  usage: USAGE,
  run,
};
