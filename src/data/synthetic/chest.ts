import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import { addNoise, blend, Grid, lobeProfile, paintBlob, paintTube, randomDirection, type Vec3 } from './grid';
import { powerLawNoise } from './noise';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { exp, fround, sin, sqrt } = Math;

/** What a synthetic generator returns before the task wrapper adds ids and spacing. */
export interface GeneratedVolume {
  /** Voxels `[D, H, W]` in the task's units. */
  volume: Float32Array;
  /** Lesion mask `[D, H, W]`: 1 where the lesion covers at least half a voxel. */
  mask: Uint8Array;
}

/** Half-extent of the slice axis relative to the in-plane half-extent (a 160 mm x 64 mm crop). */
export const CHEST_DEPTH_RATIO = 0.4;

// A vessel: a gently bending chain of tube segments crossing the crop.
function paintVessel(alpha: Float32Array, grid: Grid, rng: Rng, ratio: number): void {
  let p: Vec3 = [rng.uniformRange(-ratio, ratio), rng.uniformRange(-1, 1), rng.uniformRange(-1, 1)];
  let dir = randomDirection(rng);
  let r = rng.uniformRange(0.015, 0.045);
  const segments = 3 + rng.int(4);
  for (let s = 0; s < segments; s++) {
    const len = rng.uniformRange(0.25, 0.6);
    const q: Vec3 = [p[0] + dir[0] * len, p[1] + dir[1] * len, p[2] + dir[2] * len];
    const rNext = Math.max(0.01, r * rng.uniformRange(0.75, 1));
    paintTube(alpha, grid, p, q, r, rNext);
    const bend = randomDirection(rng);
    const nd: Vec3 = [dir[0] + 0.35 * bend[0], dir[1] + 0.35 * bend[1], dir[2] + 0.35 * bend[2]];
    const n = Math.hypot(nd[0], nd[1], nd[2]);
    dir = [nd[0] / n, nd[1] / n, nd[2] / n];
    p = q;
    r = rNext;
  }
}

/**
 * A chest-CT-like nodule crop in Hounsfield units: textured lung parenchyma with vessels and noise,
 * sometimes a strip of chest wall, and a nodule near the centre (a nodule-centred crop, as for
 * LIDC-IDRI). Label 0: a benign nodule, smooth and round, sometimes calcified. Label 1: a malignant
 * nodule, spiculated (thin strands radiating into the lung), lobulated, or both, sometimes with a
 * ground-glass halo. Vessels touching the nodule are the main confounder for spicules.
 *
 * @param difficulty in [0, 1]: more vessels, more noise and subtler malignant features as it grows.
 */
export function generateChest(shape: Shape3, label: 0 | 1, rng: Rng, difficulty: number): GeneratedVolume {
  const grid = new Grid(shape, CHEST_DEPTH_RATIO);
  const n = shape[0] * shape[1] * shape[2];
  const texture = powerLawNoise(shape, 2.4, rng.fork(), grid.step);
  const vol = new Float32Array(n);
  const gradient = rng.uniformRange(-40, 40);
  let i = 0;
  for (let d = 0; d < shape[0]; d++) {
    for (let h = 0; h < shape[1]; h++) {
      const y = grid.coord(1, h);
      for (let w = 0; w < shape[2]; w++, i++) vol[i] = -850 + gradient * y + 45 * texture[i];
    }
  }

  if (rng.bernoulli(0.3)) {
    // Chest wall: soft tissue beyond a wavy plane on one side of the crop.
    const a = rng.uniformRange(0, 2 * Math.PI);
    const ny = sin(a);
    const nx = Math.cos(a);
    const offset = rng.uniformRange(0.6, 0.9);
    const wave = rng.uniformRange(0.02, 0.06);
    const wall = grid.field();
    const edge = grid.edge;
    let k = 0;
    for (let d = 0; d < shape[0]; d++) {
      const z = grid.coord(0, d);
      for (let h = 0; h < shape[1]; h++) {
        const y = grid.coord(1, h);
        for (let w = 0; w < shape[2]; w++, k++) {
          const x = grid.coord(2, w);
          const s = y * ny + x * nx - offset - wave * sin(6 * (x * ny - y * nx) + 3 * z);
          wall[k] = 1 / (1 + exp(-s / edge));
        }
      }
    }
    // blend(vol, wall, tissue) with tissue = 40 + 20 texture rounded to float32, without the array.
    for (let k2 = 0; k2 < n; k2++) vol[k2] += (fround(40 + 20 * texture[k2]) - vol[k2]) * wall[k2];
  }

  const vessels = grid.field();
  const nVessels = 4 + Math.round(8 * difficulty) + rng.int(4);
  for (let v = 0; v < nVessels; v++) paintVessel(vessels, grid, rng, CHEST_DEPTH_RATIO);
  blend(vol, vessels, rng.uniformRange(-120, -40));

  // The nodule: centred with a little jitter, so the crop is nodule-centred as in the paper.
  const c: Vec3 = [
    rng.uniformRange(-1, 1) * grid.step[0],
    rng.uniformRange(-0.06, 0.06),
    rng.uniformRange(-0.06, 0.06),
  ];
  const r0 = label === 1 ? rng.uniformRange(0.1, 0.19) : rng.uniformRange(0.09, 0.17);
  const axes: Vec3 = [rng.uniformRange(0.85, 1.15), rng.uniformRange(0.85, 1.15), rng.uniformRange(0.85, 1.15)];
  const style = label === 1 ? rng.uniform() : -1;
  const spiculated = style >= 0 && style < 0.7;
  const lobulated = style >= 0.5;
  const subtle = 1 - 0.5 * difficulty;

  const nLobes = 3 + rng.int(3);
  const dirs: Vec3[] = [];
  const amps: number[] = [];
  for (let k = 0; k < nLobes; k++) {
    dirs.push(randomDirection(rng));
    amps.push(lobulated ? rng.uniformRange(0.3, 0.55) * subtle : rng.uniformRange(0, 0.06));
  }
  const lobes = lobeProfile(dirs, amps, lobulated ? rng.uniformRange(0.4, 0.6) : 1.2);
  const shapeFn = (u: Vec3): number => {
    // Ellipsoid stretch: the surface distance along u of a unit sphere scaled by `axes`.
    const e = sqrt((u[0] / axes[0]) ** 2 + (u[1] / axes[1]) ** 2 + (u[2] / axes[2]) ** 2);
    return (r0 * lobes(u)) / e;
  };
  const rMax = r0 * 1.15 * (1 + amps.reduce((s, a) => s + a, 0));
  const lesion = grid.field();

  if (label === 1 && rng.bernoulli(0.25)) {
    // Ground-glass halo of a part-solid nodule.
    const halo = grid.field();
    const hr = rng.uniformRange(1.3, 1.7);
    paintBlob(halo, grid, c, rMax * hr, (u) => shapeFn(u) * hr);
    blend(vol, halo, rng.uniformRange(-600, -450));
    for (let k = 0; k < n; k++) if (halo[k] > lesion[k]) lesion[k] = halo[k];
  }

  const core = grid.field();
  paintBlob(core, grid, c, rMax, shapeFn);
  if (spiculated) {
    const nSpicules = 8 + rng.int(9);
    for (let s = 0; s < nSpicules; s++) {
      const u = randomDirection(rng);
      const start = shapeFn(u) * 0.8;
      const len = r0 * rng.uniformRange(1.2, 2.2) * subtle;
      const p0: Vec3 = [c[0] + u[0] * start, c[1] + u[1] * start, c[2] + u[2] * start];
      const p1: Vec3 = [c[0] + u[0] * (start + len), c[1] + u[1] * (start + len), c[2] + u[2] * (start + len)];
      // At least ~0.9 voxel in radius, so spicules survive at coarse in-plane sizes.
      const base = Math.max(0.9 * grid.step[1], rng.uniformRange(0.025, 0.04));
      paintTube(core, grid, p0, p1, base, base * 0.3);
    }
  }
  const hu = rng.uniformRange(-20, 60);
  for (let k = 0; k < n; k++) vol[k] += (fround(hu + 25 * texture[k]) - vol[k]) * core[k];
  for (let k = 0; k < n; k++) if (core[k] > lesion[k]) lesion[k] = core[k];

  if (label === 0 && rng.bernoulli(0.3)) {
    // Central or popcorn calcification: a benign sign.
    const calc = grid.field();
    const cr = r0 * rng.uniformRange(0.2, 0.45);
    paintBlob(calc, grid, c, cr * 1.2, () => cr);
    blend(vol, calc, rng.uniformRange(250, 600));
  }

  addNoise(vol, 12 + 30 * difficulty * rng.uniformRange(0.5, 1), rng);
  const mask = new Uint8Array(n);
  for (let k = 0; k < n; k++) mask[k] = lesion[k] >= 0.5 ? 1 : 0;
  return { volume: vol, mask };
}
