/**
 * Slice order and spacing of a DICOM series, from ImagePositionPatient projected on the slice
 * normal of ImageOrientationPatient: never from file names or InstanceNumber. What cannot be one
 * evenly spaced stack (missing or mixed geometry, duplicated positions, gantry tilt, uneven gaps)
 * is refused with the files named, or resampled where asked.
 */
import type { DicomImage } from './dicom_image';

/** How {@link orderDicomSlices} treats geometry that is not an even stack along the normal. */
export interface DicomGeometryOptions {
  /**
   * Gaps between slices that differ by more than `spacingTolerance`: `'refuse'` (default, the error
   * lists the gaps), `'resample'` onto an even grid at the median gap (linear along the normal), or
   * `'keep'` (stacked as they are, spacing the median gap, `meta.irregularSliceSpacing` true).
   */
  irregularSpacing?: 'refuse' | 'resample' | 'keep';
  /** Allowed spread of the gaps, relative to the median gap (plus 1 µm); default 0.01. */
  spacingTolerance?: number;
  /**
   * Slices stacked obliquely to their normal (CT gantry tilt): `'refuse'` (default) or `'resample'`
   * (each slice shifted in its plane, bilinearly, onto the first slice's grid; `meta.resampled` says so).
   */
  gantryTilt?: 'refuse' | 'resample';
}

/** Slices in order along the normal, with what stacking them needs. */
export interface SliceGeometry {
  /** The images, first to last along `normal`. */
  sorted: DicomImage[];
  /** Unit row direction, column direction and normal (row x column), LPS. */
  rowDir: [number, number, number];
  colDir: [number, number, number];
  normal: [number, number, number];
  /** Position of each sorted image along `normal` (mm). */
  along: number[];
  /** Distance between slices (the median gap) in mm. */
  spacing: number;
  /** Whether the gaps differ by more than the tolerance. */
  irregular: boolean;
  /** Angle between the stacking direction and the normal, in degrees (0 without tilt). */
  tiltDegrees: number;
}

const ORIENTATION_TOLERANCE = 1e-3;
// Positions closer than this along the normal are one position (DS strings carry ~6 decimals).
const SAME_POSITION_MM = 1e-3;
// Tilt below this in-plane drift (mm), or this angle, is rounding in the positions.
const TILT_MM = 0.01;
const TILT_DEGREES = 0.01;

/** `'a', 'b' and 3 more`: a readable list of files for error messages. */
export function nameFiles(images: { source: string }[], max = 3): string {
  const shown = images.slice(0, max).map((im) => `'${im.source}'`);
  return images.length > max ? `${shown.join(', ')} and ${images.length - max} more` : shown.join(images.length === 2 ? ' and ' : ', ');
}

function unit(v: number[], what: string, source: string): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  if (!(n > 0.5 && n < 1.5)) throw new Error(`${source}: ImageOrientationPatient (0020,0037) ${what} [${v.join(', ')}] is not a unit vector`);
  return [v[0] / n, v[1] / n, v[2] / n];
}

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: number[], b: number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/**
 * Orders a series' images along their slice normal and checks that they form one stack: every
 * image has a position and orientation (a single image may lack them), all share one orientation,
 * no two share a position, the positions advance along the normal (no gantry tilt) and the gaps
 * are even. Each failure throws an error naming the files; `options` may ask to resample instead.
 *
 * @example
 * const g = orderDicomSlices(images, 'series/'); // g.sorted, g.spacing, g.normal
 */
export function orderDicomSlices(images: DicomImage[], source: string, options: DicomGeometryOptions = {}): SliceGeometry {
  if (images.length === 0) throw new Error(`${source}: no DICOM images to order`);
  const first = images[0];
  if (images.length === 1) {
    const iop = first.orientation ?? [1, 0, 0, 0, 1, 0];
    const rowDir = unit(iop.slice(0, 3), 'row direction', first.source);
    const colDir = unit(iop.slice(3, 6), 'column direction', first.source);
    const normal = unit(cross(rowDir, colDir), 'normal', first.source);
    return { sorted: [first], rowDir, colDir, normal, along: [first.position ? dot(first.position, normal) : 0], spacing: first.spacingBetweenSlices ?? first.sliceThickness ?? 1, irregular: false, tiltDegrees: 0 };
  }
  const noPosition = images.filter((im) => !im.position);
  if (noPosition.length) {
    throw new Error(`${source}: ${nameFiles(noPosition)} ${noPosition.length === 1 ? 'has' : 'have'} no ImagePositionPatient (0020,0032); mst-ts orders slices by position along the slice normal and will not guess the order from file names or InstanceNumber`);
  }
  const noOrientation = images.filter((im) => !im.orientation);
  if (noOrientation.length) throw new Error(`${source}: ${nameFiles(noOrientation)} ${noOrientation.length === 1 ? 'has' : 'have'} no ImageOrientationPatient (0020,0037); without it the slice normal, and so the slice order, is unknown`);
  const iop = first.orientation!;
  for (const im of images) {
    if (im.orientation!.some((v, i) => Math.abs(v - iop[i]) > ORIENTATION_TOLERANCE)) {
      throw new Error(
        `${source}: '${im.source}' has ImageOrientationPatient [${im.orientation!.join(', ')}] but '${first.source}' has [${iop.join(', ')}]; images of mixed orientations (a localizer, or several stacks) are not one volume`,
      );
    }
  }
  const rowDir = unit(iop.slice(0, 3), 'row direction', first.source);
  const colDir = unit(iop.slice(3, 6), 'column direction', first.source);
  if (Math.abs(dot(rowDir, colDir)) > 0.01) throw new Error(`${first.source}: ImageOrientationPatient (0020,0037) row and column directions are not perpendicular ([${iop.join(', ')}])`);
  const normal = unit(cross(rowDir, colDir), 'normal', first.source);
  const withAlong = images.map((im) => ({ im, a: dot(im.position!, normal) })).sort((x, y) => x.a - y.a);
  const sorted = withAlong.map((x) => x.im);
  const along = withAlong.map((x) => x.a);
  const gaps: number[] = [];
  for (let k = 1; k < sorted.length; k++) {
    const gap = along[k] - along[k - 1];
    if (gap < SAME_POSITION_MM) {
      throw new Error(
        `${source}: '${sorted[k - 1].source}' and '${sorted[k].source}' share one position along the slice normal (${along[k].toFixed(3)} mm): duplicated slices, or several phases or acquisitions of one series (list them with 'mst-ts info --json', choose one with --phase)`,
      );
    }
    gaps.push(gap);
  }
  const byGap = [...gaps].sort((a, b) => a - b);
  const spacing = byGap[Math.floor(byGap.length / 2)];
  const tolerance = (options.spacingTolerance ?? 0.01) * spacing + 1e-3;
  const irregular = byGap[byGap.length - 1] - byGap[0] > tolerance;
  if (irregular && (options.irregularSpacing ?? 'refuse') === 'refuse') {
    const worst = gaps.reduce((w, g, k) => (Math.abs(g - spacing) > Math.abs(gaps[w] - spacing) ? k : w), 0);
    throw new Error(
      `${source}: slice gaps vary from ${byGap[0].toFixed(3)} to ${byGap[byGap.length - 1].toFixed(3)} mm (median ${spacing.toFixed(3)}; e.g. ${gaps[worst].toFixed(3)} mm between '${sorted[worst].source}' and '${sorted[worst + 1].source}'): missing slices, or slabs of several acquisitions; resample on request (irregularSpacing: 'resample', --irregular-spacing resample) or keep them as they are ('keep')`,
    );
  }
  const last = sorted[sorted.length - 1].position!;
  const p0 = sorted[0].position!;
  const d = [last[0] - p0[0], last[1] - p0[1], last[2] - p0[2]];
  const through = dot(d, normal);
  const drift = Math.hypot(d[0] - through * normal[0], d[1] - through * normal[1], d[2] - through * normal[2]);
  const tiltDegrees = (Math.atan2(drift, Math.abs(through)) * 180) / Math.PI;
  const tilted = drift > TILT_MM && tiltDegrees > TILT_DEGREES;
  if (tilted && (options.gantryTilt ?? 'refuse') === 'refuse') {
    throw new Error(
      `${source}: slices from '${sorted[0].source}' to '${sorted[sorted.length - 1].source}' drift ${drift.toFixed(2)} mm in plane over ${through.toFixed(2)} mm along the normal: a gantry tilt of ${tiltDegrees.toFixed(2)} degrees; resample on request (gantryTilt: 'resample', --gantry-tilt resample)`,
    );
  }
  return { sorted, rowDir, colDir, normal, along, spacing, irregular, tiltDegrees: tilted ? tiltDegrees : 0 };
}

/**
 * Shifts each slice `[D, H, W]` in its plane onto the first slice's grid (bilinear; outside
 * samples take `fill`): what a gantry-tilted stack becomes when stacked along its normal.
 *
 * @example
 * untilt(data, shape, positions, geometry, [0.7, 0.7], -1024);
 */
export function untilt(data: Float32Array, shape: [number, number, number], positions: number[][], g: SliceGeometry, pixelSpacing: [number, number], fill: number): Float32Array {
  const [D, H, W] = shape;
  const out = new Float32Array(data.length);
  const p0 = positions[0];
  for (let k = 0; k < D; k++) {
    const o = [0, 1, 2].map((a) => positions[k][a] - p0[a]);
    const n = dot(o, g.normal);
    const inPlane = [0, 1, 2].map((a) => o[a] - n * g.normal[a]);
    const dc = dot(inPlane, g.rowDir) / pixelSpacing[1];
    const dr = dot(inPlane, g.colDir) / pixelSpacing[0];
    const base = k * H * W;
    for (let r = 0; r < H; r++) {
      const y = r - dr;
      const y0 = Math.floor(y);
      const fy = y - y0;
      for (let c = 0; c < W; c++) {
        const x = c - dc;
        const x0 = Math.floor(x);
        const fx = x - x0;
        let v = 0;
        let weight = 0;
        for (const [yy, wy] of [[y0, 1 - fy], [y0 + 1, fy]]) {
          for (const [xx, wx] of [[x0, 1 - fx], [x0 + 1, fx]]) {
            const w = wy * wx;
            if (w === 0) continue;
            v += w * (yy >= 0 && yy < H && xx >= 0 && xx < W ? data[base + yy * W + xx] : fill);
            weight += w;
          }
        }
        out[base + r * W + c] = weight > 0 ? v / weight : fill;
      }
    }
  }
  return out;
}

/**
 * Resamples slices at positions `along` (ascending, mm) onto an even grid from the first to the
 * last at `spacing`, linearly between neighbouring slices. Returns the new slices and their count.
 *
 * @example
 * const { data, slices } = resampleSlices(data, [4, 16, 16], [0, 1, 2, 5], 1); // 6 slices
 */
export function resampleSlices(data: Float32Array, shape: [number, number, number], along: number[], spacing: number, maxVoxels: number): { data: Float32Array; slices: number } {
  const [, H, W] = shape;
  const plane = H * W;
  const slices = Math.round((along[along.length - 1] - along[0]) / spacing) + 1;
  if (slices * plane > maxVoxels) throw new Error(`resampling ${shape[0]} slices at ${spacing} mm gives ${slices} slices of ${H} x ${W}, more than the limit of ${maxVoxels} voxels`);
  const out = new Float32Array(slices * plane);
  let k = 0;
  for (let j = 0; j < slices; j++) {
    const t = along[0] + j * spacing;
    while (k + 2 < along.length && along[k + 1] < t) k++;
    const span = along[k + 1] - along[k];
    const f = Math.min(1, Math.max(0, (t - along[k]) / span));
    const a = k * plane;
    const b = (k + 1) * plane;
    const o = j * plane;
    for (let i = 0; i < plane; i++) out[o + i] = data[a + i] * (1 - f) + data[b + i] * f;
  }
  return { data: out, slices };
}
