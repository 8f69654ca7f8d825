/** The flags every command that reads a scan takes to choose a DICOM series, phase and geometry rule. */
import type { DicomReadOptions } from '../io/dicom';
import { UsageError } from './command';

const HELP: [string, string][] = [
  ['--series UID', 'which DICOM series of a folder (default the one with the most images)'],
  [
    '--phase N',
    "which phase of a DICOM series that repeats its positions (dynamic contrast, cardiac phases, repeated acquisitions, echoes): 0-based, in ascending order of the field that separates them ('mst-ts info --json' lists them); required where a series has several, which are never merged into one volume",
  ],
  ['--irregular-spacing <r>', 'DICOM slices with uneven gaps: refuse (default, naming the files), resample (linearly onto an even grid at the median gap) or keep'],
  ['--gantry-tilt <r>', "DICOM slices stacked obliquely (CT gantry tilt): refuse (default) or resample (each slice shifted in plane onto the first one's grid)"],
];

/**
 * Usage lines of {@link DICOM_READ_OPTIONS}, descriptions starting at `column` and wrapped at 100.
 *
 * @example
 * dicomReadUsage(25); // '  --series UID           which DICOM series ...'
 */
export function dicomReadUsage(column: number): string {
  const lines: string[] = [];
  for (const [flag, text] of HELP) {
    let line = `  ${flag}`.padEnd(column - 1);
    if (line.length >= column) {
      lines.push(line);
      line = ''.padEnd(column - 1);
    }
    for (const word of text.split(' ')) {
      if (line.length + 1 + word.length > 100 && line.trim()) {
        lines.push(line);
        line = ''.padEnd(column - 1);
      }
      line += ` ${word}`;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

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
