export { SliceEncoderPool, defaultWorkerPath } from './slice_encoder_pool';
export type { SliceEncoderPoolOptions } from './slice_encoder_pool';
export { predictWithPool } from './predict_with_pool';
export { buildEncoder, ENCODER_FACTORIES } from './encoder_spec';
export type { EncoderSpec } from './encoder_spec';
export { mstHeadForward } from './mst_head';
