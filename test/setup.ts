import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend';

// Tests run on the library's Node default unless MST_TEST_BACKEND names another.
beforeAll(async () => {
  await setBackend(process.env.MST_TEST_BACKEND ?? 'wasm');
  tf.env().set('PROD', true);
});
