import type { ModelCapabilities } from '../models/capabilities';

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

/** The CAM family with the authors' CAM, Grad-CAM++, first (the default). */
const CAM_METHODS_AUTHORS_FIRST: readonly ExplainMethod[] = ['gradcam++', ...CNN_METHODS.filter((m) => m !== 'gradcam++')];

/**
 * The methods that explain a model, its default first, from its parts' capabilities (never its
 * name): the attention family where the encoder has attention maps, the CAM family where there are
 * CAM layers, 'attention' from the fusion's slice weights alone otherwise, and 'occlusion' always.
 * `kind` says what the model is, for error messages.
 *
 * @example
 * explainMethodsFor(MODEL_REGISTRY.get('resnet18')!.capabilities).valid[0]; // 'gradcam++'
 */
export function explainMethodsFor(caps: Pick<ModelCapabilities, 'planeAttention' | 'sliceAttention' | 'camLayers'>): { valid: readonly ExplainMethod[]; kind: string } {
  if (caps.planeAttention) {
    return {
      valid: caps.sliceAttention ? ATTENTION_METHODS : ATTENTION_METHODS.filter((m) => m === 'attention' || m === 'rollout' || m === 'occlusion'),
      kind: 'an MST with an attention encoder (no convolutional feature maps)',
    };
  }
  if (caps.camLayers.length) return { valid: CAM_METHODS_AUTHORS_FIRST, kind: caps.sliceAttention ? 'an MST with a CNN slice encoder (no attention inside the encoder)' : 'a convolutional network' };
  if (caps.sliceAttention) return { valid: ['attention', 'occlusion'], kind: 'an MST whose fusion weighs slices (its encoder has neither attention maps nor CAM layers)' };
  return { valid: ['occlusion'], kind: 'a model whose parts have no maps' };
}
