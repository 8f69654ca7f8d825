/**
 * Which images of a DICOM folder make one volume: grouped by SeriesInstanceUID, then, where a
 * series repeats its slice positions, split into phases (dynamic contrast, cardiac phases, repeated
 * acquisitions, echoes, diffusion b-values) so two phases are never stacked into one volume.
 */
import type { DicomImage } from './dicom_image';

/** The header fields that tell the phases of one series apart, in the order they are tried. */
export const DICOM_PHASE_KEYS = ['temporalPositionIdentifier', 'triggerTime', 'acquisitionNumber', 'echoNumber', 'diffusionBValue'] as const;

/** One of {@link DICOM_PHASE_KEYS}. */
export type DicomPhaseKey = (typeof DICOM_PHASE_KEYS)[number];

const KEY_NAMES: Record<DicomPhaseKey, string> = {
  temporalPositionIdentifier: 'TemporalPositionIdentifier (0020,0100)',
  triggerTime: 'TriggerTime (0018,1060)',
  acquisitionNumber: 'AcquisitionNumber (0020,0012)',
  echoNumber: 'EchoNumbers (0018,0086)',
  diffusionBValue: 'DiffusionBValue (0018,9087)',
};

/** One series of a folder, as `mst-ts info --json` lists it. */
export interface DicomSeriesInfo {
  /** SeriesInstanceUID. */
  uid: string;
  /** SeriesDescription ('' when absent). */
  description: string;
  seriesNumber: number | null;
  modality: string;
  /** Images (files, or frames of multi-frame files) in the series, all phases together. */
  images: number;
  /** Number of phases: 1 unless the series repeats its positions. */
  phases: number;
  /** The header field the phases differ in (a {@link DicomPhaseKey}), or null for one phase. */
  phaseKey: DicomPhaseKey | null;
  /** That field's value in each phase, in phase order (ascending); `[]` for one phase. */
  phaseValues: (number | null)[];
  /** Slices of one phase (of the largest, if they differ). */
  slices: number;
  /** `[slices, rows, columns]` of one phase, in the files' own order (before reorientation). */
  shape: [number, number, number];
}

/** Options choosing one volume of a folder. */
export interface DicomSelectOptions {
  /** Which series (SeriesInstanceUID); default the one with the most images. */
  seriesInstanceUid?: string;
  /**
   * Which phase of a series that holds several (0-based, in ascending order of the field that
   * separates them, see {@link DicomSeriesInfo.phaseKey}), or `'first'`. With several phases and
   * no choice, reading is refused with the phases listed: merging them would corrupt the volume.
   */
  phase?: number | 'first';
}

interface Phase<T> {
  value: number | null;
  items: T[];
}

/** Appends `value` to the list at `key`, creating it. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function positionKey(h: DicomImage): string {
  return h.position ? h.position.map((v) => v.toFixed(2)).join(',') : '';
}

function repeatsPositions(items: { header: DicomImage }[]): boolean {
  const seen = new Set<string>();
  for (const { header } of items) {
    if (!header.position) return false;
    const k = positionKey(header);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

/**
 * Splits one series into phases. A series whose images all sit at distinct positions is one phase
 * (a CT whose slices carry different AcquisitionNumbers stays whole). Where positions repeat, the
 * first of {@link DICOM_PHASE_KEYS} that every image carries and that leaves each phase without a
 * repeated position separates them; if none does, the series stays one phase and stacking it names
 * the duplicated files.
 *
 * @example
 * const { key, phases } = splitDicomPhases(items); // key 'temporalPositionIdentifier', 2 phases
 */
export function splitDicomPhases<T extends { header: DicomImage }>(items: T[]): { key: DicomPhaseKey | null; phases: Phase<T>[] } {
  if (!repeatsPositions(items)) return { key: null, phases: [{ value: null, items }] };
  for (const key of DICOM_PHASE_KEYS) {
    if (items.some((x) => x.header[key] === null)) continue;
    const groups = new Map<number, T[]>();
    for (const x of items) {
      const v = x.header[key] as number;
      pushTo(groups, v, x);
    }
    if (groups.size < 2 || [...groups.values()].some((g) => repeatsPositions(g))) continue;
    const phases = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([value, g]) => ({ value, items: g }));
    return { key, phases };
  }
  return { key: null, phases: [{ value: null, items }] };
}

function describe(uid: string, items: { header: DicomImage }[]): DicomSeriesInfo {
  const h = items[0].header;
  const { key, phases } = splitDicomPhases(items);
  const slices = Math.max(...phases.map((p) => p.items.reduce((s, x) => s + x.header.frames, 0)));
  return {
    uid,
    description: h.seriesDescription,
    seriesNumber: h.seriesNumber,
    modality: h.modality,
    images: items.reduce((s, x) => s + x.header.frames, 0),
    phases: phases.length,
    phaseKey: key,
    phaseValues: key ? phases.map((p) => p.value) : [],
    slices,
    shape: [slices, h.rows, h.columns],
  };
}

/**
 * Lists the series of a folder's image headers, largest first, each with its phases.
 *
 * @example
 * listDicomSeries(headers.map((h) => ({ header: h }))); // [{ uid, description, phases, slices, shape, ... }]
 */
export function listDicomSeries(items: { header: DicomImage }[]): DicomSeriesInfo[] {
  const bySeries = new Map<string, { header: DicomImage }[]>();
  for (const x of items) pushTo(bySeries, x.header.seriesInstanceUid, x);
  return [...bySeries.entries()].map(([uid, list]) => describe(uid, list)).sort((a, b) => b.images - a.images);
}

/**
 * Chooses the images of one volume: the series (`seriesInstanceUid`, else the one with the most
 * images), then its phase (required where it has several). `series` lists every series found.
 *
 * @example
 * const { chosen, series, phase } = selectDicomImages(items, 'study/', { phase: 1 });
 */
export function selectDicomImages<T>(
  items: { header: DicomImage; item: T }[],
  source: string,
  options: DicomSelectOptions = {},
): { chosen: T[]; series: DicomSeriesInfo[]; phase: { index: number; of: number; key: DicomPhaseKey; value: number | null } | null } {
  const series = listDicomSeries(items);
  const uid = options.seriesInstanceUid ?? series[0].uid;
  const inSeries = items.filter((x) => x.header.seriesInstanceUid === uid);
  if (inSeries.length === 0) {
    throw new Error(`${source}: no series with SeriesInstanceUID '${uid}'; found ${series.map((s) => `${s.uid} (${s.images} images${s.description ? `, '${s.description}'` : ''})`).join(', ')}`);
  }
  const { key, phases } = splitDicomPhases(inSeries);
  if (!key) {
    if (typeof options.phase === 'number' && options.phase !== 0) throw new Error(`${source}: series ${uid} has one phase; --phase ${options.phase} does not exist (phases count from 0)`);
    return { chosen: inSeries.map((x) => x.item), series, phase: null };
  }
  const listing = phases.map((p, i) => `${i}: ${p.value} (${p.items.length} images)`).join(', ');
  if (options.phase === undefined) {
    throw new Error(
      `${source}: series ${uid} holds ${phases.length} phases that differ in ${KEY_NAMES[key]} (${listing}); stacking them would merge phases into one volume: choose one with --phase N (the phase option)`,
    );
  }
  const index = options.phase === 'first' ? 0 : options.phase;
  if (!(Number.isInteger(index) && index >= 0 && index < phases.length)) throw new Error(`${source}: phase ${index} does not exist; series ${uid} has phases ${listing}`);
  return { chosen: phases[index].items.map((x) => x.item), series, phase: { index, of: phases.length, key, value: phases[index].value } };
}
