import * as tf from '@tensorflow/tfjs';
import type { SharedTensorSlot } from './messages';

/** The typed view of one tensor's slot in a shared buffer (the main thread's and the workers' layout). */
export function slotView(buffer: SharedArrayBuffer, slot: SharedTensorSlot): Float32Array | Int32Array {
  const size = tf.util.sizeFromShape(slot.shape);
  return slot.dtype === 'int32' ? new Int32Array(buffer, slot.offset, size) : new Float32Array(buffer, slot.offset, size);
}
