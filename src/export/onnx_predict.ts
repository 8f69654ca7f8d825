/**
 * Runs an exported `.onnx` volume classifier through `onnxruntime-node`, an optional dependency
 * imported only when a model is loaded (so nothing else in mst-ts needs it installed).
 */

import type { Tensor } from '@tensorflow/tfjs';

/**
 * One volume for {@link OnnxVolumeModel.predict}: a float32 tf.Tensor `[D, H, W]` (`[D, H, W, C]`
 * with several input channels), or its values row-major with the shape.
 */
export type OnnxVolumeInput = Tensor | { data: Float32Array; shape: [number, number, number] | [number, number, number, number] };

/** What {@link OnnxVolumeModel.predict} resolves to. */
export interface OnnxVolumePrediction {
  /** The `logits` output of the one volume. */
  logits: number[];
  /** Softmax of the logits. */
  probabilities: number[];
  /** Every other graph output by name (attention maps of an export with `attention: true`). */
  extra: Record<string, { data: Float32Array; dims: number[] }>;
}

/** An ONNX model of one volume classifier, loaded by {@link loadOnnxModel}. */
export interface OnnxVolumeModel {
  /** The file it was loaded from. */
  readonly path: string;
  /**
   * The graph's input shape `[batch, D, H, W]` (`[batch, D, H, W, C]` with several input channels)
   * as it declares it: a number for a fixed axis, a name for a symbolic one (`'slices'`); empty
   * where the runtime does not tell.
   */
  readonly inputShape: readonly (number | string)[];
  /**
   * Classifies one volume `[D, H, W]` (slices first, as the rest of mst-ts), or `[D, H, W, C]`
   * for a model exported with several input channels, given as a tf.Tensor (read, not disposed)
   * or as `{ data, shape }`; the batch axis is added here.
   */
  predict(volume: OnnxVolumeInput): Promise<OnnxVolumePrediction>;
  /** Frees the ONNX Runtime session. */
  dispose(): Promise<void>;
}

/** The part of `onnxruntime-node` this file uses. */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
  type: string;
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Present from onnxruntime 1.21. */
  inputMetadata?: readonly OrtValueMetadata[];
  outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtValueMetadata {
  name: string;
  type?: string;
  shape?: readonly (number | string)[];
}
interface OrtModule {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array | number[], dims: readonly number[]) => OrtTensor;
}

/**
 * How to install onnxruntime-node, worded the same in every message and in the README: its CPU
 * binary ships in the package, and the flag skips the CUDA download its install script tries
 * (which fails outside the npm registry, and npm then drops the optional package silently).
 */
export const ONNXRUNTIME_INSTALL = 'npm install onnxruntime-node --onnxruntime-node-install=skip';

/** Imports `onnxruntime-node`, or throws saying how to install it. */
export async function importOnnxRuntime(): Promise<OrtModule> {
  // A variable specifier: bundlers leave the optional native package alone.
  const name = 'onnxruntime-node';
  let mod: OrtModule & { default?: OrtModule };
  try {
    mod = (await import(name)) as OrtModule & { default?: OrtModule };
  } catch (e) {
    throw new Error(
      `running ONNX models needs the optional package onnxruntime-node: install it with \`${ONNXRUNTIME_INSTALL}\` (${(e as Error).message.split('\n')[0]})`,
    );
  }
  return mod.InferenceSession ? mod : (mod.default as OrtModule);
}

/** A tf.Tensor by its shape (tfjs is not imported here: the caller's copy may differ from ours). */
function isTensor(x: unknown): x is Tensor {
  const t = x as Tensor;
  return typeof t === 'object' && t !== null && typeof t.data === 'function' && Array.isArray(t.shape) && typeof t.dtype === 'string';
}

/** The values and shape of a tensor volume, checked. */
async function tensorVolume(t: Tensor): Promise<{ data: Float32Array; shape: number[] }> {
  if ((t.rank !== 3 && t.rank !== 4) || t.dtype !== 'float32') {
    const hint = t.dtype !== 'float32' ? ' (tf.cast(volume, "float32"))' : t.rank === 5 && t.shape[0] === 1 ? ' (drop the batch axis: volume.squeeze([0]))' : '';
    throw new Error(`OnnxVolumeModel.predict: expected a float32 tensor [D, H, W] or [D, H, W, C], got ${t.dtype} [${t.shape.join(', ')}]${hint}`);
  }
  return { data: (await t.data()) as Float32Array, shape: t.shape };
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * Loads a `.onnx` file exported by `toOnnxBytes`/`exportOnnx` (input `volume` `[batch, D, H, W]`,
 * output `logits` `[batch, numClasses]`, optional attention outputs) into an ONNX Runtime session.
 *
 * @param options.threads intra-op threads (default: ONNX Runtime's choice, one per core)
 * @example
 * const model = await loadOnnxModel('mst.onnx', { threads: 2 });
 * const { probabilities } = await model.predict({ data, shape: [32, 224, 224] });
 * const again = await model.predict(tf.tensor3d(data, [32, 224, 224])); // a tensor works too
 * await model.dispose();
 */
export async function loadOnnxModel(path: string, options: { threads?: number } = {}): Promise<OnnxVolumeModel> {
  const ort = await importOnnxRuntime();
  const sessionOptions: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  if (options.threads !== undefined) {
    if (!(Number.isInteger(options.threads) && options.threads > 0)) throw new Error(`loadOnnxModel: threads must be a positive integer, got ${options.threads}`);
    sessionOptions.intraOpNumThreads = options.threads;
    sessionOptions.interOpNumThreads = 1;
  }
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(path, sessionOptions);
  } catch (e) {
    throw new Error(`loadOnnxModel: cannot load '${path}': ${(e as Error).message}`);
  }
  if (session.inputNames.length !== 1) {
    throw new Error(`loadOnnxModel: '${path}' has inputs [${session.inputNames.join(', ')}]; expected one volume input`);
  }
  if (!session.outputNames.includes('logits')) {
    throw new Error(`loadOnnxModel: '${path}' has no 'logits' output (outputs: ${session.outputNames.join(', ')})`);
  }
  const inputName = session.inputNames[0];
  // onnxruntime checks `data instanceof Float32Array` against its own realm's class, which differs
  // from the caller's inside vm contexts (jest): wrap the caller's buffer in that class, no copy.
  const OrtFloat32Array = (new ort.Tensor('float32', [0], [1]).data as Float32Array).constructor as Float32ArrayConstructor;
  let released = false;
  const inputShape = [...(session.inputMetadata?.find((m) => m.name === inputName)?.shape ?? [])];
  return {
    path,
    inputShape,
    async predict(volume) {
      if (released) throw new Error(`OnnxVolumeModel: '${path}' was disposed`);
      const { data, shape } = isTensor(volume) ? await tensorVolume(volume) : (volume ?? {});
      if (!(data instanceof Float32Array) || !Array.isArray(shape) || (shape.length !== 3 && shape.length !== 4)) {
        throw new Error(`OnnxVolumeModel.predict: expected a float32 tf.Tensor or { data: Float32Array, shape: [D, H, W] or [D, H, W, C] }, got shape ${JSON.stringify(shape)}`);
      }
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (count !== data.length) throw new Error(`OnnxVolumeModel.predict: shape [${shape.join(', ')}] needs ${count} values, got ${data.length}`);
      // The graph's rank counts its batch axis; a volume with a batch axis of its own is one too many.
      if (inputShape.length === 4 || inputShape.length === 5) {
        const wanted = inputShape.length === 4 ? '[D, H, W]' : `[D, H, W, ${inputShape[4]}]`;
        if (shape.length + 1 !== inputShape.length) {
          const hint = shape[0] === 1 && shape.length === inputShape.length ? ' (drop the batch axis: predict adds it)' : '';
          throw new Error(`OnnxVolumeModel.predict: '${path}' takes a volume ${wanted}, got [${shape.join(', ')}]${hint}`);
        }
      }
      let outputs: Record<string, OrtTensor>;
      try {
        const input = data.constructor === OrtFloat32Array ? data : new OrtFloat32Array(data.buffer, data.byteOffset, data.length);
        outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, ...shape]) });
      } catch (e) {
        throw new Error(`OnnxVolumeModel.predict: '${path}' failed on a volume [${shape.join(', ')}]: ${(e as Error).message}`);
      }
      const logits = Array.from(outputs.logits.data as Float32Array);
      const extra: OnnxVolumePrediction['extra'] = {};
      for (const name of session.outputNames) {
        if (name === 'logits') continue;
        const t = outputs[name];
        extra[name] = { data: t.data as Float32Array, dims: Array.from(t.dims) };
      }
      return { logits, probabilities: softmax(logits), extra };
    },
    async dispose() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}

/** One input or output of an ONNX graph: its name, element type and shape (a name for a symbolic axis). */
export interface OnnxValueInfo {
  name: string;
  /** `'float32'`, ...; null where the runtime does not tell (onnxruntime before 1.21). */
  type: string | null;
  /** null where the runtime does not tell. */
  shape: (number | string)[] | null;
}

/**
 * The inputs and outputs of any `.onnx` graph as ONNX Runtime reads them (`mst-ts inspect` on a
 * graph); the session is released before it resolves.
 *
 * @example
 * const { inputs, outputs } = await describeOnnxModel('mst.onnx');
 * inputs[0]; // { name: 'volume', type: 'float32', shape: ['batch', 'slices', 224, 224] }
 */
export async function describeOnnxModel(path: string): Promise<{ inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] }> {
  const ort = await importOnnxRuntime();
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(path);
  } catch (e) {
    throw new Error(`describeOnnxModel: cannot load '${path}': ${(e as Error).message}`);
  }
  const info = (names: readonly string[], meta: readonly OrtValueMetadata[] | undefined): OnnxValueInfo[] =>
    names.map((name) => {
      const m = meta?.find((x) => x.name === name);
      return { name, type: m?.type ?? null, shape: m?.shape ? [...m.shape] : null };
    });
  const described = { inputs: info(session.inputNames, session.inputMetadata), outputs: info(session.outputNames, session.outputMetadata) };
  await session.release();
  return described;
}
