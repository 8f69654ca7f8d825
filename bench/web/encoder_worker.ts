// A Web Worker of the page's WebSliceEncoderPool: tfjs-wasm's binaries are served under tfjs-wasm/.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { serveSliceEncoder, type WebWorkerLike } from '../../src/parallel/web_pool';

setWasmPaths(new URL('./tfjs-wasm/', self.location.href).href);
serveSliceEncoder(self as unknown as WebWorkerLike);
