import type { CliCommand } from './command';
import { UsageError } from './command';
import { parseCommandArgs } from './args';
import type { DicomSeriesInfo } from '../io/dicom_series';
import { readVolume } from '../io/read_volume';
import { DICOM_READ_OPTIONS, dicomReadUsage, dicomReadOptions } from './dicom_args';
import { volumeStats, type VolumeShape } from '../io/volume';

const USAGE = `Usage: mst-ts info <file-or-folder> [--json] [--raw] [--volume N] [--series UID] [--phase N] [--spacing D,H,W]

Reads a volume and prints what was read: a NIfTI file (.nii, .nii.gz, .hdr), a DICOM series
(a folder, searched recursively, or one .dcm file) or a NumPy .npy array [D, H, W].
Unless --raw, the volume is reoriented to the mst-ts convention: D is the slice axis and slices
are laid out as a radiologist views them (axial SPL, coronal AIL, sagittal LIP; see io/volume.ts).
Of a DICOM series holding several phases, info alone reads phase 0 unless --phase, and says so;
'series' in the JSON lists every series and phase of the folder.

Options:
  --json            print JSON instead of text
  --raw             keep the file's own axis order (NIfTI (k, j, i), DICOM (slice, row, column))
  --volume N        which volume of a 4D NIfTI file (default 0)
${dicomReadUsage(20)}
  --spacing D,H,W   voxel spacing in mm for .npy arrays (default 1,1,1)
  --allow-nan       report NaN or infinite voxels instead of failing

JSON fields:
  file, format       the path; 'nifti1' | 'nifti2' | 'dicom' | 'npy'
  shape              [D, H, W]
  dtype              element type stored in the file ('int16', 'float32', 'uint8', ...)
  spacing            [D, H, W] in mm
  affine             4x4 rows, voxel (d, h, w, 1) -> RAS+ mm
  orientation        axis codes of D, H, W (e.g. 'SPL')
  min, max, mean     of the voxels after rescale slope/intercept
  slices, seriesInstanceUid, modality, transferSyntax           (DICOM)
  series             (DICOM) every series of the folder, largest first: { uid, description,
                     seriesNumber, modality, images, phases, phaseKey, phaseValues, slices,
                     shape: [slices, rows, columns] of one phase in the files' order }
  phase              (DICOM, a series with several phases) { index, of, key, value } read
  resampled          (DICOM) what was resampled on request (uneven gaps, gantry tilt)
  volumes            number of volumes in a 4D NIfTI file
`;

/** `mst-ts info`: shape, dtype, spacing, affine, orientation and value range of a volume. */
export const infoCommand: CliCommand = {
  name: 'info',
  summary: 'show what a NIfTI file, DICOM series or .npy volume holds (shape, spacing, affine, orientation, range)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs('info', USAGE, {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        raw: { type: 'boolean', default: false },
        volume: { type: 'string' },
        ...DICOM_READ_OPTIONS,
        spacing: { type: 'string' },
        'allow-nan': { type: 'boolean', default: false },
      },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`mst-ts info: expected one file or folder, got ${positionals.length}\n\n${USAGE}`);
    const volumeIndex = values.volume === undefined ? undefined : Number(values.volume);
    if (volumeIndex !== undefined && !Number.isInteger(volumeIndex)) throw new UsageError(`mst-ts info: --volume must be an integer, got '${values.volume}'`);
    let spacing: VolumeShape | undefined;
    if (values.spacing !== undefined) {
      const parts = values.spacing.split(',').map(Number);
      if (parts.length !== 3 || !parts.every((x) => x > 0)) throw new UsageError(`mst-ts info: --spacing must be three positive numbers D,H,W, got '${values.spacing}'`);
      spacing = [parts[0], parts[1], parts[2]];
    }
    const file = positionals[0];
    const dicom = dicomReadOptions('info', values);
    const v = await readVolume(file, {
      canonical: !values.raw,
      volume: volumeIndex,
      ...dicom,
      phase: dicom.phase ?? 'first',
      spacing,
      allowNonFinite: values['allow-nan'],
    });
    const stats = volumeStats(v);
    const m = v.meta;
    const report: Record<string, unknown> = {
      file,
      format: m.format,
      shape: v.shape,
      dtype: v.dtype,
      spacing: v.spacing,
      affine: v.affine,
      orientation: v.orientation,
      min: stats.min,
      max: stats.max,
      mean: stats.mean,
    };
    if (m.format === 'dicom') Object.assign(report, { slices: m.slices, seriesInstanceUid: m.seriesInstanceUid, modality: m.modality, series: m.series, transferSyntax: m.transferSyntax });
    const phase = m.phase as { index: number; of: number; key: string; value: number | null } | undefined;
    if (phase) report.phase = phase;
    if (m.resampled) report.resampled = m.resampled;
    if (m.volumes !== undefined) report.volumes = m.volumes;
    if (m.geometry === 'assumed') report.geometry = 'assumed';
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
      return 0;
    }
    const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(6));
    const lines = [
      `file:         ${file}`,
      `format:       ${String(m.format)}${m.volumes !== undefined ? ` (volume ${String(m.volume)} of ${String(m.volumes)})` : ''}`,
      `shape:        [${v.shape.join(', ')}] (D, H, W)`,
      `dtype:        ${v.dtype}`,
      `spacing:      [${v.spacing.map(fmt).join(', ')}] mm${m.geometry === 'assumed' ? ' (assumed)' : ''}`,
      `orientation:  ${v.orientation}`,
      `range:        min ${fmt(stats.min)}, max ${fmt(stats.max)}, mean ${fmt(stats.mean)}`,
      'affine:',
      ...v.affine.map((r) => `  [${r.map((x) => fmt(x).padStart(10)).join(' ')} ]`),
    ];
    if (m.format === 'dicom') {
      const all = m.series as DicomSeriesInfo[];
      const extra = [
        ...(phase ? [`phase:        ${phase.index} of ${phase.of} (${phase.key} ${String(phase.value)})${dicom.phase === undefined ? '; phase 0 by default, choose with --phase N' : ''}`] : []),
        ...((m.resampled as string[] | undefined) ?? []).map((r) => `resampled:    ${r}`),
        ...(all.length > 1 || phase ? all.map((s) => `  ${s.uid}${s.description ? ` '${s.description}'` : ''}: ${s.images} images, ${s.phases} phase(s)${s.phaseKey ? ` by ${s.phaseKey}` : ''}, [${s.shape.join(', ')}]`) : []),
      ];
      lines.splice(2, 0, `series:       ${String(m.seriesInstanceUid)} (${String(m.slices)} slices, ${String(m.modality)})`, ...extra);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
