import * as tf from '@tensorflow/tfjs';
// In Node, wasm with mst-ts's kernels becomes tfjs's backend for the first tensor of any model.
import '../kernels/node_default_backend';
import { oursToTorch, torchShape, torchToOurs, type ParamLayout } from './layout';

/** A state dict: PyTorch-named tensors in PyTorch's layout (`blocks.0.attn.qkv.weight`). */
export type StateDict = Record<string, tf.Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true). Mis-shaped keys are always refused. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match when `strict` is false. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface Slot {
  variable: tf.Variable;
  layout: ParamLayout;
  isBuffer: boolean;
  /** A buffer a state dict may lack: set to this value instead of refusing the dict. */
  fillWhenMissing?: number;
}

/** Options of a buffer registered with `registerBuffer`. */
export interface BufferOptions {
  /**
   * When a state dict lacks this buffer, set it to this value instead of refusing the dict, as
   * PyTorch does for BatchNorm's `num_batches_tracked` (0): many converters (safetensors, fp16)
   * drop that integer buffer, and PyTorch's strict load accepts their files.
   */
  fillWhenMissing?: number;
}

/**
 * A PyTorch-like module on tfjs. Children and parameters registered under a name form dotted
 * paths that are the state-dict keys, so a PyTorch state dict loads without a mapping table.
 * Parameters are `tf.Variable`s kept in the layout tfjs computes with; {@link ./layout} converts
 * to and from PyTorch's at load and save.
 *
 * @example
 * class Affine extends Module {
 *   readonly weight = this.registerParameter('weight', tf.ones([4]));
 *   forward(x: tf.Tensor) { return tf.mul(x, this.weight); }
 * }
 * new Affine().stateDictKeys(); // ['weight']
 */
export class Module {
  /** Training mode (dropout, batch-norm statistics); see {@link train} and {@link eval}. */
  training = true;
  private readonly slots = new Map<string, Slot>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter under `name`; `value` is in our layout and is kept. */
  protected registerParameter(name: string, value: tf.Tensor, layout: ParamLayout = 'plain'): tf.Variable {
    return this.addSlot(name, value, layout, false);
  }

  /** Registers a non-trainable buffer (batch-norm running statistics) under `name`. */
  protected registerBuffer(name: string, value: tf.Tensor, options: BufferOptions = {}): tf.Variable {
    const variable = this.addSlot(name, value, 'plain', true);
    if (options.fillWhenMissing !== undefined) (this.slots.get(name) as Slot).fillWhenMissing = options.fillWhenMissing;
    return variable;
  }

  /** Registers a child module; its parameters appear under `name.` in the state dict. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  private addSlot(name: string, value: tf.Tensor, layout: ParamLayout, isBuffer: boolean): tf.Variable {
    this.checkName(name);
    const variable = tf.variable(value, !isBuffer);
    value.dispose();
    this.slots.set(name, { variable, layout, isBuffer });
    return variable;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`Module: invalid name '${name}'`);
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`Module: '${name}' is already registered`);
  }

  /** Direct children in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** Every module of the subtree, this one first (name ''), with dotted paths. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** The module at a dotted path (`blocks.11.attn`), or an error listing valid paths. */
  getSubmodule(path: string): Module {
    const found = this.namedModules().find(([n]) => n === path);
    if (!found) {
      const names = this.namedModules().map(([n]) => n).filter((n) => n !== '');
      throw new Error(`getSubmodule: no module '${path}'; valid names: ${names.join(', ')}`);
    }
    return found[1];
  }

  private namedSlots(prefix = ''): [string, Slot][] {
    const out: [string, Slot][] = [];
    for (const [name, slot] of this.slots) out.push([join(prefix, name), slot]);
    for (const [name, child] of this.children) out.push(...child.namedSlots(join(prefix, name)));
    return out;
  }

  /**
   * Every parameter and buffer under its state-dict key, in PyTorch's order: a module's own
   * tensors before its children's (where a model maps its keys to an original's names, see
   * {@link stateDictKey}, the keys that land at the top level come first, as the original's own).
   */
  private keyedSlots(): [string, Slot][] {
    const keyed = this.namedSlots().map(([n, s]) => [this.stateDictKey(n), s] as [string, Slot]);
    return [...keyed.filter(([k]) => !k.includes('.')), ...keyed.filter(([k]) => k.includes('.'))];
  }

  /** Trainable and frozen parameters (not buffers), keyed by state-dict name, in our layout. */
  namedParameters(): [string, tf.Variable][] {
    return this.keyedSlots()
      .filter(([, s]) => !s.isBuffer)
      .map(([n, s]) => [n, s.variable]);
  }

  /** Buffers keyed by state-dict name. */
  namedBuffers(): [string, tf.Variable][] {
    return this.keyedSlots()
      .filter(([, s]) => s.isBuffer)
      .map(([n, s]) => [n, s.variable]);
  }

  /** The parameters an optimizer should update (not frozen). */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .map(([, v]) => v)
      .filter((v) => v.trainable);
  }

  /**
   * The state-dict key of the slot at module path `path`: the path itself, unless a model's
   * originals name their weights differently from its module tree (the authors' MST keeps its
   * fusion's and head's weights at the top level); such a model overrides this and {@link slotPath}.
   */
  protected stateDictKey(path: string): string {
    return path;
  }

  /** The module path of state-dict key `key` (the inverse of {@link stateDictKey}). */
  protected slotPath(key: string): string {
    return key;
  }

  /** State-dict keys in PyTorch order (parameters and buffers as registered). */
  stateDictKeys(): string[] {
    return this.keyedSlots().map(([k]) => k);
  }

  /** PyTorch shape of every state-dict entry. */
  stateDictShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [k, s] of this.keyedSlots()) out[k] = torchShape(s.variable.shape, s.layout);
    return out;
  }

  /**
   * The state dict in PyTorch's names and layouts. The tensors are new: the caller owns them
   * (dispose them, or use {@link disposeStateDict}).
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, s] of this.keyedSlots()) out[k] = tf.tidy(() => oursToTorch(s.variable, s.layout));
    return out;
  }

  /**
   * Loads PyTorch-layout tensors into this module's parameters and buffers. Every key is checked
   * before anything is assigned, so a failed load leaves the module unchanged. The dict is not
   * disposed. Throws an error listing missing, unexpected and mis-shaped keys. A buffer registered
   * with `fillWhenMissing` (BatchNorm's `num_batches_tracked`) that the dict lacks is set to that
   * value and is not missing, as in PyTorch.
   */
  loadStateDict(dict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const slots = new Map(this.keyedSlots());
    dict = this.canonicalKeys(dict);
    const filled = [...slots].filter(([k, s]) => !(k in dict) && s.fillWhenMissing !== undefined);
    const missingKeys = [...slots].filter(([k, s]) => !(k in dict) && s.fillWhenMissing === undefined).map(([k]) => k);
    const unexpectedKeys = Object.keys(dict).filter((k) => !slots.has(k));
    const misShaped: string[] = [];
    for (const [name, slot] of slots) {
      const t = dict[name];
      if (!t) continue;
      const want = torchShape(slot.variable.shape, slot.layout);
      if (!sameShape(want, t.shape)) misShaped.push(`${name}: expected [${want}], got [${t.shape}]`);
    }
    const problems: string[] = [];
    if (misShaped.length) problems.push(`mis-shaped keys: ${misShaped.join('; ')}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length) throw new Error(`loadStateDict: ${problems.join('\n')}`);
    for (const [name, slot] of slots) {
      const t = dict[name];
      if (!t) continue;
      tf.tidy(() => {
        const value = torchToOurs(t, slot.layout);
        slot.variable.assign(value.dtype === slot.variable.dtype ? value : tf.cast(value, slot.variable.dtype));
      });
    }
    for (const [, slot] of filled) tf.tidy(() => slot.variable.assign(tf.fill(slot.variable.shape, slot.fillWhenMissing as number, slot.variable.dtype)));
    return { missingKeys, unexpectedKeys };
  }

  /**
   * `dict` under this module's own state-dict keys: a key another accepted spelling of which maps
   * to the same slot (see {@link slotPath}) is renamed; two keys for one slot are an error.
   */
  private canonicalKeys(dict: StateDict): StateDict {
    const keys = Object.keys(dict);
    if (keys.every((k) => this.stateDictKey(this.slotPath(k)) === k)) return dict;
    const out: StateDict = Object.create(null);
    const from = new Map<string, string>();
    for (const k of keys) {
      const own = this.stateDictKey(this.slotPath(k));
      const seen = from.get(own);
      if (seen !== undefined) throw new Error(`loadStateDict: keys '${seen}' and '${k}' both name the weight '${own}'`);
      from.set(own, k);
      out[own] = dict[k];
    }
    return out;
  }

  /** Sets training mode on the whole subtree. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode on the whole subtree. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Excludes every parameter of the subtree from training. Returns this. */
  freeze(): this {
    for (const [, v] of this.namedParameters()) v.trainable = false;
    return this;
  }

  /** Makes every parameter of the subtree trainable again. Returns this. */
  unfreeze(): this {
    for (const [, v] of this.namedParameters()) v.trainable = true;
    return this;
  }

  /** Number of scalar parameters, as PyTorch's `sum(p.numel() for p in m.parameters())`. */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.namedParameters()
      .filter(([, v]) => !options.trainableOnly || v.trainable)
      .reduce((acc, [, v]) => acc + v.size, 0);
  }

  /**
   * Frees every parameter and buffer of the subtree. Children free themselves through their own
   * `dispose`, so a subclass's extra tensors (caches) go too.
   */
  dispose(): void {
    for (const [, s] of this.slots) s.variable.dispose();
    for (const [, child] of this.children) child.dispose();
  }
}

/** A list of modules named `0`, `1`, ... as `torch.nn.ModuleList`. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];

  constructor(modules: M[] = []) {
    super();
    modules.forEach((m) => this.append(m));
  }

  /** Appends a module under the next index. */
  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }
}

/** Disposes every tensor of a state dict. */
export function disposeStateDict(dict: StateDict): void {
  for (const t of Object.values(dict)) t.dispose();
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
