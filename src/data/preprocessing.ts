import { canonicalPermutation, permuteFlip, type Affine, type Volume } from '../io/volume';
import { checkField, checkFields, type FieldRules } from '../utils/config_fields';
import { Rng } from '../utils/rng';
import { channelCount, type Shape3, type VolumeSample } from './sample';
import { checkSequenceInputs, type SequenceInputs } from './sequences';
import { Compose, type Transform } from './transform';
import { ClampRescale, ZNormalize } from './transforms/intensity';
import { CropOrPad, Resample, ResizeTo } from './transforms/spatial';

/** One step of a model's preprocessing, as JSON (a model bundle stores a list of them). */
export type PreprocessingStep =
  /** Trilinear resampling to a voxel spacing in mm `[D, H, W]` (null keeps an axis). */
  | { op: 'resample'; spacing: [number | null, number | null, number | null] }
  /** Crop or pad to `[D, H, W]` around the volume's centre (pad with `padValue`, default the volume's minimum). */
  | { op: 'crop-or-pad'; size: Shape3; padValue?: number }
  /** Trilinear resize to `[D, H, W]` voxels (the spacing grows accordingly). */
  | { op: 'resize'; size: Shape3 }
  /** Clamp to `[low, high]` and rescale to `[outLow, outHigh]` (default -1..1): a CT window. */
  | { op: 'clip-rescale'; low: number; high: number; outLow?: number; outHigh?: number }
  /** Clip to percentiles, subtract the mean, divide by the std (MRI; default percentiles 0.5 and 99.5). */
  | { op: 'z-normalize'; percentiles?: [number, number]; eps?: number; maskExtremes?: boolean };

/**
 * How a model's inputs were prepared, so a raw scan can be prepared the same way: the orientation
 * the readers give (`canonical`: the slice axis first, each slice in the radiological display
 * layout, see `toCanonical`; `as-stored`: the file's own voxel order), then the steps in order.
 * The slice axis and count follow from the orientation and a `crop-or-pad` step; `channels` is
 * what the network takes per voxel. A model of several sequences (pre/post contrast, T1/T2) says
 * which in `inputs`: they are registered onto the first one's grid and made into the channels
 * first; the steps then treat every channel alike (intensity steps per channel).
 */
export interface PreprocessingSpec {
  orientation: 'canonical' | 'as-stored';
  steps: PreprocessingStep[];
  /** Channels per voxel the network takes (1: gray; an MST repeats it to its encoder's channels). */
  channels: number;
  /** The sequences of a multi-sequence input and how its channels are made (absent: one scan). */
  inputs?: SequenceInputs;
}

const STEP_RULES: Record<PreprocessingStep['op'], FieldRules> = {
  resample: { op: { type: 'string' } },
  'crop-or-pad': { op: { type: 'string' }, size: { type: 'ints', length: 3, min: 1, max: 4096 }, padValue: { type: 'number', optional: true } },
  resize: { op: { type: 'string' }, size: { type: 'ints', length: 3, min: 1, max: 4096 } },
  'clip-rescale': {
    op: { type: 'string' },
    low: { type: 'number' },
    high: { type: 'number' },
    outLow: { type: 'number', optional: true },
    outHigh: { type: 'number', optional: true },
  },
  'z-normalize': { op: { type: 'string' }, eps: { type: 'number', min: 0, max: 1, optional: true }, maskExtremes: { type: 'boolean', optional: true } },
};

/**
 * Throws unless `spec` is a valid {@link PreprocessingSpec}, with an error naming the field.
 *
 * @example
 * checkPreprocessing({ orientation: 'canonical', steps: [{ op: 'crop-or-pad', size: [8, 16, 16] }], channels: 1 });
 */
export function checkPreprocessing(spec: unknown, path = 'preprocessing'): asserts spec is PreprocessingSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new Error(`${path}: expected an object, got ${JSON.stringify(spec)?.slice(0, 80)}`);
  const { steps, inputs, ...rest } = spec as Record<string, unknown>;
  checkFields(path, rest, { orientation: { type: 'enum', values: ['canonical', 'as-stored'] }, channels: { type: 'int', min: 1, max: 64 } });
  if (inputs !== undefined) {
    checkSequenceInputs(inputs, `${path}.inputs`);
    const made = inputs.channels.length;
    if (made !== rest.channels) throw new Error(`${path}.channels: ${rest.channels}, but ${path}.inputs makes ${made} channel(s) of ${inputs.names.join(', ')}`);
  }
  if (!Array.isArray(steps) || steps.length > 32) throw new Error(`${path}.steps: expected a list of at most 32 steps, got ${JSON.stringify(steps)?.slice(0, 80)}`);
  steps.forEach((step, i) => {
    const at = `${path}.steps[${i}]`;
    const op = (step as { op?: unknown } | null)?.op;
    if (typeof op !== 'string' || !(op in STEP_RULES)) throw new Error(`${at}.op: expected one of ${Object.keys(STEP_RULES).join(', ')}, got ${JSON.stringify(op)}`);
    const { spacing, percentiles, ...fields } = step as Record<string, unknown>;
    checkFields(at, fields, STEP_RULES[op as PreprocessingStep['op']]);
    if (op === 'resample') {
      if (!Array.isArray(spacing) || spacing.length !== 3) throw new Error(`${at}.spacing: expected [D, H, W] in mm (null keeps an axis), got ${JSON.stringify(spacing)}`);
      spacing.forEach((v, a) => v === null || checkField(`${at}.spacing[${a}]`, v, { type: 'number', min: 1e-3, max: 1e3 }));
    } else if (spacing !== undefined) throw new Error(`${at}.spacing: unknown field for '${op}'`);
    if (op === 'z-normalize' && percentiles !== undefined) {
      if (!Array.isArray(percentiles) || percentiles.length !== 2) throw new Error(`${at}.percentiles: expected [low, high] in [0, 100], got ${JSON.stringify(percentiles)}`);
      percentiles.forEach((v, a) => checkField(`${at}.percentiles[${a}]`, v, { type: 'number', min: 0, max: 100 }));
    } else if (percentiles !== undefined && op !== 'z-normalize') throw new Error(`${at}.percentiles: unknown field for '${op}'`);
    if (op === 'clip-rescale' && !((step as { high: number }).high > (step as { low: number }).low)) throw new Error(`${at}: expected high > low`);
  });
}

/** The step as a {@link Transform}. */
function stepTransform(step: PreprocessingStep): Transform {
  switch (step.op) {
    case 'resample':
      return new Resample(step.spacing);
    case 'resize':
      return new ResizeTo(step.size);
    case 'crop-or-pad':
      return new CropOrPad(step.size, { centre: 'centre', padValue: step.padValue });
    case 'clip-rescale':
      return new ClampRescale(step.low, step.high, step.outLow ?? -1, step.outHigh ?? 1);
    case 'z-normalize':
      return new ZNormalize({ percentiles: step.percentiles, eps: step.eps, maskExtremes: step.maskExtremes });
  }
}

/**
 * The steps of a spec as one {@link Transform} (for datasets whose volumes are already oriented).
 *
 * @example
 * const t = preprocessingTransform({ orientation: 'canonical', steps: [{ op: 'z-normalize' }], channels: 1 });
 */
export function preprocessingTransform(spec: PreprocessingSpec): Transform {
  return new Compose(spec.steps.map(stepTransform));
}

/** The volume size a spec fixes (from its last `crop-or-pad` or `resize`), or null. */
export function preprocessedSize(spec: PreprocessingSpec): Shape3 | null {
  const sized = spec.steps.filter((s): s is Extract<PreprocessingStep, { op: 'crop-or-pad' | 'resize' }> => s.op === 'crop-or-pad' || s.op === 'resize');
  return sized.length ? ([...sized[sized.length - 1].size] as Shape3) : null;
}

/** One geometric step as done on a volume, enough to map a map back onto its input grid. */
type GridStep =
  | { kind: 'orient'; perm: number[]; flips: boolean[]; shapeBefore: Shape3 }
  | { kind: 'resample'; shapeBefore: Shape3; shapeAfter: Shape3; spacingBefore: Shape3; spacingAfter: Shape3 }
  | { kind: 'crop'; shapeBefore: Shape3; start: Shape3; size: Shape3 };

/** A volume prepared for the network, and how to bring a map of it back to the input's grid. */
export interface PreparedVolume {
  /** The network's input `[D, H, W]` (`[C, D, H, W]` data with several channels) with its spacing. */
  sample: VolumeSample;
  /** The input's shape and affine (where the map is brought back to). */
  inputShape: Shape3;
  inputAffine: Affine;
  /** Geometric steps in the order they were applied. */
  steps: GridStep[];
}

/**
 * Prepares a volume as the spec says: reorients it (a volume read with `canonical: false` is
 * brought to the canonical orientation here, so the steps can be undone), then applies the steps.
 * The result remembers the geometry so {@link toInputGrid} can put a saliency map back onto the
 * input's own voxel grid and affine.
 *
 * @example
 * const prepared = prepareVolume(await readVolume('scan.nii.gz', { canonical: false }), spec);
 * const saliencyOnScan = toInputGrid(saliency, prepared); // same shape and voxel order as the file
 */
export function prepareVolume(volume: Volume, spec: PreprocessingSpec): PreparedVolume {
  const channels = volume.channels ?? 1;
  if (channels !== spec.channels && !(channels === 1 && !spec.inputs)) {
    const made = spec.inputs ? ` made of the sequences ${spec.inputs.names.join(', ')} (combineSequences)` : '';
    throw new Error(`prepareVolume: ${volume.source} has ${channels} channel(s); the model takes ${spec.channels}${made}`);
  }
  const steps: GridStep[] = [];
  let v = volume;
  // Arrays without geometry (npy: an assumed affine) are taken as stored, as the readers do.
  if (spec.orientation === 'canonical' && volume.meta?.geometry !== 'assumed') {
    const { perm, flips } = canonicalPermutation(volume.affine, 0);
    if (!perm.every((p, i) => p === i) || flips.some((f) => f)) {
      steps.push({ kind: 'orient', perm, flips, shapeBefore: [...volume.shape] as Shape3 });
      v = permuteFlip(volume, perm, flips);
    }
  }
  let sample: VolumeSample = { id: volume.source, data: v.data, shape: [...v.shape] as Shape3, spacing: [...v.spacing] as Shape3, label: 0, ...(channels > 1 ? { channels } : {}) };
  const rng = new Rng(0);
  const resample = (t: Resample): void => {
    const before = sample;
    sample = t.apply(sample, rng);
    steps.push({ kind: 'resample', shapeBefore: before.shape, shapeAfter: sample.shape, spacingBefore: before.spacing, spacingAfter: sample.spacing });
  };
  const crop = (t: CropOrPad): void => {
    steps.push({ kind: 'crop', shapeBefore: sample.shape, start: t.start(sample, rng), size: [...t.size] as Shape3 });
    sample = t.apply(sample, rng);
  };
  for (const step of spec.steps) {
    const t = stepTransform(step);
    if (t instanceof Resample) resample(t);
    else if (t instanceof CropOrPad) crop(t);
    else if (t instanceof ResizeTo) {
      if (sample.shape.some((n, a) => n !== t.size[a])) {
        const [r, c] = t.parts(sample);
        resample(r);
        crop(c);
      }
    } else sample = t.apply(sample, rng);
  }
  return { sample, inputShape: [...volume.shape] as Shape3, inputAffine: volume.affine.map((r) => [...r]), steps };
}

/**
 * A map over the network's input `[D, H, W]` (a saliency volume) brought back onto the input's
 * own grid: crops undone (zeros where the input was cut away), resampling undone trilinearly,
 * reorientation undone. The result has the input's shape and voxel order, so with the input's
 * affine it overlays the original file in a viewer.
 *
 * @example
 * const onScan = toInputGrid(saliency, prepared); // Float32Array of the scan's voxel count
 */
export function toInputGrid(map: Float32Array, prepared: PreparedVolume): Float32Array {
  const n = prepared.sample.shape.reduce((a, b) => a * b, 1);
  if (map.length !== n) throw new Error(`toInputGrid: the map has ${map.length} values, the network input [${prepared.sample.shape.join(', ')}] has ${n}`);
  let data = map;
  let shape = prepared.sample.shape;
  for (const step of [...prepared.steps].reverse()) {
    if (step.kind === 'crop') {
      data = uncrop(data, step.size, step.shapeBefore, step.start);
      shape = step.shapeBefore;
    } else if (step.kind === 'resample') {
      data = resampleBack(data, step.shapeAfter, step.shapeBefore, step.spacingAfter, step.spacingBefore);
      shape = step.shapeBefore;
    } else {
      data = unpermute(data, shape, step.perm, step.flips, step.shapeBefore);
      shape = step.shapeBefore;
    }
  }
  return data;
}

/** Places a `size` window that started at `start` back into zeros of `shape`. */
function uncrop(data: Float32Array, size: Shape3, shape: Shape3, start: Shape3): Float32Array {
  const [D, H, W] = shape;
  const [d2, h2, w2] = size;
  const out = new Float32Array(D * H * W);
  for (let d = 0; d < d2; d++) {
    const sd = d + start[0];
    if (sd < 0 || sd >= D) continue;
    for (let h = 0; h < h2; h++) {
      const sh = h + start[1];
      if (sh < 0 || sh >= H) continue;
      for (let w = 0; w < w2; w++) {
        const sw = w + start[2];
        if (sw >= 0 && sw < W) out[(sd * H + sh) * W + sw] = data[(d * h2 + h) * w2 + w];
      }
    }
  }
  return out;
}

/**
 * Samples a map on a resampled grid back at the original voxel centres: original voxel `i` sat at
 * resampled position `i * before / after` (the inverse of `Resample`'s `j * after / before`).
 */
function resampleBack(data: Float32Array, from: Shape3, to: Shape3, spacingFrom: Shape3, spacingTo: Shape3): Float32Array {
  const axis = (n: number, m: number, ratio: number) => {
    const i0 = new Int32Array(m);
    const i1 = new Int32Array(m);
    const f = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const p = Math.min(i * ratio, n - 1);
      i0[i] = Math.floor(p);
      i1[i] = Math.min(i0[i] + 1, n - 1);
      f[i] = p - i0[i];
    }
    return { i0, i1, f };
  };
  const [D, H, W] = from;
  const ad = axis(D, to[0], spacingTo[0] / spacingFrom[0]);
  const ah = axis(H, to[1], spacingTo[1] / spacingFrom[1]);
  const aw = axis(W, to[2], spacingTo[2] / spacingFrom[2]);
  const out = new Float32Array(to[0] * to[1] * to[2]);
  const at = (d: number, h: number, w: number) => data[(d * H + h) * W + w];
  let o = 0;
  for (let d = 0; d < to[0]; d++) {
    for (let h = 0; h < to[1]; h++) {
      for (let w = 0; w < to[2]; w++, o++) {
        const [d0, d1, fd] = [ad.i0[d], ad.i1[d], ad.f[d]];
        const [h0, h1, fh] = [ah.i0[h], ah.i1[h], ah.f[h]];
        const [w0, w1, fw] = [aw.i0[w], aw.i1[w], aw.f[w]];
        const c0 = (1 - fh) * ((1 - fw) * at(d0, h0, w0) + fw * at(d0, h0, w1)) + fh * ((1 - fw) * at(d0, h1, w0) + fw * at(d0, h1, w1));
        const c1 = (1 - fh) * ((1 - fw) * at(d1, h0, w0) + fw * at(d1, h0, w1)) + fh * ((1 - fw) * at(d1, h1, w0) + fw * at(d1, h1, w1));
        out[o] = (1 - fd) * c0 + fd * c1;
      }
    }
  }
  return out;
}

/** The inverse of `permuteFlip(perm, flips)`: a `shape` array back to `shapeBefore`'s voxel order. */
function unpermute(data: Float32Array, shape: Shape3, perm: number[], flips: boolean[], shapeBefore: Shape3): Float32Array {
  const out = new Float32Array(data.length);
  const [, H, W] = shape;
  const [, Hb, Wb] = shapeBefore;
  const idx = [0, 0, 0];
  for (let i = 0; i < shape[0]; i++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let k = 0; k < shape[2]; k++) {
        const o = [i, j, k];
        for (let a = 0; a < 3; a++) idx[perm[a]] = flips[a] ? shapeBefore[perm[a]] - 1 - o[a] : o[a];
        out[(idx[0] * Hb + idx[1]) * Wb + idx[2]] = data[(i * H + j) * W + k];
      }
    }
  }
  return out;
}
