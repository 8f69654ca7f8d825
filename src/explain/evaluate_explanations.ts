import * as tf from '@tensorflow/tfjs';
import type { LayeredNetwork } from './cam_utils';
import { deletionInsertion, type DeletionInsertionOptions, type FaithfulnessCurve } from './deletion_insertion';
import { disposeExplanation, explainVolume, restore, setEval, type EvalSwitch, type ExplainableModel, type ExplainMethod, type ExplainOptions, type Explanation } from './explain_volume';
import { localisationMetrics, pointingGame, type CpuVolume } from './localisation';
import { classifierOf } from './method_passes';
import { roadCurves, type RoadOptions } from './road';

/** Options of {@link evaluateExplanations}. */
export interface EvaluateExplanationsOptions {
  /** Methods to compare: names, or full {@link explainVolume} options. */
  methods: (ExplainMethod | ExplainOptions)[];
  /** A lesion mask `[D, H, W]` per case (null where there is none): adds the localisation metrics. */
  masks?: (CpuVolume | tf.Tensor | null | undefined)[];
  /** Deletion and insertion curves (default on, 16 slabs); `false` skips them. */
  deletion?: DeletionInsertionOptions | false;
  /** ROAD curves with noisy linear imputation (default off: a sparse solve per fraction on the CPU). */
  road?: RoadOptions | boolean;
  /** Pointing-game tolerance in voxels (default 15, Zhang et al.'s 15 pixels); lesion correctness uses 0. */
  pointingTolerance?: number;
  /** Slices counted by slice correctness (default 1). */
  topK?: number;
  /** Quantile of the map thresholded for Dice (default 0.999). */
  quantile?: number;
  /** Called after each case and method, e.g. for progress. */
  onResult?: (r: ExplanationScore) => void;
}

/** One method on one case. */
export interface ExplanationScore {
  caseIndex: number;
  method: ExplainMethod;
  predictedClass: number;
  /** The class explained and followed by the curves. */
  targetClass: number;
  /** Its probability on the unchanged volume. */
  probability: number;
  deletion?: FaithfulnessCurve;
  insertion?: FaithfulnessCurve;
  roadMorf?: FaithfulnessCurve;
  roadLerf?: FaithfulnessCurve;
  /** With a mask: one of the top slices holds lesion (slice attention or relevance; else the map's sum per slice). */
  sliceCorrect?: boolean;
  /** With a mask: the map's peak voxel is inside the lesion. */
  lesionCorrect?: boolean;
  /** With a mask: the peak is within `pointingTolerance` voxels of the lesion. */
  pointingGame?: boolean;
  /** With a mask: foreground Dice of the map above its quantile. */
  dice?: number;
  /** Seconds spent explaining and scoring. */
  seconds: number;
}

/** Options of {@link scoreExplanation}: those of {@link evaluateExplanations} for one case. */
export type ScoreExplanationOptions = Pick<EvaluateExplanationsOptions, 'deletion' | 'road' | 'pointingTolerance' | 'topK' | 'quantile'> & {
  /** The case's lesion mask `[D, H, W]`. */
  mask?: CpuVolume;
};

/**
 * The metrics of {@link evaluateExplanations} for one explanation already computed (with its
 * upsampled saliency): deletion and insertion, ROAD on request, and with a mask the localisation
 * metrics. `classify` maps volumes `[n, D, H, W]` to logits (see `classifierOf`).
 *
 * @example
 * const e = await explainVolume(model, volume, { method: 'layercam' });
 * const s = await scoreExplanation((v) => net.forward(tf.expandDims(v, -1)), volume, e, { road: true });
 */
export async function scoreExplanation(
  classify: (volumes: tf.Tensor) => tf.Tensor,
  volume: tf.Tensor,
  e: Explanation,
  options: ScoreExplanationOptions = {},
): Promise<Omit<ExplanationScore, 'caseIndex' | 'seconds'>> {
  const { mask, pointingTolerance = 15, topK = 1, quantile = 0.999 } = options;
  const deletion = options.deletion ?? {};
  const road = options.road === true ? {} : options.road || undefined;
  if (!e.saliencyUpsampled) throw new Error('scoreExplanation: the explanation has no upsampled saliency (explain with upsample: true)');
  const map = e.saliencyUpsampled;
  const target = e.targetClass ?? e.predictedClass;
  const s: Omit<ExplanationScore, 'caseIndex' | 'seconds'> = { method: e.method, predictedClass: e.predictedClass, targetClass: target, probability: e.probabilities[target] };
  if (deletion) {
    const r = await deletionInsertion(classify, volume, map, { ...deletion, targetClass: target });
    s.deletion = r.deletion;
    s.insertion = r.insertion;
  }
  if (road) {
    const r = await roadCurves(classify, volume, map, { ...road, targetClass: target });
    s.roadMorf = r.morf;
    s.roadLerf = r.lerf;
  }
  if (mask) {
    const data = await map.data();
    const l = await localisationMetrics({ data, shape: map.shape }, e.sliceAttention ?? null, mask, { topK, quantile });
    Object.assign(s, { sliceCorrect: l.sliceCorrect, lesionCorrect: l.lesionCorrect, dice: l.dice });
    s.pointingGame = pointingGame({ data, shape: map.shape }, mask, pointingTolerance);
  }
  return s;
}

/** Per method, over the cases. */
export interface MethodSummary {
  method: ExplainMethod;
  cases: number;
  /** Means over the cases (NaN when not computed). */
  deletionAuc: number;
  insertionAuc: number;
  roadMorfAuc: number;
  roadLerfAuc: number;
  /** Cases with a mask, and the counts of hits among them. */
  withMask: number;
  sliceCorrect: number;
  lesionCorrect: number;
  pointingGame: number;
  meanDice: number;
  meanSeconds: number;
}

/** What {@link evaluateExplanations} returns. */
export interface ExplanationEvaluation {
  scores: ExplanationScore[];
  summary: MethodSummary[];
}

function mean(xs: (number | undefined)[]): number {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

/**
 * Faithfulness and localisation of explanation methods over many cases: for each case and
 * method, {@link explainVolume}, then deletion and insertion areas (and ROAD on request) of the
 * upsampled saliency for the explained class, and with a lesion mask slice correctness, lesion
 * correctness, the pointing game and Dice at a quantile. Cases are `[D, H, W]` volumes
 * (tensors or CPU arrays), explained one at a time; nothing given is disposed.
 *
 * @example
 * const { summary } = await evaluateExplanations(mst, volumes, { methods: ['attention', 'transformer-attribution'], masks });
 * summary.map((s) => [s.method, s.deletionAuc, s.insertionAuc, s.pointingGame]);
 */
export async function evaluateExplanations(model: ExplainableModel, cases: (tf.Tensor | CpuVolume)[], options: EvaluateExplanationsOptions): Promise<ExplanationEvaluation> {
  const { methods, masks } = options;
  if (!Array.isArray(methods) || methods.length === 0) throw new Error('evaluateExplanations: expected at least one method in options.methods');
  if (masks && masks.length !== cases.length) throw new Error(`evaluateExplanations: expected one mask (or null) per case, got ${masks.length} masks for ${cases.length} cases`);
  const classify = classifierOf(model as LayeredNetwork);
  const scores: ExplanationScore[] = [];
  // The curves run the model outside explainVolume: in evaluation mode too.
  const modes = setEval(model as unknown as EvalSwitch);
  try {
    for (const [caseIndex, c] of cases.entries()) {
      if (c.shape.length !== 3) throw new Error(`evaluateExplanations: case ${caseIndex}: expected a volume [D, H, W], got shape [${c.shape.join(', ')}]`);
      const volume = c instanceof tf.Tensor ? c : tf.tensor(Float32Array.from(c.data), [...c.shape]);
      const m = masks?.[caseIndex];
      const mask = m ? (m instanceof tf.Tensor ? { data: await m.data(), shape: m.shape } : m) : undefined;
      try {
        for (const spec of methods) {
          const started = Date.now();
          const opts = (typeof spec === 'string' ? { method: spec } : spec) as ExplainOptions;
          const e = await explainVolume(model, volume, { ...opts, upsample: true } as ExplainOptions);
          try {
            const scored = await scoreExplanation(classify, volume, e, { ...options, mask });
            const s: ExplanationScore = { caseIndex, ...scored, seconds: (Date.now() - started) / 1000 };
            scores.push(s);
            options.onResult?.(s);
          } finally {
            disposeExplanation(e);
          }
        }
      } finally {
        if (volume !== c) volume.dispose();
      }
    }
  } finally {
    restore(modes);
  }
  const summary = [...new Set(scores.map((s) => s.method))].map((method): MethodSummary => {
    const of = scores.filter((s) => s.method === method);
    const masked = of.filter((s) => s.sliceCorrect !== undefined);
    return {
      method,
      cases: of.length,
      deletionAuc: mean(of.map((s) => s.deletion?.auc)),
      insertionAuc: mean(of.map((s) => s.insertion?.auc)),
      roadMorfAuc: mean(of.map((s) => s.roadMorf?.auc)),
      roadLerfAuc: mean(of.map((s) => s.roadLerf?.auc)),
      withMask: masked.length,
      sliceCorrect: masked.filter((s) => s.sliceCorrect).length,
      lesionCorrect: masked.filter((s) => s.lesionCorrect).length,
      pointingGame: masked.filter((s) => s.pointingGame).length,
      meanDice: mean(masked.map((s) => s.dice)),
      meanSeconds: mean(of.map((s) => s.seconds)),
    };
  });
  return { scores, summary };
}
