/**
 * Multi-sequence input: a case made of several scans (pre- and post-contrast phases, T1 and T2),
 * and the channels a network takes made of them: a sequence as it is, or the subtraction of two
 * (post minus pre, the paper's breast MRI input).
 */
import type { Volume } from '../io/volume';
import { stackSequences, type Registration } from '../io/volume_registration';
import { checkField } from '../utils/config_fields';
import { channelCount, voxelCount, type VolumeSample } from './sample';

/** One channel of the network's input: a sequence as it is, or `subtract[0] - subtract[1]`. */
export type ChannelSource = { sequence: string } | { subtract: [string, string] };

/**
 * The sequences a case is made of, by name in order (the first one's grid is the input's grid),
 * and how the network's channels are made of them. Stored in a model bundle's preprocessing, so
 * `loadClassifier(bundle).predict({ pre, post })` rebuilds the channels from raw scans.
 */
export interface SequenceInputs {
  /** Sequence names (letters, digits, `_`; a manifest's `path_<name>` columns), first = reference grid. */
  names: string[];
  /** One source per network channel. */
  channels: ChannelSource[];
  /** How sequences on other grids are brought onto the first one's (default 'resample'). */
  registration?: Registration;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

/**
 * Throws unless `inputs` is a valid {@link SequenceInputs} (unique names, channels naming known
 * sequences), with an error naming the field.
 *
 * @example
 * checkSequenceInputs({ names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }] });
 */
export function checkSequenceInputs(inputs: unknown, path = 'inputs'): asserts inputs is SequenceInputs {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) throw new Error(`${path}: expected { names, channels }, got ${JSON.stringify(inputs)?.slice(0, 80)}`);
  const { names, channels, registration, ...rest } = inputs as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new Error(`${path}.${extra[0]}: unknown field (expected names, channels, registration)`);
  if (!Array.isArray(names) || names.length < 1 || names.length > 16) throw new Error(`${path}.names: expected 1 to 16 sequence names, got ${JSON.stringify(names)?.slice(0, 80)}`);
  names.forEach((n, i) => {
    if (typeof n !== 'string' || !NAME.test(n)) throw new Error(`${path}.names[${i}]: expected a name of letters, digits and '_' starting with a letter, got ${JSON.stringify(n)}`);
    if (names.indexOf(n) !== i) throw new Error(`${path}.names[${i}]: '${n}' is named twice`);
  });
  if (!Array.isArray(channels) || channels.length < 1 || channels.length > 64) throw new Error(`${path}.channels: expected 1 to 64 channel sources, got ${JSON.stringify(channels)?.slice(0, 80)}`);
  const known = (at: string, n: unknown): void => {
    if (typeof n !== 'string' || !names.includes(n)) throw new Error(`${at}: ${JSON.stringify(n)} is not one of the sequences ${names.join(', ')}`);
  };
  channels.forEach((c, i) => {
    const at = `${path}.channels[${i}]`;
    const o = c as Record<string, unknown> | null;
    if (o && typeof o === 'object' && Object.keys(o).length === 1 && 'sequence' in o) known(`${at}.sequence`, o.sequence);
    else if (o && typeof o === 'object' && Object.keys(o).length === 1 && 'subtract' in o) {
      const s = o.subtract;
      if (!Array.isArray(s) || s.length !== 2) throw new Error(`${at}.subtract: expected [minuend, subtrahend] (e.g. ['post', 'pre']), got ${JSON.stringify(s)}`);
      known(`${at}.subtract[0]`, s[0]);
      known(`${at}.subtract[1]`, s[1]);
      if (s[0] === s[1]) throw new Error(`${at}.subtract: a sequence minus itself is zero`);
    } else throw new Error(`${at}: expected { sequence: name } or { subtract: [minuend, subtrahend] }, got ${JSON.stringify(c)}`);
  });
  if (registration !== undefined) checkField(`${path}.registration`, registration, { type: 'enum', values: ['same-grid', 'resample'] });
}

/**
 * Channel sources written as text, comma-separated: `post-pre` (subtraction), `t1` (a sequence),
 * e.g. `post-pre,post`; checked against the sequence names. Empty or absent: every sequence as
 * a channel.
 *
 * @example
 * parseChannelSources('post-pre', ['pre', 'post']); // [{ subtract: ['post', 'pre'] }]
 */
export function parseChannelSources(text: string | undefined, names: readonly string[]): ChannelSource[] {
  if (text === undefined || text.trim() === '') return names.map((sequence) => ({ sequence }));
  const sources = text.split(',').map((part): ChannelSource => {
    const p = part.trim();
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s*-\s*([A-Za-z][A-Za-z0-9_]*)$/.exec(p);
    if (m) return { subtract: [m[1], m[2]] };
    if (NAME.test(p)) return { sequence: p };
    throw new Error(`channel '${p}': expected a sequence name or a subtraction 'a-b' of two (sequences: ${names.join(', ')})`);
  });
  checkSequenceInputs({ names: [...names], channels: sources }, 'channels');
  return sources;
}

/**
 * Channel sources as {@link parseChannelSources} reads them (`post-pre,post`).
 *
 * @example
 * formatChannelSources([{ subtract: ['post', 'pre'] }]); // 'post-pre'
 */
export function formatChannelSources(sources: readonly ChannelSource[]): string {
  return sources.map((s) => ('subtract' in s ? `${s.subtract[0]}-${s.subtract[1]}` : s.sequence)).join(',');
}

/**
 * The channels `[C, N]` made of sequences on one grid (`N` voxels each), in the order of `sources`.
 *
 * @example
 * const sub = combineChannels({ pre, post }, [{ subtract: ['post', 'pre'] }]); // post - pre
 */
export function combineChannels(sequences: Readonly<Record<string, Float32Array>>, sources: readonly ChannelSource[]): Float32Array {
  const arrays = Object.values(sequences);
  if (arrays.length === 0) throw new Error('combineChannels: expected at least one sequence, got none');
  const n = arrays[0].length;
  const get = (name: string): Float32Array => {
    const a = sequences[name];
    if (!a) throw new Error(`combineChannels: no sequence '${name}' (got ${Object.keys(sequences).join(', ')})`);
    if (a.length !== n) throw new Error(`combineChannels: sequence '${name}' has ${a.length} voxels, the others ${n}`);
    return a;
  };
  const out = new Float32Array(n * sources.length);
  sources.forEach((s, c) => {
    const dst = out.subarray(c * n, (c + 1) * n);
    if ('sequence' in s) dst.set(get(s.sequence));
    else {
      const [a, b] = [get(s.subtract[0]), get(s.subtract[1])];
      for (let i = 0; i < n; i++) dst[i] = a[i] - b[i];
    }
  });
  return out;
}

/** The volumes of a case by sequence name: an object, or an array in the order of `names`. */
export type SequenceVolumes = Readonly<Record<string, Volume>> | readonly Volume[];

function byName<T>(given: Readonly<Record<string, T>> | readonly T[], names: readonly string[], what: string): T[] {
  if (Array.isArray(given)) {
    if (given.length !== names.length) throw new Error(`${what}: expected ${names.length} scans (${names.join(', ')}), got ${given.length}`);
    return [...given];
  }
  const record = given as Readonly<Record<string, T>>;
  const missing = names.filter((n) => record[n] === undefined);
  const unknown = Object.keys(record).filter((n) => !names.includes(n));
  if (missing.length || unknown.length) {
    throw new Error(`${what}: expected the sequences ${names.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}${unknown.length ? `; unknown ${unknown.join(', ')}` : ''}`);
  }
  return names.map((n) => record[n]);
}

/**
 * The scans of one case as the network's multi-channel volume: the sequences registered onto the
 * first one's grid (`inputs.registration`), then the channels made as `inputs.channels` says. A
 * single channel comes back as a plain volume. `meta.sequences` records where each came from.
 *
 * @example
 * const input = combineSequences({ pre, post }, { names: ['pre', 'post'], channels: [{ subtract: ['post', 'pre'] }] });
 */
export function combineSequences(volumes: SequenceVolumes, inputs: SequenceInputs): Volume {
  checkSequenceInputs(inputs);
  const list = byName(volumes, inputs.names, 'combineSequences');
  const stacked = stackSequences(list, { names: inputs.names, registration: inputs.registration });
  const n = voxelCount(stacked.shape);
  const arrays: Record<string, Float32Array> = {};
  inputs.names.forEach((name, k) => (arrays[name] = stacked.data.subarray(k * n, (k + 1) * n)));
  const data = combineChannels(arrays, inputs.channels);
  const channels = inputs.channels.length;
  const out: Volume = { ...stacked, data, meta: { ...stacked.meta, channelSources: formatChannelSources(inputs.channels) } };
  if (channels > 1) out.channels = channels;
  else delete out.channels;
  return out;
}

/**
 * One-channel samples of one case (same shape) as the network's sample: the channels made as
 * `sources` says, with the first sample's id, label, spacing and mask.
 *
 * @example
 * const sub = combineSequenceSamples({ pre, post }, [{ subtract: ['post', 'pre'] }]);
 */
export function combineSequenceSamples(samples: Readonly<Record<string, VolumeSample>>, sources: readonly ChannelSource[]): VolumeSample {
  const entries = Object.entries(samples);
  if (entries.length === 0) throw new Error('combineSequenceSamples: expected at least one sequence, got none');
  const [, first] = entries[0];
  const arrays: Record<string, Float32Array> = {};
  for (const [name, s] of entries) {
    if (channelCount(s) !== 1) throw new Error(`combineSequenceSamples: '${name}' of '${s.id}' has ${channelCount(s)} channels; expected one per sequence`);
    if (s.shape.some((v, a) => v !== first.shape[a])) throw new Error(`combineSequenceSamples: '${name}' of '${s.id}' has shape [${s.shape.join(', ')}], '${entries[0][0]}' [${first.shape.join(', ')}]`);
    arrays[name] = s.data;
  }
  const { channels: _c, ...rest } = first;
  return { ...rest, data: combineChannels(arrays, sources), ...(sources.length > 1 ? { channels: sources.length } : {}) };
}
