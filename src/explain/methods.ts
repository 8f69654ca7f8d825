/**
 * The explanation methods by name, without any tensor code, so a page's UI thread can list them
 * without loading tfjs. MST with an attention encoder (DINOv2): 'attention' (the paper's map),
 * 'rollout', 'transformer-attribution', 'gradient-attention'; ResNet3D and MST-ResNet: 'gradcam',
 * 'gradcam++', 'hirescam', 'layercam', 'xgradcam', 'scorecam', 'eigencam'; every model: 'occlusion'.
 */
export type ExplainMethod =
  | 'attention'
  | 'rollout'
  | 'transformer-attribution'
  | 'gradient-attention'
  | 'gradcam'
  | 'gradcam++'
  | 'hirescam'
  | 'layercam'
  | 'xgradcam'
  | 'scorecam'
  | 'eigencam'
  | 'occlusion';

/**
 * Every method name, in the order `mst-ts explain --method` and the web page list them.
 *
 * @example
 * EXPLAIN_METHODS.includes('scorecam'); // true
 */
export const EXPLAIN_METHODS: readonly ExplainMethod[] = [
  'attention',
  'rollout',
  'transformer-attribution',
  'gradient-attention',
  'gradcam',
  'gradcam++',
  'hirescam',
  'layercam',
  'xgradcam',
  'scorecam',
  'eigencam',
  'occlusion',
];

/** Methods for an MST whose encoder has attention (DINOv2). @example ATTENTION_METHODS[0]; // 'attention' */
export const ATTENTION_METHODS: readonly ExplainMethod[] = ['attention', 'rollout', 'transformer-attribution', 'gradient-attention', 'occlusion'];

/** Methods for convolutional networks: ResNet3D, and MST with a CNN slice encoder. @example CNN_METHODS.includes('eigencam'); // true */
export const CNN_METHODS: readonly ExplainMethod[] = ['gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam', 'scorecam', 'eigencam', 'occlusion'];
