import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { abs, acos, ceil, exp, floor, max, min, sqrt } = Math;

/** A point or direction in the synthetic tasks' physical space, ordered `[z, y, x]` like `[D, H, W]`. */
export type Vec3 = [number, number, number];

/**
 * The physical frame of a synthetic volume: rows and columns span `[-1, 1]`, slices span
 * `[-depthRatio, depthRatio]`, so lesion sizes are resolution-independent and the slice axis can be
 * coarser than the in-plane axes, as in clinical scans.
 */
export class Grid {
  /** Physical size of one voxel along `[D, H, W]`. */
  readonly step: Shape3;

  /** @param shape `[D, H, W]`; @param depthRatio half-extent of the slice axis relative to the in-plane half-extent 1. */
  constructor(
    readonly shape: Shape3,
    depthRatio: number,
  ) {
    this.step = [(2 * depthRatio) / shape[0], 2 / shape[1], 2 / shape[2]];
  }

  /** Physical coordinate of voxel `i` along `axis`. */
  coord(axis: 0 | 1 | 2, i: number): number {
    return (i - (this.shape[axis] - 1) / 2) * this.step[axis];
  }

  /** Inclusive voxel range along `axis` whose centres fall within `[c - r, c + r]`, clipped to the grid. */
  range(axis: 0 | 1 | 2, c: number, r: number): [number, number] {
    const mid = (this.shape[axis] - 1) / 2;
    const lo = max(0, ceil((c - r) / this.step[axis] + mid));
    const hi = min(this.shape[axis] - 1, floor((c + r) / this.step[axis] + mid));
    return [lo, hi];
  }

  /** Softness of painted edges: a partial-volume ramp of about one in-plane voxel. */
  get edge(): number {
    return 0.35 * min(this.step[1], this.step[2]);
  }

  /** A new all-zero field over the grid. */
  field(): Float32Array {
    return new Float32Array(this.shape[0] * this.shape[1] * this.shape[2]);
  }
}

/** Logistic ramp: 1 well inside (`x >> 0`), 0 well outside. */
export function sigmoid(x: number): number {
  return 1 / (1 + exp(-x));
}

/** A uniformly random unit vector. */
export function randomDirection(rng: Rng): Vec3 {
  for (;;) {
    const v: Vec3 = [rng.normal(), rng.normal(), rng.normal()];
    const n = Math.hypot(v[0], v[1], v[2]);
    if (n > 1e-9) return [v[0] / n, v[1] / n, v[2] / n];
  }
}

/**
 * Paints a tapered tube from `p0` (radius `r0`) to `p1` (radius `r1`) into `alpha` as partial-volume
 * coverage in [0, 1], keeping the larger of old and new coverage.
 */
export function paintTube(alpha: Float32Array, grid: Grid, p0: Vec3, p1: Vec3, r0: number, r1: number): void {
  const edge = grid.edge;
  const pad = max(r0, r1) + 4 * edge;
  const [d0, d1] = grid.range(0, (p0[0] + p1[0]) / 2, abs(p1[0] - p0[0]) / 2 + pad);
  const [h0, h1] = grid.range(1, (p0[1] + p1[1]) / 2, abs(p1[1] - p0[1]) / 2 + pad);
  const [w0, w1] = grid.range(2, (p0[2] + p1[2]) / 2, abs(p1[2] - p0[2]) / 2 + pad);
  const sz = p1[0] - p0[0];
  const sy = p1[1] - p0[1];
  const sx = p1[2] - p0[2];
  const len2 = max(sz * sz + sy * sy + sx * sx, 1e-12);
  const [, H, W] = grid.shape;
  for (let d = d0; d <= d1; d++) {
    const z = grid.coord(0, d) - p0[0];
    for (let h = h0; h <= h1; h++) {
      const y = grid.coord(1, h) - p0[1];
      for (let w = w0; w <= w1; w++) {
        const x = grid.coord(2, w) - p0[2];
        const t = min(1, max(0, (z * sz + y * sy + x * sx) / len2));
        const dz = z - t * sz;
        const dy = y - t * sy;
        const dx = x - t * sx;
        const dist = sqrt(dz * dz + dy * dy + dx * dx);
        const a = sigmoid((r0 + (r1 - r0) * t - dist) / edge);
        const i = (d * H + h) * W + w;
        if (a > alpha[i]) alpha[i] = a;
      }
    }
  }
}

/**
 * Paints a star-shaped blob centred at `c` whose surface lies at `radius(u)` along each unit
 * direction `u` (`[z, y, x]`), never beyond `rMax`, as partial-volume coverage (max with old).
 */
export function paintBlob(alpha: Float32Array, grid: Grid, c: Vec3, rMax: number, radius: (u: Vec3) => number): void {
  const edge = grid.edge;
  const pad = rMax + 4 * edge;
  const [d0, d1] = grid.range(0, c[0], pad);
  const [h0, h1] = grid.range(1, c[1], pad);
  const [w0, w1] = grid.range(2, c[2], pad);
  const [, H, W] = grid.shape;
  const u: Vec3 = [0, 0, 0];
  for (let d = d0; d <= d1; d++) {
    const z = grid.coord(0, d) - c[0];
    for (let h = h0; h <= h1; h++) {
      const y = grid.coord(1, h) - c[1];
      for (let w = w0; w <= w1; w++) {
        const x = grid.coord(2, w) - c[2];
        const dist = sqrt(z * z + y * y + x * x);
        if (dist > pad) continue;
        if (dist < 1e-9) {
          u[0] = 1;
          u[1] = 0;
          u[2] = 0;
        } else {
          u[0] = z / dist;
          u[1] = y / dist;
          u[2] = x / dist;
        }
        const a = sigmoid((radius(u) - dist) / edge);
        const i = (d * H + h) * W + w;
        if (a > alpha[i]) alpha[i] = a;
      }
    }
  }
}

/** `vol = vol * (1 - alpha) + value * alpha`, with `value` a constant or a per-voxel field. */
export function blend(vol: Float32Array, alpha: Float32Array, value: number | Float32Array): void {
  if (typeof value === 'number') {
    for (let i = 0; i < vol.length; i++) vol[i] += (value - vol[i]) * alpha[i];
  } else {
    for (let i = 0; i < vol.length; i++) vol[i] += (value[i] - vol[i]) * alpha[i];
  }
}

/** Adds independent Gaussian noise of standard deviation `std` to every voxel. */
export function addNoise(vol: Float32Array, std: number, rng: Rng): void {
  for (let i = 0; i < vol.length; i++) vol[i] += std * rng.normal();
}

/**
 * Bumps on a sphere: `1 + sum_i amp_i * exp(-angle(u, dir_i)^2 / (2 width^2))`, the radial
 * profile of lobulated masses.
 */
export function lobeProfile(dirs: readonly Vec3[], amps: readonly number[], width: number): (u: Vec3) => number {
  return (u) => {
    let s = 1;
    for (let k = 0; k < dirs.length; k++) {
      const cos = max(-1, min(1, u[0] * dirs[k][0] + u[1] * dirs[k][1] + u[2] * dirs[k][2]));
      const ang = acos(cos);
      s += amps[k] * exp((-ang * ang) / (2 * width * width));
    }
    return s;
  };
}
