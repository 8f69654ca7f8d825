import FFT from 'fft.js';
import type { Rng } from '../../utils/rng';
import type { Shape3 } from '../sample';

// Module-level aliases: under jest's vm sandbox every `Math.x` lookup in a hot loop is ~20x slower.
const { pow } = Math;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

const ffts = new Map<number, FFT>();

// One FFT (and its twiddle tables) per line length, shared by every case.
function fftOf(n: number): FFT {
  let fft = ffts.get(n);
  if (!fft) {
    fft = new FFT(n);
    ffts.set(n, fft);
  }
  return fft;
}

// In-place complex FFT of every line of a [D, H, W] grid along `axis` (re/im split storage).
function fftAxis(re: Float64Array, im: Float64Array, dims: Shape3, axis: 0 | 1 | 2, inverse: boolean): void {
  const n = dims[axis];
  if (n < 2) return;
  const fft = fftOf(n);
  const input = new Float64Array(2 * n);
  const output = new Float64Array(2 * n);
  const stride = axis === 2 ? 1 : axis === 1 ? dims[2] : dims[1] * dims[2];
  const lines = (dims[0] * dims[1] * dims[2]) / n;
  for (let line = 0; line < lines; line++) {
    // The start of each line: enumerate every index with coordinate 0 on `axis`.
    let start: number;
    if (axis === 2) start = line * n;
    else if (axis === 1) start = Math.floor(line / dims[2]) * dims[1] * dims[2] + (line % dims[2]);
    else start = line;
    for (let k = 0; k < n; k++) {
      input[2 * k] = re[start + k * stride];
      input[2 * k + 1] = im[start + k * stride];
    }
    if (inverse) fft.inverseTransform(output, input);
    else fft.transform(output, input);
    for (let k = 0; k < n; k++) {
      re[start + k * stride] = output[2 * k];
      im[start + k * stride] = output[2 * k + 1];
    }
  }
}

// The spectral amplitudes of the last few grids: every case of a dataset shares one grid, and the
// per-bin power was a sixth of a synthetic case's generation time.
let scratch = { re: new Float64Array(0), im: new Float64Array(0) };

const amplitudeCache = new Map<string, Float64Array>();

// |k|^(-beta/2) for every FFT bin of `dims` (0 at DC), k in cycles per unit of `voxelSize`.
function amplitudes(dims: Shape3, beta: number, voxelSize: Shape3): Float64Array {
  const key = `${dims.join('x')}/${beta}/${voxelSize.join('x')}`;
  const hit = amplitudeCache.get(key);
  if (hit) return hit;
  const amp = new Float64Array(dims[0] * dims[1] * dims[2]);
  // Frequency of FFT bin j on an axis of n bins and voxel size s: (j or j - n) / (n s).
  const freq = (j: number, n: number, s: number): number => (j <= n / 2 ? j : j - n) / (n * s);
  let i = 0;
  for (let d = 0; d < dims[0]; d++) {
    const fd = freq(d, dims[0], voxelSize[0]);
    for (let h = 0; h < dims[1]; h++) {
      const fh = freq(h, dims[1], voxelSize[1]);
      for (let w = 0; w < dims[2]; w++, i++) {
        const fw = freq(w, dims[2], voxelSize[2]);
        const k2 = fd * fd + fh * fh + fw * fw;
        // Amplitude is the square root of power: |k|^(-beta/2) = (k^2)^(-beta/4); no DC term.
        amp[i] = k2 === 0 ? 0 : pow(k2, -beta / 4);
      }
    }
  }
  if (amplitudeCache.size >= 8) amplitudeCache.delete(amplitudeCache.keys().next().value as string);
  amplitudeCache.set(key, amp);
  return amp;
}

/**
 * Correlated "1/f^beta" texture `[D, H, W]` with zero mean and unit standard deviation: white
 * Gaussian noise whose power spectrum is shaped to `|k|^-beta`, with `k` in cycles per unit of the
 * given voxel size, so anisotropic grids get the same physical texture. beta near 2-3 looks like
 * soft-tissue and parenchyma texture in CT and MR. The grid is padded to powers of two for the FFT
 * and cropped back (the texture wraps around periodically where sizes already are powers of two).
 *
 * @param voxelSize physical size of a voxel along `[D, H, W]` (any unit, only ratios matter).
 * @example
 * const t = powerLawNoise([16, 64, 64], 2.5, new Rng(0), [2, 1, 1]);
 */
export function powerLawNoise(shape: Shape3, beta: number, rng: Rng, voxelSize: Shape3 = [1, 1, 1]): Float32Array {
  const dims: Shape3 = [nextPow2(shape[0]), nextPow2(shape[1]), nextPow2(shape[2])];
  if (shape[0] === 1) dims[0] = 1;
  const total = dims[0] * dims[1] * dims[2];
  // Scratch spectra reused from call to call: allocating megabytes per case made the garbage
  // collector a third of the generation time.
  if (scratch.re.length !== total) scratch = { re: new Float64Array(total), im: new Float64Array(total) };
  const { re, im } = scratch;
  im.fill(0);
  for (let i = 0; i < total; i++) re[i] = rng.normal();
  for (const axis of [0, 1, 2] as const) fftAxis(re, im, dims, axis, false);
  const amp = amplitudes(dims, beta, voxelSize);
  for (let i = 0; i < total; i++) {
    re[i] *= amp[i];
    im[i] *= amp[i];
  }
  for (const axis of [0, 1, 2] as const) fftAxis(re, im, dims, axis, true);
  const out = new Float32Array(shape[0] * shape[1] * shape[2]);
  let sum = 0;
  let o = 0;
  for (let d = 0; d < shape[0]; d++) {
    for (let h = 0; h < shape[1]; h++) {
      const base = (d * dims[1] + h) * dims[2];
      for (let w = 0; w < shape[2]; w++, o++) {
        out[o] = re[base + w];
        sum += re[base + w];
      }
    }
  }
  const mean = sum / out.length;
  let ss = 0;
  for (let k = 0; k < out.length; k++) ss += (out[k] - mean) * (out[k] - mean);
  const std = Math.sqrt(ss / out.length);
  // Eps guards a constant field (e.g. a 1-voxel grid), which then stays all zeros.
  const inv = 1 / Math.max(std, 1e-12);
  for (let k = 0; k < out.length; k++) out[k] = (out[k] - mean) * inv;
  return out;
}
