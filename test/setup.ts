import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend';

// The PyTorch parity tolerances were set on the plain SIMD128 kernels' summation order; fused
// multiply-add rounds differently (test/native/relaxed_simd.test.ts checks the two builds agree).
if (/[\\/]test[\\/]parity[\\/]/.test(expect.getState().testPath ?? '')) process.env.MST_WASM_RELAXED_SIMD ??= '0';

// Tests run on the library's Node default unless MST_TEST_BACKEND names another.
beforeAll(async () => {
  await setBackend(process.env.MST_TEST_BACKEND ?? 'wasm');
  tf.env().set('PROD', true);
});
