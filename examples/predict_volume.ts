/**
 * Classify one MRI/CT volume with MST-DINOv2-S.
 *
 * Run: npx esbuild examples/predict_volume.ts --bundle --platform=node --packages=external \
 *        --outfile=/tmp/predict_volume.cjs && node /tmp/predict_volume.cjs weights.safetensors volume.npy
 * The weights are a PyTorch state dict of the authors' DinoV2ClassifierSlice saved as safetensors;
 * the volume is a float32 .npy array [D, H, W] (H and W multiples of 14, e.g. 224).
 */
import * as tf from '@tensorflow/tfjs';
// In an application all of these come from 'mst-ts'.
import { useDefaultBackend } from '../src/backend';
import { npyToTensor, readNpy } from '../src/io/npy';
import { loadSafetensors } from '../src/io/safetensors';
import { dinov2_vits14 } from '../src/models/dinov2';
import { MedicalSliceTransformer } from '../src/models/medical_slice_transformer';

async function main(weightsPath: string, volumePath: string): Promise<void> {
  await useDefaultBackend();
  const model = new MedicalSliceTransformer({ encoder: dinov2_vits14(), numClasses: 2 });
  const weights = await loadSafetensors(weightsPath);
  model.loadStateDict(weights);
  tf.dispose(Object.values(weights));

  const volume = npyToTensor(await readNpy(volumePath), 'float32'); // [D, H, W]
  const { probabilities } = await model.predict(volume);
  console.log(`P(positive) = ${probabilities[1].toFixed(4)}`);

  // Which slices the slice transformer looked at: CLS row of its attention, mean over heads.
  const out = model.forward(tf.expandDims(volume, 0), { attention: true });
  const sliceWeights = tf.tidy(() => {
    const [, heads, tokens] = (out.sliceAttention as tf.Tensor4D).shape;
    const row = tf.slice(out.sliceAttention as tf.Tensor4D, [0, 0, 0, 1], [1, heads, 1, tokens - 1]);
    return tf.mean(tf.div(row, tf.sum(row, -1, true)), [0, 1, 2]);
  });
  const top = Array.from(await sliceWeights.data())
    .map((w, d) => [d, w] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  console.log('most attended slices:', top.map(([d, w]) => `${d} (${w.toFixed(3)})`).join(', '));
  tf.dispose([volume, sliceWeights, out.logits, out.sliceAttention as tf.Tensor, ...(out.encoderAttentions ?? []), out.planeAttention as tf.Tensor]);
  model.dispose();
}

const [weightsPath, volumePath] = process.argv.slice(2);
if (!weightsPath || !volumePath) {
  console.error('usage: examples/predict_volume.ts <weights.safetensors> <volume.npy>');
  process.exit(2);
}
main(weightsPath, volumePath).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
