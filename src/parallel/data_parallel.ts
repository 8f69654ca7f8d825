import * as tf from '@tensorflow/tfjs';
import { ENCODERS } from '../models/encoder_registry';
import { FUSIONS } from '../models/fusion_registry';
import type { MedicalSliceTransformer, MstModelConfig } from '../models/medical_slice_transformer';
import type { ResNet3D, ResNet3DModelConfig } from '../models/resnet3d';
import type { InitModelMessage, SharedTensorSlot } from './messages';
import { slotView } from './slot_view';
import { WorkerGroup } from './worker_group';

/** Options of {@link DataParallelGradients.create}. */
export interface DataParallelOptions {
  /** Worker threads (default 2). */
  workers?: number;
  /** tfjs backend of the workers (default 'wasm'). */
  backend?: string;
  /** Path of the worker script (default: `encoder_worker.js` of the build). */
  workerPath?: string;
}

/** Options of {@link DataParallelGradients.gradients}. */
export interface DataParallelStepOptions {
  /** Slice checkpointing chunk in the workers (default 0: plain gradients); for a 3D ResNet, > 0 checkpoints its blocks. */
  chunkSize?: number;
  /**
   * Cross-entropy class weights (torch's `weight`: the loss is the weighted mean over the whole
   * batch, each shard counting by the sum of its targets' weights). Default unweighted.
   */
  classWeights?: readonly number[];
}

/**
 * Data-parallel gradients of an MST or a 3D ResNet on `worker_threads`: the batch is split into
 * one shard of volumes per worker, each worker (its own wasm backend and model copy, rebuilt from
 * the model's config) computes the mean cross-entropy and its gradients at the model's current
 * weights, and the results are averaged weighted by shard size (or by class-weight sum). For an
 * MST without batch norm that equals the gradient of the whole batch. Batch norm (a 3D ResNet's, a
 * ResNet2D slice encoder's) normalises each shard by its own statistics, as PyTorch's
 * DistributedDataParallel without SyncBatchNorm does: its gradients are the shards' weighted mean,
 * and its running statistics become the shards' mean (weighted by volumes).
 * The weights reach the workers, and the gradients come back, through shared memory
 * (`SharedArrayBuffer`s set up at the first call): one copy each way, no serialisation.
 *
 * @example
 * const dp = await DataParallelGradients.create(model, { workers: 2 });
 * const { loss, grads } = await dp.gradients(model, volumes, [0, 1]); // volumes [2, D, H, W]
 * optimizer.step(grads);
 * tf.dispose([loss, grads]);
 * await dp.dispose();
 */
export class DataParallelGradients {
  /** The memory shared with the workers, laid out at the first call for that call's model. */
  private shared: { params: SharedTensorSlot[]; buffers: SharedTensorSlot[]; weights: SharedArrayBuffer; grads: SharedArrayBuffer[] } | null = null;
  /** A call in flight: the shared memory serves one step at a time. */
  private busy = false;

  private constructor(private readonly group: WorkerGroup) {}

  /**
   * Starts the workers, each building a model of `model`'s architecture (the weights are shared with
   * each call). An encoder or fusion of your own must be registered with a `module` the workers
   * import.
   */
  static async create(model: MedicalSliceTransformer | ResNet3D | MstModelConfig | ResNet3DModelConfig, options: DataParallelOptions = {}): Promise<DataParallelGradients> {
    const count = options.workers ?? 2;
    if (!(Number.isInteger(count) && count > 0)) throw new Error(`DataParallelGradients: workers must be a positive integer, got ${count}`);
    let config: MstModelConfig | ResNet3DModelConfig;
    try {
      config = 'modelConfig' in model && typeof model.modelConfig === 'function' ? model.modelConfig() : (model as MstModelConfig | ResNet3DModelConfig);
    } catch (e) {
      throw new Error(`DataParallelGradients: ${(e as Error).message}`);
    }
    const modules = config.model === 'resnet3d' ? [] : [...ENCODERS.modulesFor([config.encoder.name]), ...FUSIONS.modulesFor([config.fusion.name])];
    const init: InitModelMessage = { type: 'initModel', config, modules, backend: options.backend ?? 'wasm' };
    try {
      return new DataParallelGradients(await WorkerGroup.start(count, init, options.workerPath));
    } catch (e) {
      throw new Error(`DataParallelGradients: ${(e as Error).message}`);
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.group.size;
  }

  /**
   * The mean cross-entropy of `volumes` `[B, D, H, W]` (or `[B, D, H, W, 1]`) and its gradients,
   * keyed by `tf.Variable.name` of `model`'s parameters as `tf.variableGrads` returns them.
   */
  async gradients(model: MedicalSliceTransformer | ResNet3D, volumes: tf.Tensor, labels: readonly number[], options: DataParallelStepOptions = {}): Promise<{ loss: tf.Scalar; grads: tf.NamedTensorMap }> {
    if (!(volumes instanceof tf.Tensor) || !(volumes.rank === 4 || (volumes.rank === 5 && volumes.shape[4] === 1)) || volumes.dtype !== 'float32') {
      const got = volumes instanceof tf.Tensor ? `${volumes.dtype} [${volumes.shape.join(', ')}]` : typeof volumes;
      throw new Error(`DataParallelGradients: expected float32 gray volumes [B, D, H, W] or [B, D, H, W, 1], got ${got}`);
    }
    const [B, D, H, W] = volumes.shape;
    if (B === 0) throw new Error(`DataParallelGradients: the batch is empty (volumes [${volumes.shape.join(', ')}])`);
    if (labels.length !== B) throw new Error(`DataParallelGradients: expected ${B} labels, got ${labels.length}`);
    if (this.busy) throw new Error('DataParallelGradients: a step is already in progress (await each gradients() call before the next)');
    this.busy = true;
    try {
      return await this.step(model, volumes, labels, options);
    } finally {
      this.busy = false;
    }
  }

  private async step(model: MedicalSliceTransformer | ResNet3D, volumes: tf.Tensor, labels: readonly number[], options: DataParallelStepOptions): Promise<{ loss: tf.Scalar; grads: tf.NamedTensorMap }> {
    const [B, D, H, W] = volumes.shape;
    const shared = await this.share(model);
    const params = model.namedParameters();
    const buffers = model.namedBuffers();
    const current = [...params, ...buffers];
    const slots = [...shared.params, ...shared.buffers];
    if (current.length !== slots.length) throw new Error(`DataParallelGradients: the model has ${current.length} parameters and buffers, the one of the first call ${slots.length} (one DataParallelGradients per model)`);
    for (let i = 0; i < slots.length; i++) {
      const [name, v] = current[i];
      if (name !== slots[i].name || !tf.util.arraysEqual(v.shape, slots[i].shape) || v.dtype !== slots[i].dtype) throw new Error(`DataParallelGradients: the model differs from the one of the first call at '${name}' (one DataParallelGradients per model)`);
      slotView(shared.weights, slots[i]).set((await v.data()) as Float32Array | Int32Array);
    }
    const data = (await volumes.data()) as Float32Array;
    // Frozen or unfrozen since the workers were built: they differentiate what the model trains now.
    const trainable = params.map(([, v]) => v.trainable);
    const cw = options.classWeights ? [...options.classWeights] : undefined;
    // A shard's share of the batch mean: its count, or with class weights its targets' weight sum.
    const share = (ys: readonly number[]): number => (cw ? ys.reduce((s, y) => s + (cw[y] ?? NaN), 0) : ys.length);
    const total = share(labels);
    if (!(total > 0)) throw new Error(`DataParallelGradients: the class weights [${cw?.join(', ')}] give the batch's labels [${labels.join(', ')}] no positive total weight`);
    const per = Math.ceil(B / this.group.size);
    const volume = D * H * W;
    const shards: Promise<{ share: number; count: number; loss: number; names: string[]; buffers?: { names: string[]; values: (Float32Array | Int32Array)[] } }>[] = [];
    for (let i = 0, start = 0; start < B; i++, start += per) {
      const n = Math.min(per, B - start);
      const block = data.slice(start * volume, (start + n) * volume);
      const message = { type: 'grads', trainable, data: block, shape: [n, D, H, W], labels: labels.slice(start, start + n), chunkSize: options.chunkSize ?? 0, classWeights: cw };
      shards.push(
        this.group.request(i, message, [block.buffer]).then((r) => {
          if (r.type !== 'grads') throw new Error(`DataParallelGradients: unexpected reply '${r.type}'`);
          return { share: share(labels.slice(start, start + n)), count: n, ...r };
        }),
      );
    }
    const results = await Promise.all(shards);
    // A shard whose targets all weigh 0 contributes nothing (its own weighted mean is 0 / 0).
    const weights = results.map((r) => (r.share === 0 ? null : r.share / total));
    const loss = results.reduce((sum, r, j) => sum + (weights[j] === null ? 0 : (weights[j] as number) * r.loss), 0);
    const names = results[0].names;
    if (results.some((r) => r.names.length !== names.length || r.names.some((name, i) => name !== names[i]))) {
      throw new Error('DataParallelGradients: the workers returned gradients of different parameters');
    }
    // Every worker sums its share of the floats, over the first worker's gradient buffer.
    const floats = shared.grads[0].byteLength / 4;
    const part = Math.ceil(floats / this.group.size);
    const padded = [...weights, ...Array<null>(shared.grads.length - weights.length).fill(null)];
    await Promise.all(
      shared.grads.map((_, i) => this.group.request(i, { type: 'reduce', weights: padded, from: Math.min(floats, i * part), to: Math.min(floats, (i + 1) * part) })),
    );
    const slotOf = new Map(shared.params.map((slot) => [slot.name, slot]));
    const variables = new Map(params);
    const grads: tf.NamedTensorMap = {};
    for (const name of names) {
      const v = variables.get(name) as tf.Variable;
      // Copied out of the shared memory: a backend may keep the array it is given.
      grads[v.name] = tf.tensor(slotView(shared.grads[0], slotOf.get(name) as SharedTensorSlot).slice(), v.shape);
    }
    setBuffers(model, results, B);
    return { loss: tf.scalar(loss), grads };
  }

  /** The shared memory for `model`'s layout, set up (and sent to the workers) at the first call. */
  private async share(model: MedicalSliceTransformer | ResNet3D): Promise<NonNullable<DataParallelGradients['shared']>> {
    if (this.shared) return this.shared;
    let offset = 0;
    const place = ([name, v]: [string, tf.Variable]): SharedTensorSlot => {
      if (v.dtype !== 'float32' && v.dtype !== 'int32') throw new Error(`DataParallelGradients: '${name}' is ${v.dtype}; only float32 and int32 tensors are shared`);
      const slot = { name, offset, shape: [...v.shape], dtype: v.dtype };
      offset += 4 * v.size;
      return slot;
    };
    const params = model.namedParameters().map(place);
    const paramBytes = offset;
    const buffers = model.namedBuffers().map(place);
    const weights = new SharedArrayBuffer(offset);
    const grads = Array.from({ length: this.group.size }, () => new SharedArrayBuffer(paramBytes));
    await Promise.all(grads.map((_, i) => this.group.request(i, { type: 'shareMemory', params, buffers, weights, grads, index: i })));
    this.shared = { params, buffers, weights, grads };
    return this.shared;
  }

  /** Stops the workers. */
  async dispose(): Promise<void> {
    // The shared buffers (the weights and one gradient copy per worker) go with the workers.
    this.shared = null;
    await this.group.terminate();
  }
}

/**
 * A 3D ResNet's buffers after a data-parallel step: each float buffer (batch-norm running mean and
 * variance) the mean of the shards' weighted by their volumes, integer ones (step counts) the
 * first shard's, which all equal.
 */
function setBuffers(model: MedicalSliceTransformer | ResNet3D, results: { count: number; buffers?: { names: string[]; values: (Float32Array | Int32Array)[] } }[], total: number): void {
  const first = results[0]?.buffers;
  if (!first) return;
  const buffers = new Map(model.namedBuffers());
  first.names.forEach((name, j) => {
    const v = buffers.get(name);
    if (!v) throw new Error(`DataParallelGradients: a worker returned the buffer '${name}', which the model lacks (spec and model differ)`);
    let value: Float32Array | Int32Array = first.values[j];
    if (v.dtype === 'float32') {
      const acc = new Float32Array(value.length);
      for (const r of results) {
        const w = r.count / total;
        const src = r.buffers?.values[j] as Float32Array;
        for (let k = 0; k < acc.length; k++) acc[k] += w * src[k];
      }
      value = acc;
    }
    tf.tidy(() => v.assign(tf.tensor(value, v.shape, v.dtype)));
  });
}

