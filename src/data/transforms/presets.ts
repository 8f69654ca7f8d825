import { Compose, type Transform } from '../transform';
import { RandomInvert, RandomNoise } from './intensity';
import { RandomFlip, RandomRotation } from './spatial';

/**
 * The authors' training augmentation as one pipeline: a random flip on each axis (p = 0.5), a
 * random rotation about the slice axis of 0-90 degrees with minimum-value padding, Gaussian noise
 * with std ~ U(0, maxNoiseStd) (0.1 for CT as LIDC, the authors use 0.25 for MRI), and intensity
 * negation with p = 0.5. Apply after intensity preprocessing (the noise level assumes unit-range
 * intensities).
 *
 * @example
 * const train = syntheticDataset('chest', { n: 200, seed: 1, transform: paperAugmentation() });
 */
export function paperAugmentation(maxNoiseStd = 0.1): Compose {
  return new Compose([new RandomFlip([0.5, 0.5, 0.5]), new RandomRotation(0, 90), new RandomNoise(maxNoiseStd), new RandomInvert(0.5)]);
}

/** The training augmentation presets: none, random flips on every axis, or the authors' ({@link paperAugmentation}). */
export type AugmentKind = 'none' | 'flip' | 'paper';

/** The augmentation names {@link augmentation} accepts. */
export const AUGMENT_KINDS: readonly AugmentKind[] = ['none', 'flip', 'paper'];

/**
 * The transform of an augmentation preset, or null for 'none'.
 *
 * @example
 * augmentation('flip'); // RandomFlip([0.5, 0.5, 0.5])
 */
export function augmentation(kind: AugmentKind): Transform | null {
  if (kind === 'flip') return new RandomFlip([0.5, 0.5, 0.5]);
  if (kind === 'paper') return paperAugmentation();
  if (kind === 'none') return null;
  throw new Error(`augmentation: expected one of ${AUGMENT_KINDS.join(', ')}, got '${String(kind)}'`);
}
