import * as tf from '@tensorflow/tfjs';

// tfjs-backend-webgpu 4.22 mishandles two kinds of rank >= 5 tensors, the activations of every 3D
// CNN (ResNet3D's [B, D, H, W, C]):
// - a binary op between a rank >= 5 tensor and a 1-D one of < 128 cells (a per-channel bias or
//   scale) takes a shared-memory shader that indexes a `vec5` struct: invalid WGSL, so the op
//   silently returns zeros;
// - Select (tf.where) throws "Where for rank 5 is not yet supported".
// Both are element-wise, so the wrappers below run them on a rank-2 or rank-1 view.

/** Kernels built on tfjs-webgpu's BinaryOpProgram, with the names of their two inputs. */
const BINARY_KERNELS: [string, string, string][] = [
  ...['Add', 'Atan2', 'Equal', 'FloorDiv', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr', 'Maximum', 'Minimum', 'Mod', 'Multiply', 'NotEqual', 'Pow', 'RealDiv', 'SquaredDifference', 'Sub'].map(
    (k): [string, string, string] => [k, 'a', 'b'],
  ),
  ['Prelu', 'x', 'alpha'],
  ['EluGrad', 'dy', 'y'],
];

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

let installed = false;

/**
 * Replaces the webgpu kernels that fail on rank >= 5 tensors (see above) with wrappers that run
 * them on flattened views, leaving every other case to the original kernel. Called by
 * `setBackend('webgpu')`; idempotent.
 */
export function installWebGpuHighRankFixes(): void {
  if (installed) return;
  const reshapeKernel = tf.getKernel('Reshape', 'webgpu')?.kernelFunc as unknown as Kernel | undefined;
  if (!reshapeKernel) throw new Error('installWebGpuHighRankFixes: the webgpu backend is not registered');
  const reshape = (x: tf.TensorInfo, shape: number[], backend: tf.KernelBackend) => reshapeKernel({ inputs: { x }, backend, attrs: { shape } });

  /** Runs `kernel` on reshaped inputs, reshaping its output to `outShape`; frees the views. */
  const onViews = (kernel: Kernel, args: KernelArgs, views: Record<string, number[]>, outShape: number[]): tf.TensorInfo => {
    const { backend } = args;
    const inputs = { ...args.inputs };
    const made: tf.TensorInfo[] = [];
    for (const [name, shape] of Object.entries(views)) {
      inputs[name] = reshape(args.inputs[name], shape, backend);
      made.push(inputs[name]);
    }
    const flat = kernel({ ...args, inputs });
    const out = reshape(flat, outShape, backend);
    for (const t of [...made, flat]) backend.disposeData(t.dataId);
    return out;
  };

  for (const [name, first, second] of BINARY_KERNELS) {
    const config = tf.getKernel(name, 'webgpu');
    if (!config) continue;
    const kernel = config.kernelFunc as unknown as Kernel;
    wrap(name, (args) => {
      const a = args.inputs[first];
      const b = args.inputs[second];
      const [big, small, bigName] = a.shape.length >= b.shape.length ? [a, b, first] : [b, a, second];
      if (big.shape.length < 5 || small.shape.length !== 1 || small.shape[0] >= 128) return kernel(args);
      // A 1-D operand broadcasts along the last axis only: a rank-2 view gives the same cells.
      const last = big.shape[big.shape.length - 1];
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      return onViews(kernel, args, { [bigName]: [big.shape.reduce((x, y) => x * y, 1) / last, last] }, outShape);
    });
  }

  const select = tf.getKernel('Select', 'webgpu')?.kernelFunc as unknown as Kernel | undefined;
  if (select) {
    wrap('Select', (args) => {
      const { condition, t, e } = args.inputs;
      if (t.shape.length <= 4) return select(args);
      const size = t.shape.reduce((x, y) => x * y, 1);
      // A rank-1 condition picks whole rows of the first axis; otherwise it matches t and e.
      const rows = t.shape[0];
      const views: Record<string, number[]> = condition.shape.length === 1 ? { t: [rows, size / rows], e: [rows, size / rows] } : { condition: [size], t: [size], e: [size] };
      return onViews(select, args, views, [...t.shape]);
    });
  }
  installed = true;
}

function wrap(kernelName: string, kernelFunc: Kernel): void {
  const config = tf.getKernel(kernelName, 'webgpu') as tf.KernelConfig;
  tf.unregisterKernel(kernelName, 'webgpu');
  tf.registerKernel({ ...config, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
