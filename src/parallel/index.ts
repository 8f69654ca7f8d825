export { SliceEncoderPool } from './slice_encoder_pool';
export type { SliceEncoderPoolOptions } from './slice_encoder_pool';
export { predictWithPool, type SliceFeaturePool } from './predict_with_pool';
export { WebSliceEncoderPool, serveSliceEncoder, type WebSliceEncoderPoolOptions, type WebWorkerLike } from './web_pool';
export { DataParallelGradients } from './data_parallel';
export type { DataParallelOptions, DataParallelStepOptions } from './data_parallel';
export { defaultWorkerPath } from './worker_group';
export { dataParallel } from './data_parallel_strategy';
