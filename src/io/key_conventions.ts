import * as tf from '@tensorflow/tfjs';
import type { StateDict } from '../nn/module';

/**
 * Key conventions of the checkpoints researchers bring, and their mapping to ours. Ours are the
 * originals' names: the official DINOv2 hub names for a DINOv2 encoder, the authors'
 * `DinoV2ClassifierSlice` names for MST (`encoder.*`, `slice_fusion.*`, `cls_token`, `linear.*`),
 * MONAI's ResNet names for the 3D ResNet and torchvision's for the 2D ResNet.
 */
export type KeyConvention =
  /** Official DINOv2 hub files (`dinov2_vits14_pretrain.pth`, `_reg4_`): ours already. */
  | 'dinov2-hub'
  /** Hugging Face `Dinov2Model` / `Dinov2WithRegistersModel` (`embeddings.*`, `encoder.layer.N.*`). */
  | 'dinov2-hf'
  /** timm `vit_*_patch14_dinov2.lvd142m` and `vit_*_patch14_reg4_dinov2.lvd142m`. */
  | 'dinov2-timm'
  /** The authors' `DinoV2ClassifierSlice` (Lightning `state_dict`): ours already. */
  | 'mst-dinov2'
  /** The authors' `ResNetSliceTrans`: torchvision ResNet under `model.`, mapped to `encoder.`. */
  | 'mst-resnet-slice'
  /** The authors' 3D `ResNet` classifier: MONAI ResNet under `model.`, prefix stripped. */
  | 'mst-resnet'
  /** MONAI `resnet*` with spatial_dims 3 (MedicalNet-style `module.` prefix stripped). */
  | 'monai-resnet'
  /** torchvision `resnet*` (ImageNet weights); MONAI's 2D ResNet has the same names. */
  | 'torchvision-resnet'
  | 'unknown';

/** The model family a convention's weights belong to, once mapped. */
export type ModelFamily = 'dinov2' | 'mst-dinov2' | 'mst-resnet' | 'resnet3d' | 'resnet2d';

/** What {@link detectConvention} found. */
export interface ConventionMatch {
  convention: KeyConvention;
  /** Family of the mapped weights, or null when unknown. */
  family: ModelFamily | null;
  /** Prefix common to the weights that is dropped before mapping (`module.`, `dinov2.`, `backbone.`). */
  prefix: string;
  /** One line saying which keys decided it. */
  reason: string;
}

/** Architecture of a DINOv2 encoder as its tensors tell it. */
export interface Dinov2Config {
  embedDim: number;
  depth: number;
  patchSize: number;
  inChannels: number;
  numRegisterTokens: number;
  /** Side of the square positional-embedding grid (37 for the official 518 px weights). */
  posGridSize: number;
  /** Hidden width of the feed-forward (per branch for SwiGLU). */
  ffnHidden: number;
  ffnLayer: 'mlp' | 'swiglufused';
  layerScale: boolean;
  /** Heads of the standard variant of this width (6/12/16/24), or null: tensors cannot tell. */
  numHeads: number | null;
}

/** Architecture of a ResNet as its tensors tell it. */
export interface ResNetConfig {
  spatialDims: 2 | 3;
  depth: 18 | 34 | 50 | 101 | 152;
  block: 'basic' | 'bottleneck';
  layers: [number, number, number, number];
  inChannels: number;
  conv1Kernel: number[];
  /** Output classes of `fc`, or null when the file has no `fc` (feature extractor). */
  numClasses: number | null;
  /** Channels of the pooled features (512 or 2048). */
  featureSize: number;
}

/** What {@link toOurConvention} returns. */
export interface ConvertedStateDict {
  /** Tensors under our names, shapes checked. */
  stateDict: StateDict;
  /** Input tensors our models have no slot for (a classifier head of a foreign model, ...). */
  extra: StateDict;
  convention: KeyConvention;
  family: ModelFamily | null;
  /** Our keys the file lacks and that were filled in (timm drops DINOv2's unused `mask_token`). */
  synthesized: string[];
  /** Architecture read from the tensors (DINOv2 or ResNet parts). */
  dinov2?: Dinov2Config;
  resnet?: ResNetConfig;
}

const STANDARD_HEADS: Record<number, number> = { 384: 6, 768: 12, 1024: 16, 1536: 24 };

/**
 * What {@link detectConvention} looks for, convention by convention (after a wrapper prefix);
 * {@link toOurConvention}'s error for a state dict it cannot place lists them.
 *
 * @example
 * CONVENTION_SIGNATURES['dinov2-hf']; // "'embeddings.patch_embeddings.projection.weight' (optionally under 'dinov2.')"
 */
export const CONVENTION_SIGNATURES: Readonly<Record<Exclude<KeyConvention, 'unknown'>, string>> = {
  'dinov2-hub': "'patch_embed.proj.weight' and 'blocks.N.*' with 'mask_token'",
  'dinov2-hf': "'embeddings.patch_embeddings.projection.weight' (optionally under 'dinov2.')",
  'dinov2-timm': "'patch_embed.proj.weight' and 'blocks.N.*' without 'mask_token'",
  'mst-dinov2': "'slice_fusion.*' or 'linear.weight' with a DINOv2 'encoder.blocks.*' (or a ResNet 'encoder.layer1.0.conv1.weight')",
  'mst-resnet-slice': "'slice_fusion.*' with 'model.conv1.weight' and 'model.layer1.0.conv1.weight'",
  'mst-resnet': "'model.conv1.weight' and 'model.layer1.0.conv1.weight'",
  'monai-resnet': "'conv1.weight' (5-D) and 'layer1.0.conv1.weight'",
  'torchvision-resnet': "'conv1.weight' (4-D) and 'layer1.0.conv1.weight'",
};

/** At most `n` keys, and how many there are. */
function someKeys(keys: readonly string[], n = 8): string {
  return `${keys.slice(0, n).join(', ')}${keys.length > n ? `, ... (${keys.length} keys)` : ` (${keys.length} key${keys.length === 1 ? '' : 's'})`}`;
}
const WRAPPER_PREFIXES = ['module.', '_orig_mod.', 'backbone.'];

function commonPrefix(keys: readonly string[]): string {
  let prefix = '';
  for (;;) {
    const rest = keys.map((k) => k.slice(prefix.length));
    const p = WRAPPER_PREFIXES.find((w) => rest.length > 0 && rest.every((k) => k.startsWith(w)));
    if (!p) return prefix;
    prefix += p;
  }
}

/**
 * Detects the key convention of a state dict from its keys (and, when given, shapes: they tell a
 * MONAI 3D ResNet from a torchvision 2D one).
 *
 * @example
 * detectConvention(['embeddings.cls_token', 'encoder.layer.0.norm1.weight', ...]).convention; // 'dinov2-hf'
 */
export function detectConvention(keys: readonly string[], shapes?: Record<string, readonly number[]>): ConventionMatch {
  let prefix = commonPrefix(keys);
  // Hugging Face task models nest the backbone under `dinov2.` next to their heads; DINOv2
  // training checkpoints keep it under `backbone.` next to `dino_head.*`.
  if (keys.some((k) => k.startsWith(`${prefix}dinov2.embeddings.`))) prefix += 'dinov2.';
  else if (keys.some((k) => k.startsWith(`${prefix}backbone.patch_embed.`))) prefix += 'backbone.';
  const has = (k: string): boolean => keys.includes(prefix + k);
  const any = (re: RegExp): boolean => keys.some((k) => k.startsWith(prefix) && re.test(k.slice(prefix.length)));
  const rank = (k: string): number | undefined => shapes?.[prefix + k]?.length;
  const match = (convention: KeyConvention, family: ModelFamily | null, reason: string): ConventionMatch => ({ convention, family, prefix, reason });

  if (any(/^slice_fusion\./)) {
    if (any(/^encoder\.(blocks|patch_embed)\./)) return match('mst-dinov2', 'mst-dinov2', "'slice_fusion.*' with a DINOv2 'encoder.*' (DinoV2ClassifierSlice)");
    if (has('model.conv1.weight') && has('model.layer1.0.conv1.weight')) return match('mst-resnet-slice', 'mst-resnet', "'slice_fusion.*' with a ResNet under 'model.*' (ResNetSliceTrans)");
    if (has('encoder.conv1.weight') && has('encoder.layer1.0.conv1.weight')) return match('mst-dinov2', 'mst-resnet', "'slice_fusion.*' with a ResNet 'encoder.*' (already our names)");
    return match('unknown', null, "'slice_fusion.*' (an MST), but its encoder is neither a DINOv2 ('encoder.blocks.*') nor a ResNet ('encoder.layer1.0.conv1.weight' or 'model.layer1.0.conv1.weight')");
  }
  // Table 2's 'linear' and 'average' fusions have no slice transformer, only the head.
  if (any(/^encoder\.(blocks|patch_embed)\./) && has('linear.weight')) return match('mst-dinov2', 'mst-dinov2', "DINOv2 'encoder.*' with a 'linear' head (DinoV2ClassifierSlice, linear/average fusion)");
  if (has('model.conv1.weight') && has('model.layer1.0.conv1.weight')) {
    return match('mst-resnet', rank('model.conv1.weight') === 4 ? 'resnet2d' : 'resnet3d', "ResNet under 'model.*' (the authors' ResNet classifier)");
  }
  if (has('embeddings.patch_embeddings.projection.weight')) return match('dinov2-hf', 'dinov2', "'embeddings.patch_embeddings.projection' (Hugging Face Dinov2Model)");
  if (has('patch_embed.proj.weight') && any(/^blocks\.\d+\./)) {
    if (has('reg_token')) return match('dinov2-timm', 'dinov2', "'reg_token' (timm reg4 DINOv2)");
    if (has('mask_token') || has('register_tokens')) return match('dinov2-hub', 'dinov2', "'mask_token' / 'register_tokens' (official DINOv2 hub)");
    return match('dinov2-timm', 'dinov2', "DINOv2 blocks without 'mask_token' (timm)");
  }
  if (has('conv1.weight') && has('layer1.0.conv1.weight')) {
    const r = rank('conv1.weight');
    if (r === 5) return match('monai-resnet', 'resnet3d', "5-D 'conv1.weight' (MONAI 3D ResNet)");
    return match('torchvision-resnet', 'resnet2d', r === 4 ? "4-D 'conv1.weight' (torchvision ResNet)" : "ResNet keys (2D assumed: no shapes given)");
  }
  return match('unknown', null, 'no key pattern of a known convention');
}

/**
 * Maps a state dict from any {@link KeyConvention} to ours and checks every shape against the
 * architecture the tensors describe. The input dict is consumed: its tensors move into
 * `stateDict` or `extra`, and those merged into new ones (Hugging Face q/k/v into qkv, timm's
 * split positional embedding) are disposed.
 *
 * @example
 * const sd = await loadCheckpoint('pytorch_model.bin');      // facebook/dinov2-small
 * const { stateDict, dinov2 } = toOurConvention(sd);         // hub names; dinov2.depth === 12
 */
export function toOurConvention(dict: StateDict, options: { convention?: KeyConvention } = {}): ConvertedStateDict {
  const keys = Object.keys(dict);
  const shapes = Object.fromEntries(keys.map((k) => [k, dict[k].shape]));
  const m = detectConvention(keys, shapes);
  const convention = options.convention ?? m.convention;
  if (convention === 'unknown') {
    const tried = Object.entries(CONVENTION_SIGNATURES).map(([c, sig]) => `${c}: ${sig}`).join('; ');
    throw new Error(`toOurConvention: the state dict matches no key convention mst-ts reads: ${m.reason}. Tried ${tried}. Keys seen: ${someKeys(keys)}`);
  }
  const prefix = m.prefix;
  const src: StateDict = Object.create(null);
  const extra: StateDict = Object.create(null);
  for (const k of keys) {
    if (k.startsWith(prefix)) src[k.slice(prefix.length)] = dict[k];
    else extra[k] = dict[k];
  }
  const out: ConvertedStateDict = { stateDict: Object.create(null), extra, convention, family: m.family, synthesized: [] };
  const inputs = new Set(Object.values(dict));
  try {
    mapInto(convention, src, out);
  } catch (err) {
    // Leave the caller's dict usable: free only what the mapping created.
    for (const t of Object.values(out.stateDict)) if (!inputs.has(t)) t.dispose();
    const how = options.convention ? 'as asked' : `detected from ${m.reason}`;
    throw new Error(`${(err as Error).message} (read as ${convention}, ${how}; keys seen: ${someKeys(keys)})`);
  }
  // Inputs merged into new tensors (q/k/v, timm's split positional embedding) are freed now.
  const kept = new Set([...Object.values(out.stateDict), ...Object.values(out.extra)]);
  for (const t of inputs) if (!kept.has(t)) t.dispose();
  return out;
}

function mapInto(convention: Exclude<KeyConvention, 'unknown'>, src: StateDict, out: ConvertedStateDict): void {
  const take = (from: string, to: string): void => {
    out.stateDict[to] = src[from];
    delete src[from];
  };
  const rename = (re: RegExp, to: string): void => {
    for (const k of Object.keys(src)) if (re.test(k)) take(k, k.replace(re, to));
  };
  const keepAll = (): void => {
    for (const k of Object.keys(src)) take(k, k);
  };
  switch (convention) {
    case 'dinov2-hub':
      rename(/^blocks\.\d+\.(\d+)\./, 'blocks.$1.');
      keepAll();
      out.family = 'dinov2';
      out.dinov2 = checkDinov2(out.stateDict, '', 'dinov2-hub', out.extra);
      break;
    case 'dinov2-hf':
      fromHf(src, out);
      out.family = 'dinov2';
      out.dinov2 = checkDinov2(out.stateDict, '', 'dinov2-hf', out.extra);
      break;
    case 'dinov2-timm':
      fromTimm(src, out);
      out.family = 'dinov2';
      out.dinov2 = checkDinov2(out.stateDict, '', 'dinov2-timm', out.extra);
      break;
    case 'mst-dinov2':
      keepAll();
      if (out.stateDict['encoder.conv1.weight']) {
        out.family = 'mst-resnet';
        out.resnet = checkResNet(out.stateDict, 'encoder.', convention);
      } else {
        out.family = 'mst-dinov2';
        out.dinov2 = checkDinov2(out.stateDict, 'encoder.', convention, undefined);
      }
      checkSliceFusion(out.stateDict, convention);
      break;
    case 'mst-resnet-slice':
      rename(/^model\./, 'encoder.');
      keepAll();
      out.family = 'mst-resnet';
      out.resnet = checkResNet(out.stateDict, 'encoder.', convention);
      checkSliceFusion(out.stateDict, convention);
      break;
    case 'mst-resnet':
      rename(/^model\./, '');
      keepAll();
      out.resnet = checkResNet(out.stateDict, '', convention);
      out.family = out.resnet.spatialDims === 3 ? 'resnet3d' : 'resnet2d';
      break;
    case 'monai-resnet':
    case 'torchvision-resnet':
      // Heads that are not part of a ResNet (MedicalNet's `conv_seg`) stay out of the state dict.
      for (const k of Object.keys(src)) if (!RESNET_KEY.test(k)) out.extra[k] = src[k];
      for (const k of Object.keys(out.extra)) delete src[k];
      keepAll();
      out.resnet = checkResNet(out.stateDict, '', convention);
      out.family = out.resnet.spatialDims === 3 ? 'resnet3d' : 'resnet2d';
      break;
  }
}

const RESNET_KEY = /^(conv1|bn1|fc|layer[1-4]\.\d+)\./;

const HF_BLOCK: [RegExp, string][] = [
  [/^encoder\.layer\.(\d+)\.norm1\./, 'blocks.$1.norm1.'],
  [/^encoder\.layer\.(\d+)\.norm2\./, 'blocks.$1.norm2.'],
  [/^encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'blocks.$1.attn.proj.'],
  [/^encoder\.layer\.(\d+)\.layer_scale1\.lambda1$/, 'blocks.$1.ls1.gamma'],
  [/^encoder\.layer\.(\d+)\.layer_scale2\.lambda1$/, 'blocks.$1.ls2.gamma'],
  [/^encoder\.layer\.(\d+)\.mlp\.fc1\./, 'blocks.$1.mlp.fc1.'],
  [/^encoder\.layer\.(\d+)\.mlp\.fc2\./, 'blocks.$1.mlp.fc2.'],
  [/^encoder\.layer\.(\d+)\.mlp\.weights_in\./, 'blocks.$1.mlp.w12.'],
  [/^encoder\.layer\.(\d+)\.mlp\.weights_out\./, 'blocks.$1.mlp.w3.'],
  [/^layernorm\./, 'norm.'],
  [/^embeddings\.cls_token$/, 'cls_token'],
  [/^embeddings\.mask_token$/, 'mask_token'],
  [/^embeddings\.register_tokens$/, 'register_tokens'],
  [/^embeddings\.position_embeddings$/, 'pos_embed'],
  [/^embeddings\.patch_embeddings\.projection\./, 'patch_embed.proj.'],
];

function fromHf(src: StateDict, out: ConvertedStateDict): void {
  for (const k of Object.keys(src)) {
    const rule = HF_BLOCK.find(([re]) => re.test(k));
    if (rule) {
      out.stateDict[k.replace(rule[0], rule[1])] = src[k];
      delete src[k];
    }
  }
  // Separate query/key/value projections become DINOv2's packed qkv, in that order.
  const layers = new Set(Object.keys(src).map((k) => /^encoder\.layer\.(\d+)\.attention\.attention\.query\.weight$/.exec(k)?.[1]).filter((x): x is string => x !== undefined));
  for (const i of layers) {
    for (const p of ['weight', 'bias']) {
      const parts = ['query', 'key', 'value'].map((n) => `encoder.layer.${i}.attention.attention.${n}.${p}`);
      const missing = parts.filter((k) => !src[k]);
      if (missing.length) throw new Error(`toOurConvention (dinov2-hf): missing ${missing.join(', ')}`);
      const shapes = parts.map((k) => src[k].shape);
      if (!shapes.every((s) => s.length === shapes[0].length && s.every((d, j) => d === shapes[0][j]))) {
        throw new Error(`toOurConvention (dinov2-hf): layer ${i} query/key/value ${p} shapes differ: ${shapes.map((s) => `[${s}]`).join(', ')}`);
      }
      out.stateDict[`blocks.${i}.attn.qkv.${p}`] = tf.concat(parts.map((k) => src[k]), 0);
      for (const k of parts) delete src[k];
    }
  }
  Object.assign(out.extra, src);
}

function fromTimm(src: StateDict, out: ConvertedStateDict): void {
  const pos = src.pos_embed;
  const cls = src.cls_token;
  if (!pos || !cls) throw new Error(`toOurConvention (dinov2-timm): missing ${!pos ? 'pos_embed' : 'cls_token'}`);
  const tokens = pos.shape[1] ?? 0;
  if (src.reg_token) {
    // timm's register models keep no positional embedding for the class token (no_embed_class)
    // and fold DINOv2's class position into cls_token; a zero class position is the same model.
    if (pos.rank !== 3 || !isSquare(tokens)) throw new Error(`toOurConvention (dinov2-timm): reg model pos_embed should be [1, n*n, E], got [${pos.shape}]`);
    out.stateDict.pos_embed = tf.tidy(() => tf.concat([tf.zeros([1, 1, pos.shape[2] as number]), pos], 1));
    out.stateDict.register_tokens = src.reg_token;
    delete src.reg_token;
  } else {
    out.stateDict.pos_embed = pos;
  }
  delete src.pos_embed;
  out.stateDict.cls_token = cls;
  delete src.cls_token;
  // timm packs DINOv2-g's SwiGLU in fc1 [2H, E] / fc2 [E, H]; a plain MLP has fc1 [H, E].
  const packed = (block: string): boolean => {
    const fc1 = src[`blocks.${block}.mlp.fc1.weight`];
    const fc2 = src[`blocks.${block}.mlp.fc2.weight`];
    return !!fc1 && !!fc2 && fc1.shape[0] === 2 * (fc2.shape[1] as number);
  };
  const renames = Object.keys(src).map((k): [string, string] => {
    const b = /^blocks\.(\d+)\.mlp\.fc([12])\.(weight|bias)$/.exec(k);
    return [k, b && packed(b[1]) ? `blocks.${b[1]}.mlp.${b[2] === '1' ? 'w12' : 'w3'}.${b[3]}` : k];
  });
  for (const [k, to] of renames) {
    out.stateDict[to] = src[k];
    delete src[k];
  }
  for (const k of Object.keys(out.stateDict)) {
    if (!/^(cls_token|pos_embed|register_tokens|patch_embed\.proj\.(weight|bias)|blocks\.\d+\..*|norm\.(weight|bias))$/.test(k)) {
      out.extra[k] = out.stateDict[k];
      delete out.stateDict[k];
    }
  }
  if (!out.stateDict.mask_token) {
    // Only used for masked pre-training; DINOv2 initialises it to zeros.
    out.stateDict.mask_token = tf.zeros([1, cls.shape[2] ?? 0]);
    out.synthesized.push('mask_token');
  }
}

function isSquare(n: number): boolean {
  const s = Math.round(Math.sqrt(n));
  return s * s === n && n > 0;
}

function shapeOf(dict: StateDict, key: string, convention: string): number[] {
  const t = dict[key];
  if (!t) throw new Error(`toOurConvention (${convention}): missing '${key}'`);
  return t.shape;
}

function expectShape(dict: StateDict, key: string, want: number[], convention: string): void {
  const got = shapeOf(dict, key, convention);
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`toOurConvention (${convention}): '${key}' expected shape [${want.join(', ')}], got [${got.join(', ')}]`);
  }
}

/**
 * Reads a DINOv2 architecture from hub-named tensors (under `prefix`) and checks every tensor
 * against it. Keys under `prefix` that a DINOv2 encoder does not have move to `extra`, or are an
 * error when `extra` is not given.
 */
export function checkDinov2(dict: StateDict, prefix = '', convention = 'dinov2', extra?: StateDict): Dinov2Config {
  const key = (k: string): string => prefix + k;
  const patch = shapeOf(dict, key('patch_embed.proj.weight'), convention);
  if (patch.length !== 4 || patch[2] !== patch[3]) throw new Error(`toOurConvention (${convention}): '${key('patch_embed.proj.weight')}' expected [E, C, p, p], got [${patch}]`);
  const [embedDim, inChannels, patchSize] = patch;
  const E = embedDim;
  const depth = new Set(Object.keys(dict).map((k) => (k.startsWith(prefix) ? /^blocks\.(\d+)\./.exec(k.slice(prefix.length))?.[1] : undefined)).filter((x) => x !== undefined)).size;
  if (depth === 0) throw new Error(`toOurConvention (${convention}): no 'blocks.N.*' tensors`);
  expectShape(dict, key('cls_token'), [1, 1, E], convention);
  expectShape(dict, key('mask_token'), [1, E], convention);
  const pos = shapeOf(dict, key('pos_embed'), convention);
  if (pos.length !== 3 || pos[0] !== 1 || pos[2] !== E || !isSquare(pos[1] - 1)) {
    throw new Error(`toOurConvention (${convention}): '${key('pos_embed')}' expected [1, 1 + n*n, ${E}], got [${pos}]`);
  }
  const reg = dict[key('register_tokens')];
  const numRegisterTokens = reg ? (reg.shape[1] as number) : 0;
  if (reg) expectShape(dict, key('register_tokens'), [1, numRegisterTokens, E], convention);
  const swiglu = !!dict[key('blocks.0.mlp.w12.weight')];
  const hiddenShape = shapeOf(dict, key(swiglu ? 'blocks.0.mlp.w3.weight' : 'blocks.0.mlp.fc2.weight'), convention);
  const H = hiddenShape[1];
  const layerScale = !!dict[key('blocks.0.ls1.gamma')];
  const expected: [string, number[]][] = [
    ['patch_embed.proj.bias', [E]],
    ['norm.weight', [E]],
    ['norm.bias', [E]],
  ];
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}.`;
    expected.push(
      [`${b}norm1.weight`, [E]],
      [`${b}norm1.bias`, [E]],
      [`${b}attn.qkv.weight`, [3 * E, E]],
      [`${b}attn.qkv.bias`, [3 * E]],
      [`${b}attn.proj.weight`, [E, E]],
      [`${b}attn.proj.bias`, [E]],
      [`${b}norm2.weight`, [E]],
      [`${b}norm2.bias`, [E]],
    );
    if (layerScale) expected.push([`${b}ls1.gamma`, [E]], [`${b}ls2.gamma`, [E]]);
    if (swiglu) expected.push([`${b}mlp.w12.weight`, [2 * H, E]], [`${b}mlp.w12.bias`, [2 * H]], [`${b}mlp.w3.weight`, [E, H]], [`${b}mlp.w3.bias`, [E]]);
    else expected.push([`${b}mlp.fc1.weight`, [H, E]], [`${b}mlp.fc1.bias`, [H]], [`${b}mlp.fc2.weight`, [E, H]], [`${b}mlp.fc2.bias`, [E]]);
  }
  for (const [k, s] of expected) expectShape(dict, key(k), s, convention);
  const known = new Set([...expected.map(([k]) => key(k)), ...['cls_token', 'mask_token', 'pos_embed', 'register_tokens', 'patch_embed.proj.weight'].map(key)]);
  const stray = Object.keys(dict).filter((k) => k.startsWith(prefix) && !known.has(k));
  if (stray.length && !extra) throw new Error(`toOurConvention (${convention}): unexpected DINOv2 keys ${stray.slice(0, 8).join(', ')}`);
  for (const k of stray) {
    extra![k] = dict[k];
    delete dict[k];
  }
  return {
    embedDim,
    depth,
    patchSize,
    inChannels,
    numRegisterTokens,
    posGridSize: Math.round(Math.sqrt(pos[1] - 1)),
    ffnHidden: H,
    ffnLayer: swiglu ? 'swiglufused' : 'mlp',
    layerScale,
    numHeads: STANDARD_HEADS[E] ?? null,
  };
}

/** Checks the authors' slice-fusion transformer, class token and linear head against each other. */
function checkSliceFusion(dict: StateDict, convention: string): void {
  if (!dict.cls_token && !Object.keys(dict).some((k) => k.startsWith('slice_fusion.'))) {
    // Linear or average fusion: only the head, whose width depends on the slice count.
    const lin = shapeOf(dict, 'linear.weight', convention);
    if (lin.length !== 2) throw new Error(`toOurConvention (${convention}): 'linear.weight' expected [classes, features], got [${lin}]`);
    expectShape(dict, 'linear.bias', [lin[0]], convention);
    return;
  }
  const D = shapeOf(dict, 'cls_token', convention)[2];
  expectShape(dict, 'cls_token', [1, 1, D], convention);
  const layers = new Set(Object.keys(dict).map((k) => /^slice_fusion\.layers\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  for (let i = 0; i < layers; i++) {
    const l = `slice_fusion.layers.${i}.`;
    const F = shapeOf(dict, `${l}linear1.weight`, convention)[0];
    for (const [k, s] of [
      ['self_attn.in_proj_weight', [3 * D, D]],
      ['self_attn.in_proj_bias', [3 * D]],
      ['self_attn.out_proj.weight', [D, D]],
      ['self_attn.out_proj.bias', [D]],
      ['linear1.weight', [F, D]],
      ['linear1.bias', [F]],
      ['linear2.weight', [D, F]],
      ['linear2.bias', [D]],
      ['norm1.weight', [D]],
      ['norm1.bias', [D]],
      ['norm2.weight', [D]],
      ['norm2.bias', [D]],
    ] as [string, number[]][]) {
      expectShape(dict, l + k, s, convention);
    }
  }
  if (dict['slice_fusion.norm.weight']) expectShape(dict, 'slice_fusion.norm.weight', [D], convention);
  const lin = shapeOf(dict, 'linear.weight', convention);
  if (lin.length !== 2 || lin[1] !== D) throw new Error(`toOurConvention (${convention}): 'linear.weight' expected [classes, ${D}], got [${lin}]`);
  expectShape(dict, 'linear.bias', [lin[0]], convention);
}

const RESNET_DEPTHS: Record<string, ResNetConfig['depth']> = { 'basic:2,2,2,2': 18, 'basic:3,4,6,3': 34, 'bottleneck:3,4,6,3': 50, 'bottleneck:3,4,23,3': 101, 'bottleneck:3,8,36,3': 152 };

/**
 * Reads a ResNet architecture from MONAI/torchvision-named tensors (under `prefix`) and checks
 * that every batch norm matches its convolution and `fc` matches the last stage.
 */
export function checkResNet(dict: StateDict, prefix = '', convention = 'resnet'): ResNetConfig {
  const key = (k: string): string => prefix + k;
  const conv1 = shapeOf(dict, key('conv1.weight'), convention);
  if (conv1.length !== 4 && conv1.length !== 5) throw new Error(`toOurConvention (${convention}): '${key('conv1.weight')}' expected a 2D or 3D convolution, got [${conv1}]`);
  const block = dict[key('layer1.0.conv3.weight')] ? 'bottleneck' : 'basic';
  const layers = [1, 2, 3, 4].map(
    (s) => new Set(Object.keys(dict).map((k) => (k.startsWith(prefix) ? new RegExp(`^layer${s}\\.(\\d+)\\.`).exec(k.slice(prefix.length))?.[1] : undefined)).filter((x) => x !== undefined)).size,
  ) as [number, number, number, number];
  const depth = RESNET_DEPTHS[`${block}:${layers.join(',')}`];
  if (!depth) throw new Error(`toOurConvention (${convention}): ${block} blocks per stage [${layers}] match no ResNet 18/34/50/101/152`);
  const rank = conv1.length;
  for (const k of Object.keys(dict)) {
    if (!k.startsWith(prefix)) continue;
    const conv = /^(.*)(conv(\d)|downsample\.0)\.weight$/.exec(k);
    if (!conv) continue;
    const w = dict[k].shape;
    if (w.length !== rank) throw new Error(`toOurConvention (${convention}): '${k}' has rank ${w.length}, conv1 has ${rank}`);
    const bn = conv[2] === 'downsample.0' ? `${conv[1]}downsample.1` : `${conv[1]}bn${conv[3]}`;
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) if (dict[`${bn}.${p}`]) expectShape(dict, `${bn}.${p}`, [w[0]], convention);
  }
  const last = block === 'bottleneck' ? `layer4.${layers[3] - 1}.conv3.weight` : `layer4.${layers[3] - 1}.conv2.weight`;
  const featureSize = shapeOf(dict, key(last), convention)[0];
  let numClasses: number | null = null;
  if (dict[key('fc.weight')]) {
    const fc = dict[key('fc.weight')].shape;
    if (fc.length !== 2 || fc[1] !== featureSize) throw new Error(`toOurConvention (${convention}): '${key('fc.weight')}' expected [classes, ${featureSize}], got [${fc}]`);
    numClasses = fc[0] as number;
  }
  return { spatialDims: rank === 5 ? 3 : 2, depth, block, layers, inChannels: conv1[1], conv1Kernel: conv1.slice(2), numClasses, featureSize };
}

/**
 * A renaming between a model's module paths and the state-dict keys of the original it mirrors,
 * for models whose original keeps weights at other places than a natural module tree would.
 */
export interface KeyMap {
  /** The original's key of a module path (unchanged where no rule applies). */
  toOriginal(path: string): string;
  /** The module path of an original's key; every accepted spelling maps to the same path. */
  fromOriginal(key: string): string;
}

/** One rule of a {@link KeyMap}: a path prefix and its original spelling (`exact` for a leaf). */
interface KeyRule {
  path: string;
  original: string;
  /** Further original spellings read as this path (never written). */
  aliases?: string[];
  exact?: boolean;
}

function keyMap(rules: readonly KeyRule[]): KeyMap {
  const rename = (key: string, from: (r: KeyRule) => string[], to: (r: KeyRule) => string): string => {
    for (const r of rules) {
      for (const f of from(r)) {
        if (r.exact ? key === f : key.startsWith(f)) return to(r) + key.slice(f.length);
      }
    }
    return key;
  };
  return {
    toOriginal: (path) => rename(path, (r) => [r.path], (r) => r.original),
    fromOriginal: (key) => rename(key, (r) => [r.original, ...(r.aliases ?? [])], (r) => r.path),
  };
}

/**
 * The authors' names of a transformer slice fusion's weights (`torch.nn.TransformerEncoder` as
 * `slice_fusion`, the CLS token and the AdPE table at the top), from its module paths.
 */
const TRANSFORMER_FUSION_RULES: readonly KeyRule[] = [
  { path: 'transformer.', original: 'slice_fusion.' },
  { path: 'slice_pos_emb.', original: 'slice_pos_emb.' },
  { path: 'cls_token', original: 'cls_token', exact: true },
];

/**
 * The key map of a transformer slice fusion on its own: `transformer.layers.0.*` is the
 * authors' `slice_fusion.layers.0.*`.
 *
 * @example
 * transformerFusionKeys().toOriginal('transformer.norm.weight'); // 'slice_fusion.norm.weight'
 */
export function transformerFusionKeys(): KeyMap {
  return keyMap(TRANSFORMER_FUSION_RULES);
}

/**
 * The key map of an MST (`encoder` -> `fusion` -> `head`) to the authors' `DinoV2ClassifierSlice`
 * (encoder under `encoder.`) or `ResNetSliceTrans` (encoder under `model.`): the transformer
 * fusion's weights at the top level (`cls_token`, `slice_pos_emb.weight`, `slice_fusion.*`) and
 * the head as `linear`. Either encoder prefix is accepted on load. Weights of other fusions keep
 * their paths (`fusion.*`).
 *
 * @example
 * mstOriginalKeys('model').toOriginal('encoder.conv1.weight'); // 'model.conv1.weight'
 * mstOriginalKeys('encoder').fromOriginal('slice_fusion.norm.bias'); // 'fusion.transformer.norm.bias'
 */
export function mstOriginalKeys(encoderKey: 'encoder' | 'model'): KeyMap {
  const other = encoderKey === 'encoder' ? 'model.' : 'encoder.';
  return keyMap([
    { path: 'encoder.', original: `${encoderKey}.`, aliases: [other] },
    ...TRANSFORMER_FUSION_RULES.map((r) => ({ ...r, path: `fusion.${r.path}` })),
    { path: 'head.', original: 'linear.' },
  ]);
}
