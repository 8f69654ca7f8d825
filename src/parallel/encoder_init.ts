import { encodeSafetensors, loadSafetensors } from '../io/safetensors';
import { withoutInit } from '../nn/init';
import { disposeStateDict } from '../nn/module';
import type { ComponentConfig } from '../models/component_registry';
import { createEncoder, encoderConfigOf, ENCODERS } from '../models/encoder_registry';
import type { SliceEncoder } from '../models/slice_encoder';
import type { InitMessage } from './messages';

/**
 * The message that makes a worker (Node or browser) build `encoder` and load its weights: the
 * encoder's registered config, the modules that register it, its weights as safetensors bytes.
 * Errors start with `who` (the pool's name).
 *
 * @example
 * const init = await encoderInitMessage('SliceEncoderPool', model.encoder, {});
 */
export async function encoderInitMessage(who: string, encoder: SliceEncoder, options: { config?: ComponentConfig; backend?: string }): Promise<InitMessage> {
  if (!encoder || typeof encoder.encode !== 'function') throw new Error(`${who}: expected a SliceEncoder (e.g. model.encoder)`);
  let config: ComponentConfig;
  let modules: string[];
  try {
    config = options.config ?? encoderConfigOf(encoder);
    modules = ENCODERS.modulesFor([config.name]);
  } catch (e) {
    throw new Error(`${who}: ${(e as Error).message}`);
  }
  const dict = encoder.stateDict();
  try {
    return { type: 'init', encoder: config, modules, weights: await encodeSafetensors(dict), backend: options.backend ?? 'wasm' };
  } finally {
    disposeStateDict(dict);
  }
}

/**
 * The worker's side of {@link encoderInitMessage}: the encoder built from its registered config
 * (without random draws: the weights follow), its weights loaded, in evaluation mode. The
 * message's modules must be imported first.
 *
 * @example
 * const encoder = await encoderFromInitMessage(init);
 */
export async function encoderFromInitMessage(m: InitMessage): Promise<SliceEncoder> {
  const built = withoutInit(() => createEncoder(m.encoder.name, m.encoder.options));
  const dict = await loadSafetensors(m.weights);
  try {
    built.loadStateDict(dict);
  } finally {
    disposeStateDict(dict);
  }
  built.eval();
  return built;
}

/**
 * The workers' feature blocks, in order, as one array of `total` values.
 *
 * @example
 * joinFeatures([new Float32Array(2), new Float32Array(3)], 5).length; // 5
 */
export function joinFeatures(blocks: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let offset = 0;
  for (const b of blocks) {
    out.set(b, offset);
    offset += b.length;
  }
  return out;
}
