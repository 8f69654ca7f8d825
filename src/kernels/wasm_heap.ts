import type * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm every mst-ts kernel touches. */
export interface WasmHeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The byte offset of a tensor's data in the wasm heap; unsigned, as heaps above 2 GiB give offsets past int32. */
export function heapOffset(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error(`mst-ts wasm kernels: the data of a ${t.dtype} [${t.shape.join(', ')}] tensor is not resident on the wasm backend`);
  return entry.memoryOffset >>> 0;
}
