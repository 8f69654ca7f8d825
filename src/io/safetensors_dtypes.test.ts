import * as tf from '@tensorflow/tfjs';
import { encodeSafetensors, INT8_SCALE_SUFFIX, loadSafetensors, parseSafetensorsHeader } from './safetensors';
import { floatsToBfloat16, floatsToHalf, halfToFloat } from './raw_dtypes';
import { createModel } from '../models/registry';
import type { MedicalSliceTransformer } from '../models/medical_slice_transformer';
import { disposeStateDict } from '../nn/module';
import { Rng } from '../utils/rng';

const bf16ToFloat = (b: number): number => new Float32Array(new Uint32Array([b << 16]).buffer)[0];

/** Random float32 values spread over many binades (and both signs), with exact ties mixed in. */
function spread(n: number, rng: Rng, minExp: number, maxExp: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() < 0.5 ? -1 : 1) * (1 + rng.uniform()) * 2 ** Math.floor(minExp + rng.uniform() * (maxExp - minExp));
  return out;
}

/**
 * Whether `bits` is the representable value nearest to x, ties to the even pattern, as IEEE 754
 * rounds: with an unbounded exponent, so the pattern past the largest finite one (infinity)
 * stands for the next power of two.
 */
function isNearest(x: number, bits: number, decode: (b: number) => number, infBits: number, infAs: number): boolean {
  const value = (b: number): number => ((b & 0x7fff) === infBits ? (b & 0x8000 ? -infAs : infAs) : decode(b));
  const mag = bits & 0x7fff;
  const d1 = Math.abs(value(bits) - x);
  for (const m of [mag - 1, mag + 1]) {
    if (m < 0 || m > infBits) continue;
    const d0 = Math.abs(value((bits & 0x8000) | m) - x);
    if (d0 < d1 || (d0 === d1 && (bits & 1) === 1)) return false;
  }
  return true;
}

describe('float16 and bfloat16 encoding', () => {
  it('floatsToHalf gives back every half value (NaN as NaN) and rounds others to the nearest, ties to even', () => {
    const all = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) all[h] = halfToFloat(h);
    const back = floatsToHalf(all);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(all[h])) expect(Number.isNaN(halfToFloat(back[h]))).toBe(true);
      else if (back[h] !== h) throw new Error(`half 0x${h.toString(16)} came back as 0x${back[h].toString(16)}`);
    }
    const rng = new Rng(7);
    // Normal and subnormal halves, and midpoints between neighbours (exact ties).
    const xs = spread(20000, rng, -26, 16);
    const ties = Float32Array.from({ length: 2000 }, (_, i) => (halfToFloat(i * 31 + 1) + halfToFloat(i * 31 + 2)) / 2);
    for (const x of [...xs, ...ties]) {
      const bits = floatsToHalf(new Float32Array([x]))[0];
      if (!isNearest(x, bits, halfToFloat, 0x7c00, 65536)) throw new Error(`floatsToHalf(${x}) = 0x${bits.toString(16)} (${halfToFloat(bits)}) is not the nearest half`);
    }
    expect(Array.from(floatsToHalf(new Float32Array([65504, 65519, 65520, 1e6, -1e6, 2 ** -25, 2 ** -25 * 1.01, 0, -0])))).toEqual([
      0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0000, 0x0001, 0x0000, 0x8000,
    ]);
  });

  it('floatsToBfloat16 rounds to the nearest bfloat16, ties to even, and keeps NaN and infinity', () => {
    const rng = new Rng(8);
    for (const x of spread(20000, rng, -130, 120)) {
      const bits = floatsToBfloat16(new Float32Array([x]))[0];
      if (!isNearest(x, bits, bf16ToFloat, 0x7f80, 2 ** 128)) throw new Error(`floatsToBfloat16(${x}) = 0x${bits.toString(16)} is not the nearest bfloat16`);
    }
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: the even pattern (1) wins; 1 + 3 * 2^-8 rounds up.
    expect(Array.from(floatsToBfloat16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, -Infinity])))).toEqual([0x3f80, 0x3f82, 0x7f80, 0xff80]);
    expect(Number.isNaN(bf16ToFloat(floatsToBfloat16(new Float32Array([NaN]))[0]))).toBe(true);
  });
});

describe('MST-DINOv2-S weights stored as float16, bfloat16 and int8', () => {
  let model: MedicalSliceTransformer;
  let twin: MedicalSliceTransformer;
  let volume: tf.Tensor;
  let reference: number[];
  beforeAll(async () => {
    model = createModel('mst-dinov2-s', { numClasses: 2, seed: 3 }) as MedicalSliceTransformer;
    model.eval();
    twin = createModel('mst-dinov2-s', { numClasses: 2, seed: 99 }) as MedicalSliceTransformer;
    twin.eval();
    volume = tf.randomNormal([6, 56, 56], 0, 1, 'float32', 4);
    reference = (await model.predict(volume)).probabilities;
  });
  afterAll(() => {
    volume.dispose();
    model.dispose();
    twin.dispose();
  });

  async function predictionsAfter(dtype: 'float32' | 'float16' | 'bfloat16' | 'int8'): Promise<{ probabilities: number[]; bytes: number; header: ReturnType<typeof parseSafetensorsHeader> }> {
    const sd = model.stateDict();
    const bytes = await encodeSafetensors(sd, { format: 'pt' }, { dtype });
    disposeStateDict(sd);
    const loaded = await loadSafetensors(bytes);
    twin.loadStateDict(loaded);
    disposeStateDict(loaded);
    const { probabilities } = await twin.predict(volume);
    return { probabilities, bytes: bytes.byteLength, header: parseSafetensorsHeader(bytes) };
  }

  it('float16 and bfloat16 files are about half the size and load to float32 weights predicting within 1e-3', async () => {
    const f32 = await predictionsAfter('float32');
    expect(f32.probabilities).toEqual(reference);
    for (const [dtype, code, tol] of [['float16', 'F16', 1e-3], ['bfloat16', 'BF16', 1e-3]] as const) {
      const before = tf.memory().numTensors;
      const r = await predictionsAfter(dtype);
      expect(tf.memory().numTensors).toBe(before);
      expect(r.bytes / f32.bytes).toBeGreaterThan(0.49);
      expect(r.bytes / f32.bytes).toBeLessThan(0.51);
      const codes = Object.values(r.header.entries).map((e) => (e.shape.length >= 2 ? e.dtype : 'F32'));
      expect(new Set(codes)).toEqual(new Set([code, 'F32']));
      const worst = Math.max(...r.probabilities.map((p, i) => Math.abs(p - reference[i])));
      expect({ dtype, ok: worst < tol }).toEqual({ dtype, ok: true });
    }
  });

  it('int8 files are about a quarter of the size, dequantise on load and predict within 1e-2', async () => {
    const f32 = await predictionsAfter('float32');
    const r = await predictionsAfter('int8');
    expect(r.header.metadata.mst_ts_weight_dtype).toBe('int8');
    expect(r.bytes / f32.bytes).toBeLessThan(0.27);
    const int8Keys = Object.keys(r.header.entries).filter((k) => r.header.entries[k].dtype === 'I8');
    expect(int8Keys.length).toBeGreaterThan(40);
    for (const k of int8Keys) expect(r.header.entries[k + INT8_SCALE_SUFFIX].shape).toEqual([r.header.entries[k].shape[0]]);
    const worst = Math.max(...r.probabilities.map((p, i) => Math.abs(p - reference[i])));
    expect(worst).toBeLessThan(1e-2);
  });

  it('refuses an unknown dtype and int8 scales that do not match their tensor', async () => {
    const sd = { w: tf.ones([3, 2]) };
    await expect(encodeSafetensors(sd, undefined, { dtype: 'float8' as 'int8' })).rejects.toThrow(/dtype must be one of float32, float16, bfloat16, int8, got 'float8'/);
    const bytes = await encodeSafetensors(sd, undefined, { dtype: 'int8' });
    // The scales' dtype rewritten from F32 to I32 in the header: same byte count, wrong type.
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + parseSafetensorsHeader(bytes).dataStart - 8));
    const at = 8 + header.indexOf(`"w${INT8_SCALE_SUFFIX}":{"dtype":"F32"`) + `"w${INT8_SCALE_SUFFIX}":{"dtype":"`.length;
    const bad = Uint8Array.from(bytes);
    bad[at] = 'I'.charCodeAt(0);
    await expect(loadSafetensors(bad)).rejects.toThrow(/int8 tensor 'w' \[3,2\] needs F32 scales \[3\] under 'w\.__int8_scale', got I32 \[3\]/);
    disposeStateDict(sd);
  });
});
