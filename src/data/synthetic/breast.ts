import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import type { GeneratedVolume } from './chest';
import { addNoise, blend, Grid, lobeProfile, paintBlob, paintTube, randomDirection, type Vec3 } from './grid';
import { powerLawNoise } from './noise';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { abs, exp, min, sqrt } = Math;

/** Half-extent of the slice axis relative to the in-plane one (a 157 mm x 96 mm breast crop). */
export const BREAST_DEPTH_RATIO = 0.6;

/** A generated breast with the anatomy it was drawn from (for the two-phase task built on it). */
export interface GeneratedBreast extends GeneratedVolume {
  /** Fraction of each voxel inside the breast. */
  tissue: Float32Array;
  /** Fraction of each voxel that is fibroglandular tissue. */
  glandular: Float32Array;
  /** Fraction of each voxel behind the chest wall. */
  wall: Float32Array;
}

/** Sizes of the generated structures (the defaults make the paper-like `breast` task). */
export interface BreastOptions {
  /** Mass radius range, in units of the in-plane half-width (default [0.06, 0.13]). */
  massRadius?: [number, number];
  /** Mass peak enhancement range at difficulty 0 (default [70, 130]). */
  massPeak?: [number, number];
  /** Vessels: at least `[0]`, plus up to `[1] - 1` more (default [2, 4]). */
  vessels?: [number, number];
}

/**
 * A breast-MRI-like subtraction image (first post-contrast minus pre-contrast, arbitrary units) of
 * one breast, as the per-side DUKE crops: air near 0, a half-ellipsoidal breast whose
 * fibroglandular tissue shows patchy background parenchymal enhancement, enhancing vessels and small
 * benign foci, and the chest wall at the bottom rows. Label 1 adds an enhancing mass (irregular,
 * sometimes rim-enhancing) at a random place inside the fibroglandular tissue; label 0 has none.
 *
 * @param difficulty in [0, 1]: more background enhancement and foci, fainter masses as it grows.
 */
export function generateBreast(shape: Shape3, label: 0 | 1, rng: Rng, difficulty: number, options: BreastOptions = {}): GeneratedBreast {
  const [vesselsMin, vesselsExtra] = options.vessels ?? [2, 4];
  const [radiusLow, radiusHigh] = options.massRadius ?? [0.06, 0.13];
  const [peakLow, peakHigh] = options.massPeak ?? [70, 130];
  const grid = new Grid(shape, BREAST_DEPTH_RATIO);
  const n = shape[0] * shape[1] * shape[2];
  const edge = grid.edge;
  const texture = powerLawNoise(shape, 3, rng.fork(), grid.step);
  const fine = powerLawNoise(shape, 1.5, rng.fork(), grid.step);

  // Breast outline: half-ellipsoid standing on the chest wall at y = wall.
  const wall = rng.uniformRange(0.45, 0.7);
  const depthY = rng.uniformRange(1.1, 1.5);
  const halfX = rng.uniformRange(0.7, 0.95);
  const halfZ = BREAST_DEPTH_RATIO * rng.uniformRange(0.8, 1);
  const density = rng.uniformRange(-0.6, 0.4);
  const bpe = rng.uniformRange(5, 15) + 25 * difficulty * rng.uniform();
  const vol = new Float32Array(n);
  const tissue = grid.field();
  const glandular = grid.field();
  const wallField = grid.field();
  let i = 0;
  for (let d = 0; d < shape[0]; d++) {
    const z = grid.coord(0, d) / halfZ;
    for (let h = 0; h < shape[1]; h++) {
      const yy = grid.coord(1, h);
      const y = (yy - wall) / depthY;
      for (let w = 0; w < shape[2]; w++, i++) {
        const x = grid.coord(2, w) / halfX;
        const r = sqrt(x * x + y * y + z * z);
        // Inside the breast (r < 1, in front of the wall), soft edge about one voxel wide.
        const inBreast = yy < wall ? 1 / (1 + exp(((r - 1) * halfX) / edge)) : 0;
        const inWall = 1 / (1 + exp((wall - yy) / edge));
        tissue[i] = inBreast;
        glandular[i] = inBreast / (1 + exp(-(texture[i] - density) * 4));
        wallField[i] = inWall;
        vol[i] = inWall * (20 + 6 * fine[i]);
      }
    }
  }
  const enh = new Float32Array(n);
  for (let k = 0; k < n; k++) enh[k] = bpe * (0.6 + 0.4 * fine[k]) * (1 + 0.5 * texture[k]);
  for (let k = 0; k < n; k++) vol[k] += tissue[k] * (1 + fine[k]) + glandular[k] * (enh[k] - 1 - fine[k]);

  // Enhancing vessels running from the chest wall into the breast.
  const vessels = grid.field();
  const nVessels = vesselsMin + rng.int(vesselsExtra);
  for (let v = 0; v < nVessels; v++) {
    const p0: Vec3 = [rng.uniformRange(-halfZ, halfZ), wall, rng.uniformRange(-halfX, halfX) * 0.8];
    const p1: Vec3 = [p0[0] + rng.uniformRange(-0.2, 0.2), wall - rng.uniformRange(0.4, 1), p0[2] + rng.uniformRange(-0.4, 0.4)];
    paintTube(vessels, grid, p0, p1, rng.uniformRange(0.012, 0.025), 0.008);
  }
  for (let k = 0; k < n; k++) vessels[k] *= tissue[k];
  blend(vol, vessels, rng.uniformRange(50, 90));

  // A point inside the glandular tissue, found by rejection (falls back to the breast centre).
  const insideGland = (): Vec3 => {
    for (let t = 0; t < 200; t++) {
      const d = rng.int(shape[0]);
      const h = rng.int(shape[1]);
      const w = rng.int(shape[2]);
      const k = (d * shape[1] + h) * shape[2] + w;
      if (glandular[k] > 0.5 && tissue[k] > 0.9) return [grid.coord(0, d), grid.coord(1, h), grid.coord(2, w)];
    }
    return [0, wall - 0.4 * depthY, 0];
  };

  // Benign foci (< 5 mm) in both classes.
  const foci = grid.field();
  const nFoci = rng.int(2 + Math.round(6 * difficulty));
  for (let f = 0; f < nFoci; f++) {
    const c = insideGland();
    const r = rng.uniformRange(0.015, 0.035);
    paintBlob(foci, grid, c, r * 1.2, () => r);
  }
  blend(vol, foci, rng.uniformRange(40, 80));

  const mask = new Uint8Array(n);
  if (label === 1) {
    const c = insideGland();
    const r0 = rng.uniformRange(radiusLow, radiusHigh);
    const dirs: Vec3[] = [];
    const amps: number[] = [];
    for (let k = 0; k < 4; k++) {
      dirs.push(randomDirection(rng));
      amps.push(rng.uniformRange(0, 0.35));
    }
    const lobes = lobeProfile(dirs, amps, 0.6);
    const mass = grid.field();
    paintBlob(mass, grid, c, r0 * 2.4, (u) => r0 * lobes(u));
    const peak = rng.uniformRange(peakLow, peakHigh) * (1 - 0.35 * difficulty);
    const rim = rng.bernoulli(0.4);
    const value = new Float32Array(n);
    const [, H, W] = shape;
    for (let d = 0; d < shape[0]; d++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const k = (d * H + h) * W + w;
          if (mass[k] < 1e-3) continue;
          const dist = sqrt((grid.coord(0, d) - c[0]) ** 2 + (grid.coord(1, h) - c[1]) ** 2 + (grid.coord(2, w) - c[2]) ** 2);
          // Rim enhancement: the centre enhances less than the edge (necrotic core).
          const core = rim ? 0.45 + 0.55 * min(1, abs(dist / r0)) : 1;
          value[k] = peak * core * (1 + 0.15 * fine[k]);
        }
      }
    }
    blend(vol, mass, value);
    for (let k = 0; k < n; k++) mask[k] = mass[k] >= 0.5 ? 1 : 0;
  }
  addNoise(vol, 3 + 6 * difficulty * rng.uniformRange(0.5, 1), rng);
  return { volume: vol, mask, tissue, glandular, wall: wallField };
}
