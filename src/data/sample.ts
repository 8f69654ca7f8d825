/**
 * The unit every dataset yields and every transform maps: one volume with its label and an optional
 * lesion mask, all as plain typed arrays so that the data pipeline needs no tensor library.
 */

/** A volume's shape `[D, H, W]`: slices first, then rows and columns of each slice. */
export type Shape3 = [number, number, number];

/**
 * One case: voxels `[D, H, W]` in row-major order (the last axis varies fastest), its voxel spacing
 * in millimetres per axis, its class label and, where known, a lesion mask of the same shape. A
 * multi-sequence case (pre/post contrast, T1/T2 as channels) holds `channels` volumes on one grid,
 * one after the other: `data` is `[C, D, H, W]`; every transform treats the channels alike (one
 * random draw for all), intensity statistics per channel.
 *
 * @example
 * const s: VolumeSample = { id: 'a', data: new Float32Array(8), shape: [2, 2, 2], spacing: [1, 1, 1], label: 0 };
 */
export interface VolumeSample {
  /** A stable identifier, used in logs and error messages. */
  id: string;
  /** Voxels `[D, H, W]`, row-major (`[C, D, H, W]` with several channels). */
  data: Float32Array;
  /** Channels (volumes on one grid) in `data`; absent means 1. */
  channels?: number;
  /** `[D, H, W]`. */
  shape: Shape3;
  /** Millimetres between voxel centres along `[D, H, W]`. */
  spacing: Shape3;
  /** Class index (0 = negative, 1 = positive for binary tasks). */
  label: number;
  /** Lesion mask `[D, H, W]` (1 inside), aligned with `data`; absent where none is known. */
  mask?: Uint8Array;
}

/** Number of voxels of a `[D, H, W]` shape. */
export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** Throws unless `sample.data` holds exactly `C * D * H * W` values (and its mask `D * H * W`). */
export function checkSample(sample: VolumeSample, what = 'sample'): void {
  const n = voxelCount(sample.shape);
  const c = channelCount(sample);
  if (!(Number.isInteger(c) && c >= 1)) throw new Error(`${what} '${sample.id}': channels must be a positive integer, got ${sample.channels}`);
  if (sample.data.length !== n * c) {
    throw new Error(`${what} '${sample.id}': data has ${sample.data.length} values, shape [${sample.shape.join(', ')}]${c > 1 ? ` with ${c} channels` : ''} needs ${n * c}`);
  }
  if (sample.mask && sample.mask.length !== n) {
    throw new Error(`${what} '${sample.id}': mask has ${sample.mask.length} values, shape [${sample.shape.join(', ')}] needs ${n}`);
  }
}

/** Channels of a sample (1 unless it says otherwise). */
export function channelCount(sample: Pick<VolumeSample, 'channels'>): number {
  return sample.channels ?? 1;
}

/**
 * The channels of a sample as one-channel samples (views on its data, sharing its mask).
 *
 * @example
 * const [pre, post] = splitChannels(sample); // sample.channels === 2
 */
export function splitChannels(sample: VolumeSample): VolumeSample[] {
  const c = channelCount(sample);
  const n = voxelCount(sample.shape);
  const { channels: _c, ...one } = sample;
  return Array.from({ length: c }, (_, k) => ({ ...one, data: sample.data.subarray(k * n, (k + 1) * n) }));
}

/**
 * One-channel samples of one shape as one multi-channel sample (`[C, D, H, W]`), with the first's
 * id, label, spacing and mask.
 *
 * @example
 * const both = joinChannels([pre, post]); // both.channels === 2
 */
export function joinChannels(parts: readonly VolumeSample[]): VolumeSample {
  if (parts.length === 0) throw new Error('joinChannels: expected at least one channel, got none');
  const first = parts[0];
  if (parts.length === 1) return first;
  const n = voxelCount(first.shape);
  const data = new Float32Array(n * parts.length);
  parts.forEach((p, k) => {
    if (p.shape.some((v, a) => v !== first.shape[a]) || p.data.length !== n) {
      throw new Error(`joinChannels: channel ${k} of '${first.id}' has shape [${p.shape.join(', ')}], channel 0 [${first.shape.join(', ')}]`);
    }
    data.set(p.data, k * n);
  });
  return { ...first, data, channels: parts.length };
}

/**
 * Applies a one-channel operation to every channel of a sample (the operation must draw no
 * randomness of its own, so all channels see the same geometry): the sample itself when it has
 * one channel.
 *
 * @example
 * const flipped = perChannel(sample, (s) => flip(s, [2]));
 */
export function perChannel(sample: VolumeSample, op: (one: VolumeSample) => VolumeSample): VolumeSample {
  if (channelCount(sample) === 1) return op(sample);
  return joinChannels(splitChannels(sample).map(op));
}

/**
 * `[C, N]` channel-major values as `[N, C]` channels-last (a network's input layout).
 *
 * @example
 * channelsLast(Float32Array.from([1, 2, 3, 4]), 2); // [1, 3, 2, 4]
 */
export function channelsLast(data: Float32Array, channels: number): Float32Array {
  if (channels === 1) return data;
  const n = data.length / channels;
  const out = new Float32Array(data.length);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) out[i * channels + c] = data[c * n + i];
  return out;
}
