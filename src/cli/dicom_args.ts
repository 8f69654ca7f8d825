/** The flags every command that reads a scan takes to choose a DICOM series, phase and geometry rule. */
import type { DicomReadOptions } from '../io/dicom';
import { UsageError } from './command';

/** Usage lines of {@link DICOM_READ_OPTIONS}, indented as the commands' own. */
export const DICOM_READ_USAGE = `  --series UID      which DICOM series of a folder (default the one with the most images)
  --phase N         which phase of a DICOM series that repeats its positions (dynamic contrast,
                    cardiac phases, repeated acquisitions, echoes): 0-based, in ascending order of
                    the field that separates them ('mst-ts info --json' lists them). Required
                    where a series has several: they are never merged into one volume
  --irregular-spacing refuse|resample|keep
                    DICOM slices with uneven gaps: refuse (default, naming the files), resample
                    linearly onto an even grid at the median gap, or keep them as they are
  --gantry-tilt refuse|resample
                    DICOM slices stacked obliquely (CT gantry tilt): refuse (default) or shift
                    each slice in plane onto the first one's grid`;

/** `parseArgs` option specs of the DICOM read flags. */
export const DICOM_READ_OPTIONS = {
  series: { type: 'string' },
  phase: { type: 'string' },
  'irregular-spacing': { type: 'string' },
  'gantry-tilt': { type: 'string' },
} as const;

/**
 * The {@link DicomReadOptions} the DICOM read flags ask for; bad values are usage errors.
 *
 * @example
 * dicomReadOptions('predict', { phase: '1' }); // returns { phase: 1 }
 */
export function dicomReadOptions(command: string, values: Record<string, unknown>): DicomReadOptions {
  const out: DicomReadOptions = {};
  if (typeof values.series === 'string') out.seriesInstanceUid = values.series;
  if (typeof values.phase === 'string') {
    const n = Number(values.phase);
    if (!(Number.isInteger(n) && n >= 0 && values.phase.trim() !== '')) throw new UsageError(`mst-ts ${command}: --phase must be a phase index (0, 1, ...), got '${values.phase}'`);
    out.phase = n;
  }
  const spacing = values['irregular-spacing'];
  if (spacing !== undefined) {
    if (spacing !== 'refuse' && spacing !== 'resample' && spacing !== 'keep') throw new UsageError(`mst-ts ${command}: --irregular-spacing must be refuse, resample or keep, got '${String(spacing)}'`);
    out.irregularSpacing = spacing;
  }
  const tilt = values['gantry-tilt'];
  if (tilt !== undefined) {
    if (tilt !== 'refuse' && tilt !== 'resample') throw new UsageError(`mst-ts ${command}: --gantry-tilt must be refuse or resample, got '${String(tilt)}'`);
    out.gantryTilt = tilt;
  }
  return out;
}
