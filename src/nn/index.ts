export { Module, ModuleList, disposeStateDict } from './module';
export type { StateDict, LoadStateDictOptions, LoadStateDictResult, BufferOptions } from './module';
export type { ParamLayout } from './layout';
export { torchToOurs, oursToTorch, torchShape, oursShape } from './layout';
export * as init from './init';
