export { SliceEncoderPool } from './slice_encoder_pool';
export type { SliceEncoderPoolOptions } from './slice_encoder_pool';
export { predictWithPool } from './predict_with_pool';
export { DataParallelGradients } from './data_parallel';
export type { DataParallelOptions, DataParallelStepOptions } from './data_parallel';
export { defaultWorkerPath } from './worker_group';
export { dataParallel } from './data_parallel_strategy';
