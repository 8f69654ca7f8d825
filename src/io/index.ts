export { loadSafetensors, saveSafetensors, encodeSafetensors, parseSafetensorsHeader, decodeSafetensorsEntry, halfToFloat } from './safetensors';
export type { SafetensorsDtype, SafetensorsEntry, SafetensorsHeader } from './safetensors';
export { readBytes, writeFileAtomic } from './files';
