export { Linear } from './linear';
export type { LinearOptions } from './linear';
export { LayerNorm } from './layer_norm';
export { gelu } from './gelu';
