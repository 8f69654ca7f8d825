import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import type { StateDict } from '../src/nn/module';
import { fixturePath } from './helpers';

/**
 * The TypeScript twin of tools/reference/common.py: regenerates, bit for bit, the weights a
 * reference script described in a JSON spec, so fixtures commit specs instead of weights.
 */

interface SpecEntry {
  shape: number[];
  low?: number;
  high?: number;
  const?: number;
  dtype?: 'int64';
}

/** A weight spec written by `make_spec` in tools/reference/common.py. */
export interface WeightSpec {
  seed: number;
  tensors: Record<string, SpecEntry>;
}

// A module-level copy: inside jest's vm context every `Math` lookup costs ~0.5 us.
const { imul } = Math;

/** FNV-1a over the UTF-8 bytes of a key. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** n numbers in [0, 1) with 24 random bits, equal to common.py's `hash_uniform`. */
export function hashUniform(seed: number, n: number): Float64Array {
  const base = imul(seed >>> 0, 0x9e3779b9) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = (i + base) >>> 0;
    z ^= z >>> 16;
    z = imul(z, 0x85ebca6b) >>> 0;
    z ^= z >>> 13;
    z = imul(z, 0xc2b2ae35) >>> 0;
    z ^= z >>> 16;
    out[i] = (z >>> 8) / 16777216;
  }
  return out;
}

/** The state dict a spec describes (PyTorch layout), as common.py's `fill_from_spec`. */
export function stateDictFromSpec(spec: WeightSpec): StateDict {
  const out: StateDict = {};
  for (const [key, e] of Object.entries(spec.tensors)) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (e.const !== undefined) data.fill(e.const);
    else {
      const u = hashUniform((fnv1a(key) ^ spec.seed) >>> 0, n);
      const low = e.low as number;
      const span = (e.high as number) - low;
      for (let i = 0; i < n; i++) data[i] = low + span * u[i];
    }
    out[key] = e.dtype === 'int64' ? tf.tensor(Int32Array.from(data), e.shape, 'int32') : tf.tensor(data, e.shape, 'float32');
  }
  return out;
}

/** Reads a spec JSON from test/fixtures and builds its state dict. */
export function stateDictFromSpecFile(...parts: string[]): StateDict {
  return stateDictFromSpec(JSON.parse(fs.readFileSync(fixturePath(...parts), 'utf8')) as WeightSpec);
}
