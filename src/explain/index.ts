// In Node, tfjs's first tensor lands on wasm with mst-ts's kernels (see registerNodeDefaultBackend).
import '../kernels/node_default_backend';
export { trilinearUpsample, trilinearPlan, linearAxisWeights } from './trilinear_upsample';
export type { TrilinearOptions, AxisWeights } from './trilinear_upsample';
export { sliceAttentionMap, planeAttentionMap, clsPatchRows, combineSliceAndPlane, mstSaliency } from './mst_saliency';
export type { PlaneAttentionOptions, MstSaliencyOptions, MstAttention, MstSaliency } from './mst_saliency';
export { attentionRollout } from './rollout';
export type { HeadFusion, RolloutOptions } from './rollout';
export { computeCam, computeCamOnDevice, camFromWeights, normalizeMinMax } from './cam_utils';
export type { CamNormalization, CamResult, CamTensors, ComputeCamOptions, LayerSplit, LayeredNetwork } from './cam_utils';
export { gradCam, gradCamWeights } from './grad_cam';
export { gradCamPlusPlus, gradCamPlusPlusWeights } from './grad_cam_pp';
export { testTimeAugmentation, FLIP_COMBINATIONS } from './tta';
export type { TtaPass, TtaOptions } from './tta';
export { localisationMetrics, sliceCorrectness, pointingGame, thresholdSegmentation, peakVoxel, linearQuantile, topKIndices } from './localisation';
export type { CpuVolume, LocalisationMetrics, LocalisationOptions } from './localisation';
export { colormapRgb, colormapTable } from './colormap';
export type { ColormapName } from './colormap';
export { explainVolume, disposeExplanation } from './explain_volume';
export type { ExplainMethod, ExplainOptions, Explanation, ExplainableModel } from './explain_volume';
export { explainJsonFields } from './explain_json';
export type { ExplainJsonFields } from './explain_json';
export { renderMontage, montagePng, sliceAttentionBarChart, defaultMontageClip } from './montage';
export type { MontageRow, MontageOptions, RgbaImage, BarChartOptions } from './montage';
export { renderSliceOverlay, normalizeSaliency, displayWindow } from './overlay';
export type { SliceOverlayOptions } from './overlay';
export { splitAt, computeForwardCamOnDevice, resolveTargets } from './cam_utils';
export type { NamedLayerCamOptions } from './cam_utils';
export { hiResCam, hiResCamWeights } from './hires_cam';
export { layerCam, layerCamWeights } from './layer_cam';
export { xGradCam, xGradCamWeights } from './xgrad_cam';
export { eigenCam, eigenCamWeights } from './eigen_cam';
export { scoreCam, scoreCamChannelWeights } from './score_cam';
export type { ScoreCamOptions } from './score_cam';
export { occlusionSensitivity } from './occlusion';
export type { OcclusionOptions, OcclusionResult } from './occlusion';
export { lrpLinear, lrpAdd, lrpMatMul, normaliseBinary, safeDiv } from './relevance_rules';
export { attentionBlockView, tracedBlockForward, blockRelevance } from './attention_block_trace';
export type { AttentionBlock, AttentionBlockView, BlockTrace } from './attention_block_trace';
export { clsRelevanceRow, tokenShare } from './attention_relevance';
export type { AttributionMethod } from './attention_relevance';
export { dinov2Attribution } from './dinov2_attribution';
export type { FeatureUpstream, Dinov2AttributionOptions } from './dinov2_attribution';
export { sliceTransformerAttribution, mstAttribution } from './transformer_attribution';
export type { TransformerAttributionOptions, SliceAttribution, MstAttributionOptions, MstAttribution } from './transformer_attribution';
export { sliceTransformerPartsOf } from './mst_parts';
export type { SliceTransformerView } from './mst_parts';
export { smoothExplanation } from './smooth';
export type { SmoothOptions } from './smooth';
export { testTimeAugmentationAsync } from './tta';
export { PassSum } from './pass_sum';
export { deletionInsertion, saliencyRank } from './deletion_insertion';
export type { DeletionInsertion, DeletionInsertionOptions, FaithfulnessCurve } from './deletion_insertion';
export { roadCurves, noisyLinearImputation } from './road';
export type { RoadOptions, RoadResult, ImputationOptions } from './road';
export { EXPLAIN_METHODS, ATTENTION_METHODS, CNN_METHODS } from './explain_volume';
export { classifierOf } from './method_passes';
export type {
  ExplainBaseOptions,
  DefaultMethodOptions,
  AttentionMethodOptions,
  RolloutMethodOptions,
  AttributionMethodOptions,
  GradientCamMethodOptions,
  EigenCamMethodOptions,
  ScoreCamMethodOptions,
  OcclusionMethodOptions,
} from './explain_volume';
export { evaluateExplanations, scoreExplanation } from './evaluate_explanations';
export type { ScoreExplanationOptions, EvaluateExplanationsOptions, ExplanationScore, MethodSummary, ExplanationEvaluation } from './evaluate_explanations';
