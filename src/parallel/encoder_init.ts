import { encodeSafetensors } from '../io/safetensors';
import { disposeStateDict } from '../nn/module';
import type { ComponentConfig } from '../models/component_registry';
import { encoderConfigOf, ENCODERS } from '../models/encoder_registry';
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
