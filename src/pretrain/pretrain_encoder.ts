import * as tf from '@tensorflow/tfjs';
import { readBytes, writeFileAtomic } from '../io/files';
import { decodeSafetensorsEntry, parseSafetensorsHeader, saveSafetensors } from '../io/safetensors';
import { DinoVisionTransformer, type DinoVisionTransformerOptions } from '../models/dinov2';
import { saveModel } from '../models/save_model';
import { disposeStateDict, type Module, type StateDict } from '../nn/module';
import { leanVariableGrads } from '../ops/lean_backprop';
import { AdamW } from '../train/adamw';
import { formatDuration, type ProgressReporter } from '../train/progress';
import { deriveSeed } from '../train/seed';
import { Rng } from '../utils/rng';
import { collapseDiagnosis, teacherStats, type TeacherStats } from './collapse';
import { DinoHead, type DinoHeadOptions } from './dino_head';
import { dinoLoss, teacherTargets, updateCenter } from './dino_loss';
import { ibotPatchLoss, maskedPatchIndex, randomPatchMasks, type PatchMaskOptions } from './ibot';
import { knnProbe, type KnnProbeSet, type KnnResult } from './knn_probe';
import { koleoLoss } from './koleo';
import { lossCurveSvg } from './loss_curve';
import { multiCrop, type MultiCropOptions, type Slice2D } from './multi_crop';
import { cosineSchedule, teacherTempSchedule } from './schedules';
import type { SlicePool } from './slice_pool';
import { clipGradients, emaUpdate } from './teacher';
import { repeatChannels } from '../ops/repeat_channels';

/** The DINO recipe; every default is the DINO paper's (ViT-S/16) unless it says otherwise. */
export interface DinoRecipe {
  /** Epochs (DINO: 100-800). */
  epochs: number;
  /** Images (slices) per epoch; default: as many as the pool holds slices. */
  imagesPerEpoch?: number;
  /** Images per step (DINO: 1024 over 16 GPUs; default 32). */
  batchSize?: number;
  /** Crop sizes, scales and counts (default: global crops of each batch's slice side, local ones half that, 6 of them). */
  crops?: Partial<MultiCropOptions>;
  /** Projection head sizes (default: DINO's 2048 hidden, 256 bottleneck, 65536 prototypes). */
  head?: Omit<DinoHeadOptions, 'inDim' | 'rng'>;
  /** Peak learning rate (default DINO's linear scaling, 5e-4 * batchSize / 256). */
  lr?: number;
  /** Learning rate at the end of the cosine decay (1e-6). */
  minLr?: number;
  /** Epochs of linear learning-rate warm-up (DINO: 10; default min(10, ceil(epochs / 10))). */
  warmupEpochs?: number;
  /** Weight decay, cosine from the first to the second value (0.04 to 0.4); biases and norms get none. */
  weightDecay?: [number, number];
  /** Teacher momentum at the start, cosine to 1 at the end (0.996). */
  momentum?: number;
  /** Teacher temperature after its warm-up (0.07). */
  teacherTemp?: number;
  /** Teacher temperature at the start (0.04). */
  warmupTeacherTemp?: number;
  /** Epochs of the linear teacher-temperature warm-up (DINO: 30; default min(30, ceil(0.3 * epochs))). */
  warmupTeacherTempEpochs?: number;
  /** Student temperature (0.1). */
  studentTemp?: number;
  /** Momentum of the centre (0.9). */
  centerMomentum?: number;
  /** Per-parameter gradient norm clip (3.0; 0 disables it). */
  clipGrad?: number;
  /** Epochs during which the head's last layer stays fixed (1). */
  freezeLastLayerEpochs?: number;
  /** DINOv2's KoLeo regulariser on the student's global class tokens, weight (default 0: off; DINOv2: 0.1). */
  koleoWeight?: number;
  /** iBOT's masked-patch loss, weight (default 0: off; DINOv2: 1.0). */
  ibotWeight?: number;
  /** iBOT masks (DINOv2's: half the global crops, 10-50% of their patches). */
  masks?: PatchMaskOptions;
}

/** Options of {@link pretrainEncoder}. */
export interface PretrainEncoderOptions extends DinoRecipe {
  /** The ViT to pretrain (a DINOv2 backbone; its class token is the image feature). */
  encoder: DinoVisionTransformerOptions;
  /** Unlabelled slices. */
  data: SlicePool;
  /** k-NN probes run before training (the random encoder) and after every epoch. */
  probes?: KnnProbeSet[];
  /** Seed of the initial weights, the sampling, the crops and the masks (default 0). */
  seed?: number;
  /**
   * A folder for `last.safetensors` (resumable checkpoint), `encoder.safetensors` + `encoder.json`
   * (the teacher backbone in DINOv2's hub names, rewritten every epoch), `log.jsonl` (one line per
   * epoch), `loss.csv` (one line per step) and `loss_curve.svg`. Without it nothing is written.
   */
  outDir?: string;
  /** Continue from `outDir/last.safetensors` when it exists (default false). */
  resume?: boolean;
  /** Progress bar (see `TerminalProgress`). */
  progress?: ProgressReporter;
  /** Log lines: per-epoch summaries and collapse warnings (default none). */
  print?: (line: string) => void;
  /** Called after each epoch with its record. */
  onEpoch?: (record: PretrainEpochRecord) => void;
}

/** One line of `log.jsonl`: an epoch of pretraining (epoch 0: the random encoder's probes). */
export interface PretrainEpochRecord {
  epoch: number;
  step: number;
  /** Mean total loss over the epoch's steps (NaN at epoch 0). */
  loss: number;
  dinoLoss: number;
  koleoLoss: number;
  ibotLoss: number;
  /** The last step's learning rate, weight decay and teacher momentum, and the epoch's teacher temperature. */
  lr: number;
  weightDecay: number;
  momentum: number;
  teacherTemp: number;
  /** Means of the steps' {@link TeacherStats}. */
  teacher: TeacherStats;
  /** k-NN accuracy and AUC of the teacher backbone per probe. */
  knn: Record<string, { accuracy: number; auc: number }>;
  /** The collapse found in this epoch's statistics, or null. */
  collapse: string | null;
  seconds: number;
  cpuSeconds: number;
}

/** What {@link pretrainEncoder} returns. */
export interface PretrainResult {
  /** The teacher's backbone, the pretrained encoder (DINO evaluates the teacher); the caller disposes it. */
  encoder: DinoVisionTransformer;
  /** Epoch 0 (random encoder, probes only) and every trained epoch, the resumed ones included. */
  history: PretrainEpochRecord[];
  /** The last epoch's collapse diagnosis, or null. */
  collapse: string | null;
}

/** The whole recipe with every default resolved. */
interface Resolved extends Required<Omit<DinoRecipe, 'crops' | 'head' | 'masks' | 'imagesPerEpoch'>> {
  imagesPerEpoch: number;
  crops: MultiCropOptions;
  head: Omit<DinoHeadOptions, 'inDim' | 'rng'> & { outDim: number };
  masks: PatchMaskOptions;
  seed: number;
}

function resolve(o: PretrainEncoderOptions): Resolved {
  const epochs = o.epochs;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`pretrainEncoder: epochs must be a positive integer, got ${epochs}`);
  const batchSize = o.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 2)) throw new Error(`pretrainEncoder: batchSize must be an integer >= 2, got ${batchSize}`);
  const imagesPerEpoch = o.imagesPerEpoch ?? o.data.slices;
  if (!(Number.isInteger(imagesPerEpoch) && imagesPerEpoch >= batchSize)) throw new Error(`pretrainEncoder: imagesPerEpoch must be an integer >= batchSize ${batchSize}, got ${imagesPerEpoch}`);
  const patch = o.encoder.patchSize ?? 14;
  const crops: MultiCropOptions = { localCrops: 6, ...o.crops, multipleOf: patch };
  for (const [name, s] of [['globalSize', crops.globalSize], ['localSize', crops.localSize]] as const) {
    if (s !== undefined && !(Number.isInteger(s) && s >= patch && s % patch === 0)) throw new Error(`pretrainEncoder: crops.${name} must be a multiple of the patch size ${patch}, got ${s}`);
  }
  if (!(Number.isInteger(crops.localCrops) && crops.localCrops >= 0)) throw new Error(`pretrainEncoder: crops.localCrops must be a non-negative integer, got ${crops.localCrops}`);
  const r: Resolved = {
    epochs,
    batchSize,
    imagesPerEpoch,
    crops,
    head: { outDim: 65536, ...o.head },
    lr: o.lr ?? (5e-4 * batchSize) / 256,
    minLr: o.minLr ?? 1e-6,
    warmupEpochs: o.warmupEpochs ?? Math.min(10, Math.ceil(epochs / 10)),
    weightDecay: o.weightDecay ?? [0.04, 0.4],
    momentum: o.momentum ?? 0.996,
    teacherTemp: o.teacherTemp ?? 0.07,
    warmupTeacherTemp: o.warmupTeacherTemp ?? 0.04,
    warmupTeacherTempEpochs: o.warmupTeacherTempEpochs ?? Math.min(30, Math.ceil(0.3 * epochs)),
    studentTemp: o.studentTemp ?? 0.1,
    centerMomentum: o.centerMomentum ?? 0.9,
    clipGrad: o.clipGrad ?? 3,
    freezeLastLayerEpochs: o.freezeLastLayerEpochs ?? 1,
    koleoWeight: o.koleoWeight ?? 0,
    ibotWeight: o.ibotWeight ?? 0,
    masks: o.masks ?? {},
    seed: o.seed ?? 0,
  };
  if (!(r.lr > 0 && r.minLr >= 0)) throw new Error(`pretrainEncoder: lr must be positive and minLr non-negative, got ${r.lr} and ${r.minLr}`);
  if (!(r.koleoWeight >= 0 && r.ibotWeight >= 0)) throw new Error(`pretrainEncoder: koleoWeight and ibotWeight must be non-negative, got ${r.koleoWeight} and ${r.ibotWeight}`);
  return r;
}

/** Where pretraining stands after an epoch, as the checkpoint's metadata holds it. */
interface PretrainState {
  epoch: number;
  step: number;
  seed: number;
  /** The resolved recipe and encoder, so a resume with other settings is refused. */
  fingerprint: string;
}

const FORMAT = 'mst-ts-dino-checkpoint';

/** Student, teacher, their heads, optimizers and centres: everything one pretraining run holds. */
class DinoState {
  readonly student: DinoVisionTransformer;
  readonly teacher: DinoVisionTransformer;
  readonly studentHead: DinoHead;
  readonly teacherHead: DinoHead;
  /** AdamW over weights (decayed) and over biases and norms (not decayed), as DINO's param groups. */
  readonly regularized: AdamW;
  readonly plain: AdamW;
  readonly center: tf.Variable;
  readonly patchCenter: tf.Variable;

  constructor(encoder: DinoVisionTransformerOptions, r: Resolved) {
    const seed = encoder.seed ?? r.seed;
    this.student = new DinoVisionTransformer({ ...encoder, seed });
    this.teacher = new DinoVisionTransformer({ ...encoder, seed, skipInit: true });
    const head = { ...r.head, inDim: this.student.embedDim };
    this.studentHead = new DinoHead({ ...head, rng: new Rng(deriveSeed(seed, 1)) });
    this.teacherHead = new DinoHead({ ...head, rng: new Rng(deriveSeed(seed, 1)) });
    copyInto(this.teacher, this.student);
    copyInto(this.teacherHead, this.studentHead);
    this.teacher.freeze();
    this.teacherHead.freeze();
    const params = this.studentParameters();
    // DINO's get_params_groups: no weight decay on biases and one-dimensional parameters.
    const plain = (name: string, v: tf.Variable): boolean => name.endsWith('.bias') || v.rank <= 1;
    this.regularized = new AdamW(params.filter(([n, v]) => !plain(n, v)), { lr: r.lr, weightDecay: r.weightDecay[0] });
    this.plain = new AdamW(params.filter(([n, v]) => plain(n, v)), { lr: r.lr, weightDecay: 0 });
    this.center = tf.tidy(() => tf.variable(tf.zeros([1, r.head.outDim]), false));
    this.patchCenter = tf.tidy(() => tf.variable(tf.zeros([1, r.head.outDim]), false));
  }

  /** The student's trainable parameters, prefixed `backbone.` and `head.` (optimizer names). */
  studentParameters(): [string, tf.Variable][] {
    return [
      ...this.student.namedParameters().map(([n, v]): [string, tf.Variable] => [`backbone.${n}`, v]),
      ...this.studentHead.namedParameters().map(([n, v]): [string, tf.Variable] => [`head.${n}`, v]),
    ].filter(([, v]) => v.trainable);
  }

  /** Every tensor of the run under one name each, for the checkpoint; the caller disposes them. */
  stateDict(): StateDict {
    const out: StateDict = {};
    const put = (prefix: string, dict: StateDict): void => {
      for (const [k, t] of Object.entries(dict)) out[prefix + k] = t;
    };
    put('student.', this.student.stateDict());
    put('teacher.', this.teacher.stateDict());
    put('student_head.', this.studentHead.stateDict());
    put('teacher_head.', this.teacherHead.stateDict());
    put('optimizer.regularized.', this.regularized.stateDict().tensors);
    put('optimizer.plain.', this.plain.stateDict().tensors);
    out.center = tf.clone(this.center);
    out.patch_center = tf.clone(this.patchCenter);
    return out;
  }

  loadStateDict(dict: StateDict, step: number): void {
    const under = (prefix: string): StateDict => {
      const o: StateDict = {};
      for (const [k, t] of Object.entries(dict)) if (k.startsWith(prefix)) o[k.slice(prefix.length)] = t;
      return o;
    };
    this.student.loadStateDict(under('student.'));
    this.teacher.loadStateDict(under('teacher.'));
    this.studentHead.loadStateDict(under('student_head.'));
    this.teacherHead.loadStateDict(under('teacher_head.'));
    this.regularized.loadStateDict({ tensors: under('optimizer.regularized.'), step });
    this.plain.loadStateDict({ tensors: under('optimizer.plain.'), step });
    for (const [name, v] of [['center', this.center], ['patch_center', this.patchCenter]] as const) {
      const t = dict[name];
      if (!t || !tf.util.arraysEqual(t.shape, v.shape)) throw new Error(`pretrainEncoder: the checkpoint's '${name}' is missing or not [${v.shape.join(', ')}]`);
      v.assign(t);
    }
  }

  dispose(keepTeacher: boolean): void {
    this.student.dispose();
    if (!keepTeacher) this.teacher.dispose();
    this.studentHead.dispose();
    this.teacherHead.dispose();
    this.regularized.dispose();
    this.plain.dispose();
    tf.dispose([this.center, this.patchCenter]);
  }
}

function copyInto(target: Module, source: Module): void {
  const dict = source.stateDict();
  try {
    target.loadStateDict(dict);
  } finally {
    disposeStateDict(dict);
  }
}

/** The crops of a batch as model inputs: `[N, S, S, C]`, gray repeated to the encoder's channels. */
function imagesOf(data: Float32Array, n: number, size: number, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.tensor4d(data, [n, size, size, 1]);
    return (channels === 1 ? x : repeatChannels(x as tf.Tensor4D, channels)) as tf.Tensor4D;
  });
}

/** `[M, n]` rows of the identity picking `indices` out of n rows. */
function selectionMatrix(indices: Int32Array, n: number): tf.Tensor2D {
  const m = new Float32Array(indices.length * n);
  indices.forEach((k, i) => (m[i * n + k] = 1));
  return tf.tensor2d(m, [indices.length, n]);
}

/** What one step computed, as numbers. */
interface StepResult {
  loss: number;
  dino: number;
  koleo: number;
  ibot: number;
  stats: TeacherStats;
}

/** One DINO step: teacher targets, student loss and gradients, clipped update, EMA, centre. */
async function dinoStep(st: DinoState, r: Resolved, slices: Slice2D[], rng: Rng, sched: { lr: number; wd: number; momentum: number; temp: number; freezeLast: boolean }): Promise<StepResult> {
  const b = slices.length;
  const { localCrops } = r.crops;
  const crops = multiCrop(slices, r.crops, rng);
  const { globalSize: g, localSize: l } = crops;
  const channels = st.student.inChannels;
  const global = imagesOf(crops.global, 2 * b, g, channels);
  const local = localCrops > 0 ? imagesOf(crops.local, localCrops * b, l, channels) : null;
  const patches = (g / st.student.patchSize) ** 2;
  const useIbot = r.ibotWeight > 0;
  const masks = useIbot ? randomPatchMasks(2 * b, patches, rng, r.masks) : null;
  const masked = masks ? maskedPatchIndex(masks, patches) : null;
  const hasMasked = !!masked && masked.indices.length > 0;
  const maskTensor = masks ? tf.tensor2d(masks, [2 * b, patches], 'float32') : null;
  // The masked patches are picked by a one-hot matrix product, whose gradient every backend has
  // (a gather's gradient needs UnsortedSegmentSum, which wasm lacks).
  const maskIdx = hasMasked ? selectionMatrix(masked.indices, 2 * b * patches) : null;
  const maskWeights = hasMasked ? tf.tensor1d(masked.weights) : null;

  // The teacher sees the unmasked global crops, off the tape; batch-norm layers use batch statistics as DINO's teacher in train mode.
  st.teacher.train();
  st.student.train();
  const teacher = tf.tidy(() => {
    const f = st.teacher.forwardFeatures(global);
    const out = st.teacherHead.forward(f.clsToken);
    const targets = teacherTargets(out, st.center, sched.temp);
    const patchOut = maskIdx ? st.teacherHead.forward(tf.matMul(maskIdx, tf.reshape(f.patchTokens, [2 * b * patches, st.teacher.embedDim]) as tf.Tensor2D)) : null;
    const patchTargets = patchOut ? teacherTargets(patchOut, st.patchCenter, sched.temp) : null;
    return { cls: f.clsToken, out, targets, patchOut, patchTargets } as unknown as tf.TensorContainer;
  }) as unknown as { cls: tf.Tensor2D; out: tf.Tensor2D; targets: tf.Tensor2D; patchOut: tf.Tensor2D | null; patchTargets: tf.Tensor2D | null };
  const parts: tf.Scalar[] = [];
  const vars = [...st.regularized.variables(), ...st.plain.variables()];
  const { value, grads } = leanVariableGrads(() => {
    const f = st.student.forwardFeatures(global, maskTensor ? { masks: maskTensor as tf.Tensor2D } : {});
    const feats = local ? tf.concat([f.clsToken, st.student.encode(local).features], 0) : f.clsToken;
    const out = st.studentHead.forward(feats);
    const dino = dinoLoss(out, teacher.targets, 2 + localCrops, r.studentTemp);
    parts.push(tf.keep(tf.clone(dino)));
    let total: tf.Scalar = dino;
    if (r.koleoWeight > 0) {
      const k = tf.add(koleoLoss(tf.slice(f.clsToken, [0, 0], [b, -1])), koleoLoss(tf.slice(f.clsToken, [b, 0], [b, -1]))) as tf.Scalar;
      parts.push(tf.keep(tf.clone(k)));
      total = tf.add(total, tf.mul(k, r.koleoWeight));
    }
    if (maskIdx && maskWeights && teacher.patchTargets) {
      const sp = st.studentHead.forward(tf.matMul(maskIdx, tf.reshape(f.patchTokens, [2 * b * patches, st.student.embedDim]) as tf.Tensor2D));
      const ib = ibotPatchLoss(sp, teacher.patchTargets, maskWeights, 2 * b, r.studentTemp);
      parts.push(tf.keep(tf.clone(ib)));
      total = tf.add(total, tf.mul(ib, r.ibotWeight));
    }
    return total;
  }, vars);
  let g2 = grads;
  if (sched.freezeLast) {
    const last = new Set(st.studentHead.lastLayerVariables().map((v) => v.name));
    for (const name of Object.keys(g2)) {
      if (last.has(name)) {
        g2[name].dispose();
        delete g2[name];
      }
    }
  }
  if (r.clipGrad > 0) g2 = clipGradients(g2, r.clipGrad);
  const [loss, ...partValues] = await Promise.all([value, ...parts].map(async (t) => (await t.data())[0]));
  const release = (): void => {
    for (const t of [value, ...parts, global, local, maskTensor, maskIdx, maskWeights, ...Object.values(teacher)] as (tf.Tensor | null)[]) t?.dispose();
    tf.dispose(g2);
  };
  if (!Number.isFinite(loss)) {
    release();
    throw new Error(`pretrainEncoder: the loss became ${loss}; lower the learning rate`);
  }
  for (const opt of [st.regularized, st.plain]) opt.lr = sched.lr;
  st.regularized.weightDecay = sched.wd;
  st.regularized.step(g2);
  st.plain.step(g2);
  emaUpdate(st.teacher, st.student, sched.momentum);
  emaUpdate(st.teacherHead, st.studentHead, sched.momentum);
  updateCenter(st.center, teacher.out, r.centerMomentum);
  if (teacher.patchOut) updateCenter(st.patchCenter, teacher.patchOut, r.centerMomentum);
  const stats = await teacherStats(teacher.targets, teacher.cls);
  release();
  let i = 0;
  const dino = partValues[i++];
  const koleo = r.koleoWeight > 0 ? partValues[i++] : NaN;
  const ibot = hasMasked ? partValues[i++] : NaN;
  return { loss, dino, koleo, ibot, stats };
}

/** The fingerprint of a run's settings: a resume must match it. */
function fingerprintOf(encoder: DinoVisionTransformerOptions, r: Resolved): string {
  return JSON.stringify({ encoder, recipe: r });
}

async function exists(p: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

async function readLog(p: string): Promise<PretrainEpochRecord[]> {
  if (!(await exists(p))) return [];
  const fs = await import('node:fs/promises');
  return (await fs.readFile(p, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l, (k, v: unknown) => (v === null && k !== 'collapse' ? NaN : v)) as PretrainEpochRecord];
      } catch {
        // A line cut by a crash mid-write is dropped; the checkpoint decides where to resume.
        return [];
      }
    });
}

function finiteOrNull(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

async function probeAll(encoder: DinoVisionTransformer, probes: readonly KnnProbeSet[]): Promise<Record<string, { accuracy: number; auc: number }>> {
  const out: Record<string, { accuracy: number; auc: number }> = {};
  for (const p of probes) {
    const res: KnnResult = await knnProbe(encoder, p);
    out[p.name] = { accuracy: res.accuracy, auc: res.auc };
  }
  return out;
}

function cpuClock(): () => number {
  if (typeof process === 'undefined' || typeof process.cpuUsage !== 'function') return () => NaN;
  const start = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1e6;
  };
}

function knnText(knn: PretrainEpochRecord['knn']): string {
  return Object.entries(knn)
    .map(([name, v]) => `${name} ${(100 * v.accuracy).toFixed(1)}%`)
    .join(', ');
}

/**
 * Self-supervised pretraining of a ViT slice encoder with DINO (Caron et al. 2021), the recipe
 * that made DINOv2: a student and a teacher of the same architecture, the teacher an exponential
 * moving average of the student; two global and several local crops of each unlabelled slice
 * at the slices' own scale ({@link multiCrop}); both networks end in a projection head with a weight-normalised last layer
 * ({@link DinoHead}); the student learns to predict, from every crop, the teacher's centred and
 * sharpened output on the other global crop ({@link dinoLoss}). The teacher temperature warms up
 * from 0.04 to 0.07, the teacher momentum follows a cosine from 0.996 to 1, the learning rate warms
 * up linearly and decays by a cosine, the weight decay rises by a cosine from 0.04 to 0.4, gradients
 * are clipped per parameter at 3 and the head's last layer is fixed for the first epoch.
 * Optionally DINOv2's KoLeo regulariser and iBOT's masked-patch loss (shared head, own centre).
 *
 * Every epoch logs the losses, the teacher's output entropy, the batch's prototype entropy and the
 * per-dimension std of its features ({@link teacherStats}); a run whose statistics show a collapse
 * says so ({@link collapseDiagnosis}) through `print` and in the log. The k-NN probes run on the
 * random encoder first (epoch 0) and on the teacher after every epoch. With `outDir` the run is
 * resumable at epoch boundaries and continues exactly as an uninterrupted one: every random choice
 * derives from `(seed, epoch, step)`.
 *
 * @example
 * const pool = await slicePool([syntheticDataset('chest', { n: 200, seed: 0, size: [8, 32, 32] })]);
 * const { encoder, history } = await pretrainEncoder({
 *   encoder: { embedDim: 64, depth: 2, numHeads: 4, patchSize: 4, imgSize: 32, inChannels: 1 },
 *   data: pool, epochs: 10, head: { outDim: 1024, hiddenDim: 256, bottleneckDim: 64 }, outDir: 'enc',
 * });
 * await saveModel(encoder, 'enc/encoder.safetensors'); // fromPretrained reads it as DINOv2 weights
 */
export async function pretrainEncoder(options: PretrainEncoderOptions): Promise<PretrainResult> {
  const r = resolve(options);
  const encoderOptions: DinoVisionTransformerOptions = { ...options.encoder, seed: options.encoder.seed ?? r.seed };
  delete encoderOptions.skipInit;
  const print = options.print ?? (() => {});
  const probes = options.probes ?? [];
  const itersPerEpoch = Math.floor(r.imagesPerEpoch / r.batchSize);
  const lrs = cosineSchedule(r.lr, r.minLr, r.epochs, itersPerEpoch, Math.min(r.warmupEpochs, r.epochs));
  const wds = cosineSchedule(r.weightDecay[0], r.weightDecay[1], r.epochs, itersPerEpoch);
  const moms = cosineSchedule(r.momentum, 1, r.epochs, itersPerEpoch);
  const temps = teacherTempSchedule(r.warmupTeacherTemp, r.teacherTemp, Math.min(r.warmupTeacherTempEpochs, r.epochs), r.epochs);
  const fingerprint = fingerprintOf(encoderOptions, r);
  const st = new DinoState(encoderOptions, r);
  let keepTeacher = false;
  try {
    const path = await import('node:path');
    const fs = await import('node:fs/promises');
    const files = options.outDir
      ? {
          last: path.join(options.outDir, 'last.safetensors'),
          log: path.join(options.outDir, 'log.jsonl'),
          steps: path.join(options.outDir, 'loss.csv'),
          encoder: path.join(options.outDir, 'encoder.safetensors'),
          curve: path.join(options.outDir, 'loss_curve.svg'),
        }
      : null;
    if (files) await fs.mkdir(options.outDir as string, { recursive: true });
    let state: PretrainState = { epoch: 0, step: 0, seed: r.seed, fingerprint };
    let history: PretrainEpochRecord[] = [];
    let stepLines: string[] = [];
    if (files && options.resume && (await exists(files.last))) {
      const bytes = await readBytes(files.last);
      const header = parseSafetensorsHeader(bytes, files.last);
      if (header.metadata.format !== FORMAT) throw new Error(`pretrainEncoder: '${files.last}' is not a DINO pretraining checkpoint (format '${header.metadata.format ?? 'none'}')`);
      const saved = JSON.parse(header.metadata.state) as PretrainState;
      if (saved.fingerprint !== fingerprint) throw new Error(`pretrainEncoder: '${files.last}' was written with other settings (encoder, recipe or seed); resume with the same ones or use another --out`);
      const dict: StateDict = {};
      for (const [key, e] of Object.entries(header.entries)) dict[key] = tf.tensor(decodeSafetensorsEntry(bytes, header, key), e.shape);
      try {
        st.loadStateDict(dict, Number(header.metadata.optimizer_step));
      } finally {
        disposeStateDict(dict);
      }
      state = saved;
      history = (await readLog(files.log)).filter((h) => h.epoch <= state.epoch);
      if (await exists(files.steps)) stepLines = (await fs.readFile(files.steps, 'utf8')).split('\n').slice(1).filter((l) => l && Number(l.split(',')[1]) <= state.epoch);
      print(`resumed from ${files.last} after epoch ${state.epoch}`);
    }
    if (history.length === 0) {
      const cpu = cpuClock();
      const started = Date.now();
      const knn = await probeAll(st.teacher, probes);
      const nan = NaN;
      history.push({ epoch: 0, step: 0, loss: nan, dinoLoss: nan, koleoLoss: nan, ibotLoss: nan, lr: nan, weightDecay: nan, momentum: nan, teacherTemp: nan, teacher: { entropy: nan, marginalEntropy: nan, featureStd: nan }, knn, collapse: null, seconds: (Date.now() - started) / 1000, cpuSeconds: cpu() });
      if (probes.length) print(`epoch 0 (random encoder): k-NN ${knnText(knn)}`);
    }
    if (files) {
      await writeFileAtomic(files.log, history.map((h) => `${JSON.stringify(h, finiteOrNull)}\n`).join(''));
      await writeFileAtomic(files.steps, `step,epoch,loss,dino,koleo,ibot,lr,teacher_entropy,feature_std\n${stepLines.map((l) => `${l}\n`).join('')}`);
    }
    while (state.epoch < r.epochs) {
      const epoch = state.epoch + 1;
      const started = Date.now();
      const cpu = cpuClock();
      options.progress?.startEpoch(epoch, r.epochs, itersPerEpoch, NaN);
      const sums = { loss: 0, dino: 0, koleo: 0, ibot: 0, ibotSteps: 0, entropy: 0, marginalEntropy: 0, featureStd: 0 };
      const lines: string[] = [];
      let it = 0;
      for (; it < itersPerEpoch; it++) {
        const global = (epoch - 1) * itersPerEpoch + it;
        const rng = new Rng(deriveSeed(r.seed, epoch, it));
        const slices = options.data.sampleBatch(rng, r.batchSize);
        const sched = { lr: lrs[global], wd: wds[global], momentum: moms[global], temp: temps[epoch - 1], freezeLast: epoch <= r.freezeLastLayerEpochs };
        const s = await dinoStep(st, r, slices, rng, sched);
        sums.loss += s.loss;
        sums.dino += s.dino;
        sums.koleo += Number.isFinite(s.koleo) ? s.koleo : 0;
        if (Number.isFinite(s.ibot)) {
          sums.ibot += s.ibot;
          sums.ibotSteps += 1;
        }
        sums.entropy += s.stats.entropy;
        sums.marginalEntropy += s.stats.marginalEntropy;
        sums.featureStd += s.stats.featureStd;
        lines.push([state.step + it + 1, epoch, s.loss, s.dino, s.koleo, s.ibot, lrs[global], s.stats.entropy, s.stats.featureStd].map((v) => (Number.isFinite(v) ? String(v) : '')).join(','));
        options.progress?.update(it + 1, sums.loss / (it + 1));
      }
      const last = epoch * itersPerEpoch - 1;
      const teacher: TeacherStats = { entropy: sums.entropy / it, marginalEntropy: sums.marginalEntropy / it, featureStd: sums.featureStd / it };
      const collapse = collapseDiagnosis(teacher, r.head.outDim);
      const knn = await probeAll(st.teacher, probes);
      state = { ...state, epoch, step: state.step + it };
      const record: PretrainEpochRecord = {
        epoch,
        step: state.step,
        loss: sums.loss / it,
        dinoLoss: sums.dino / it,
        koleoLoss: r.koleoWeight > 0 ? sums.koleo / it : NaN,
        ibotLoss: sums.ibotSteps ? sums.ibot / sums.ibotSteps : NaN,
        lr: lrs[last],
        weightDecay: wds[last],
        momentum: moms[last],
        teacherTemp: temps[epoch - 1],
        teacher,
        knn,
        collapse,
        seconds: (Date.now() - started) / 1000,
        cpuSeconds: cpu(),
      };
      history.push(record);
      if (files) {
        await fs.appendFile(files.steps, lines.map((l) => `${l}\n`).join(''));
        await fs.appendFile(files.log, `${JSON.stringify(record, finiteOrNull)}\n`);
        const dict = st.stateDict();
        try {
          await saveSafetensors(dict, files.last, { format: FORMAT, version: '1', optimizer_step: String(st.regularized.stepCount), state: JSON.stringify(state) });
        } finally {
          disposeStateDict(dict);
        }
        await saveModel(st.teacher, files.encoder);
        await writeFileAtomic(files.curve, lossCurveSvg(history));
      }
      const mean = history.slice(1).reduce((a, h) => a + h.seconds, 0) / (history.length - 1);
      const summary = [
        `epoch ${epoch}/${r.epochs}`,
        `loss ${record.loss.toFixed(4)}`,
        `teacher entropy ${teacher.entropy.toFixed(3)} (batch ${teacher.marginalEntropy.toFixed(2)}) feature std ${teacher.featureStd.toFixed(3)}`,
        probes.length ? `k-NN ${knnText(knn)}` : '',
        `${record.seconds.toFixed(1)} s (CPU ${record.cpuSeconds.toFixed(1)} s)`,
        epoch < r.epochs ? `ETA ${formatDuration(mean * (r.epochs - epoch))}` : '',
      ].filter(Boolean);
      if (options.progress) options.progress.endEpoch(summary.join(' | '));
      else print(summary.join(' | '));
      if (collapse) print(`warning: epoch ${epoch}: ${collapse}`);
      options.onEpoch?.(record);
    }
    keepTeacher = true;
    st.teacher.unfreeze();
    return { encoder: st.teacher, history, collapse: history[history.length - 1].collapse };
  } finally {
    st.dispose(keepTeacher);
  }
}
