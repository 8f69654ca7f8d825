import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';
import type { GeneratedVolume } from './chest';
import { blend, Grid, paintBlob, paintTube, type Vec3 } from './grid';
import { powerLawNoise } from './noise';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { abs, exp, max, min, sqrt } = Math;

/** Half-extent of the slice (left-right) axis relative to the in-plane one (a 100 mm x 90 mm crop of the joint). */
export const KNEE_DEPTH_RATIO = 0.9;

// One compartment's femoral condyle and meniscus, in the sagittal plane (y down, x posterior).
interface Compartment {
  /** Slice-axis range [z0, z1] where the condyle and meniscus are cut. */
  z: [number, number];
  /** Condyle circle centre x, y and radius. */
  cx: number;
  cy: number;
  radius: number;
  /** Tibial plateau height. */
  plateau: number;
  /** Anterior horn [inner, outer] distance from cx; posterior horn the same. */
  anterior: [number, number];
  posterior: [number, number];
}

function femurSurface(c: Compartment, x: number): number {
  const dx = min(abs(x - c.cx), c.radius * 0.999);
  return c.cy + sqrt(c.radius * c.radius - dx * dx);
}

// Coverage of the meniscus wedge at (y, x): fills the joint gap from the tibia upward, tapering to
// an apex at the horn's inner edge.
function wedge(c: Compartment, y: number, x: number, edge: number): number {
  const off = x - c.cx;
  const horn = off < 0 ? c.anterior : c.posterior;
  const a = abs(off);
  const frac = (a - horn[0]) / (horn[1] - horn[0]);
  if (frac <= -0.2 || frac >= 1.2) return 0;
  const top = femurSurface(c, x);
  const height = (c.plateau - top) * min(1, max(0, frac));
  const inY = 1 / (1 + exp(-(y - (c.plateau - height)) / edge)) / (1 + exp((y - c.plateau) / edge));
  const inX = 1 / (1 + exp(-(frac * (horn[1] - horn[0])) / edge)) / (1 + exp(((frac - 1) * (horn[1] - horn[0])) / edge));
  return inY * inX;
}

/**
 * A knee-MRI-like sagittal stack (proton-density-like contrast, 0-255 units as MRNet's uint8 files):
 * slices run left-right; each shows the femoral condyle, the tibial plateau, cartilage, joint fluid
 * and, in the medial and lateral compartments, the meniscus as two dark wedges (anterior and
 * posterior horn). Label 1: a torn meniscus, a bright line crossing one horn and reaching its
 * articular surface on 2-4 adjacent slices. Label 0: intact menisci, sometimes with intrasubstance
 * signal that does not reach the surface (the classic hard negative).
 *
 * @param difficulty in [0, 1]: more hard negatives, fainter tears and more noise as it grows.
 */
export function generateKnee(shape: Shape3, label: 0 | 1, rng: Rng, difficulty: number): GeneratedVolume {
  const grid = new Grid(shape, KNEE_DEPTH_RATIO);
  const n = shape[0] * shape[1] * shape[2];
  const edge = grid.edge;
  const texture = powerLawNoise(shape, 2.6, rng.fork(), grid.step);
  const zr = KNEE_DEPTH_RATIO;
  const gap = rng.uniformRange(0.06, 0.09);
  const tilt = rng.uniformRange(-0.08, 0.08);
  const compartments: Compartment[] = [-1, 1].map((side) => {
    const radius = rng.uniformRange(0.6, 0.8);
    const cy = rng.uniformRange(-0.1, 0.05) - radius + tilt * side;
    return {
      z: side < 0 ? [-0.85 * zr, -0.12 * zr] : [0.12 * zr, 0.85 * zr],
      cx: rng.uniformRange(-0.05, 0.1),
      cy,
      radius,
      plateau: cy + radius + gap,
      anterior: [rng.uniformRange(0.25, 0.35), rng.uniformRange(0.55, 0.65)],
      posterior: [rng.uniformRange(0.2, 0.3), rng.uniformRange(0.6, 0.75)],
    };
  });
  const compartmentAt = (z: number): Compartment | null => compartments.find((c) => z >= c.z[0] && z <= c.z[1]) ?? null;
  const inSlab = (c: Compartment, z: number): number => 1 / (1 + exp((max(c.z[0] - z, z - c.z[1]) / edge) * 0.5));

  const marrow = rng.uniformRange(150, 190);
  const vol = new Float32Array(n);
  const meniscus = grid.field();
  let i = 0;
  for (let d = 0; d < shape[0]; d++) {
    const z = grid.coord(0, d);
    // Slices between the compartments cut the notch: use the nearer compartment's shape, no meniscus.
    const comp = compartmentAt(z) ?? (z < 0 ? compartments[0] : compartments[1]);
    const slab = inSlab(comp, z);
    for (let h = 0; h < shape[1]; h++) {
      const y = grid.coord(1, h);
      for (let w = 0; w < shape[2]; w++, i++) {
        const x = grid.coord(2, w);
        const t = texture[i];
        // Soft tissue and fat around the joint.
        let v = 110 + 30 * t;
        // Femur: condyle disc plus the shaft above it; tibia: below the plateau.
        const dc = sqrt((x - comp.cx) ** 2 + (y - comp.cy) ** 2);
        const femur = max(
          1 / (1 + exp((dc - comp.radius * (0.7 + 0.3 * slab)) / edge)),
          y < comp.cy ? 1 / (1 + exp((abs(x - comp.cx) - 0.45) / edge)) : 0,
        );
        const tibia = (1 / (1 + exp((comp.plateau + 0.02 - y) / edge))) / (1 + exp((abs(x) - 0.85) / edge));
        const fluid = 1 / (1 + exp((dc - comp.radius - 0.03) / edge)) - femur;
        v += (210 - v) * max(0, fluid) * 0.8;
        const bone = max(femur, tibia);
        // Marrow with trabecular texture, a dark cortex ring and grey cartilage on the surface.
        const cortex = 4 * bone * (1 - bone);
        v += (marrow + 20 * t - v) * bone;
        v += (30 - v) * min(1, cortex * 0.9);
        const cartilage = 1 / (1 + exp((abs(dc - comp.radius - 0.015) - 0.015) / edge)) + 1 / (1 + exp((abs(y - comp.plateau) - 0.015) / edge));
        v += (95 - v) * min(1, cartilage) * (1 - femur) * (1 - tibia) * 0.9;
        vol[i] = v;
        meniscus[i] = compartmentAt(z) ? wedge(comp, y, x, edge) * slab : 0;
      }
    }
  }
  blend(vol, meniscus, 12);

  const mask = new Uint8Array(n);
  const inMeniscusSlices = (): { comp: Compartment; d0: number } => {
    const comp = rng.bernoulli(0.7) ? compartments[1] : compartments[0];
    const [lo, hi] = [grid.range(0, comp.z[0] + 0.15 * zr, 0), grid.range(0, comp.z[1] - 0.15 * zr, 0)];
    const first = Math.max(lo[0], 0);
    const last = Math.max(first, Math.min(hi[1], shape[0] - 1));
    return { comp, d0: first + rng.int(last - first + 1) };
  };

  if (label === 1) {
    const { comp, d0 } = inMeniscusSlices();
    const slices = 2 + rng.int(3);
    const posterior = rng.bernoulli(0.75);
    const horn = posterior ? comp.posterior : comp.anterior;
    const sign = posterior ? 1 : -1;
    // Start inside the horn, run to the femoral (superior) or tibial (inferior) surface.
    const frac = rng.uniformRange(0.35, 0.8);
    const x0 = comp.cx + sign * (horn[0] + frac * (horn[1] - horn[0]));
    const top = femurSurface(comp, x0);
    const y0 = comp.plateau - (comp.plateau - top) * frac * rng.uniformRange(0.3, 0.7);
    const toTop = rng.bernoulli(0.5);
    const x1 = x0 + sign * rng.uniformRange(-0.08, 0.08);
    const y1 = toTop ? femurSurface(comp, x1) - 0.01 : comp.plateau + 0.01;
    const tear = grid.field();
    // At least ~0.8 voxel in radius, so the line survives at coarse in-plane sizes.
    const r = Math.max(0.8 * grid.step[1], rng.uniformRange(0.01, 0.02));
    for (let d = d0; d < Math.min(shape[0], d0 + slices); d++) {
      const z = grid.coord(0, d);
      const p0: Vec3 = [z, y0, x0];
      const p1: Vec3 = [z, y1, x1];
      // Extend a little into the wedge's core so the line crosses it, not just touches it.
      const pIn: Vec3 = [z, y0 + (y0 - y1) * 0.3, x0 + (x0 - x1) * 0.3];
      paintTube(tear, grid, pIn, p0, r, r);
      paintTube(tear, grid, p0, p1, r, r);
    }
    // The tear lives in the meniscus: fade it where the wedge ends (its surface stays covered).
    for (let k = 0; k < n; k++) tear[k] *= min(1, 2 * meniscus[k]);
    blend(vol, tear, rng.uniformRange(170, 230) * (1 - 0.3 * difficulty));
    for (let k = 0; k < n; k++) mask[k] = tear[k] >= 0.5 ? 1 : 0;
  } else if (rng.bernoulli(0.2 + 0.5 * difficulty)) {
    // Intrasubstance degeneration: a blob inside a horn that stays clear of both surfaces.
    const { comp, d0 } = inMeniscusSlices();
    const posterior = rng.bernoulli(0.75);
    const horn = posterior ? comp.posterior : comp.anterior;
    const x0 = comp.cx + (posterior ? 1 : -1) * (horn[0] + 0.7 * (horn[1] - horn[0]));
    const y0 = comp.plateau - (comp.plateau - femurSurface(comp, x0)) * 0.35;
    const blob = grid.field();
    const r = (comp.plateau - femurSurface(comp, x0)) * 0.18;
    paintBlob(blob, grid, [grid.coord(0, d0), y0, x0], r * 1.2, () => r);
    blend(vol, blob, rng.uniformRange(80, 130));
  }

  // Rician noise, as in magnitude MR images.
  const sigma = 4 + 10 * difficulty * rng.uniformRange(0.5, 1);
  for (let k = 0; k < n; k++) {
    const re = vol[k] + sigma * rng.normal();
    const im = sigma * rng.normal();
    vol[k] = sqrt(re * re + im * im);
  }
  return { volume: vol, mask };
}
