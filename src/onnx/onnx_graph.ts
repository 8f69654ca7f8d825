import * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';
import { OnnxDataType, type OnnxAttributeValue, type OnnxDim, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx_proto';

/** A weight whose bytes are read when the graph is built (tfjs reads are async on some backends). */
interface PendingWeight {
  name: string;
  docString?: string;
  /** Returns the tensor to read; `owned` tensors are disposed after reading. */
  tensor: () => { value: tf.Tensor; owned: boolean };
}

/**
 * Builds an ONNX graph node by node: unique value names, deduplicated int64 constants, and
 * weights taken from tfjs variables by their state-dict names. Node and value names carry the
 * current scope (`blocks.3.attn/MatMul_12`), so a graph viewer shows where each op comes from.
 *
 * @example
 * const g = new OnnxGraphBuilder('tiny', model);
 * const x = g.input('x', ['batch', 4]);
 * g.output('y', g.op('Relu', [x]), ['batch', 4]);
 * const graph = await g.build();
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly constants: OnnxTensor[] = [];
  private readonly pending: PendingWeight[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  private readonly floatCache = new Map<string, string>();
  private readonly weightNames = new Map<tf.Variable, string>();
  private readonly moduleKeys: Map<Module, string>;
  private scopeName = '';
  private counter = 0;

  /**
   * @param name the graph's name
   * @param root the module whose state-dict names name the weights
   * @param rename maps a module path to the root's state-dict key, where they differ (MST)
   */
  constructor(
    readonly name: string,
    root: Module,
    private readonly rename: (path: string) => string = (p) => p,
  ) {
    this.moduleKeys = new Map(root.namedModules().map(([k, m]) => [m, k]));
  }

  /** The state-dict prefix of a module of the root (`encoder.blocks.0.attn`). */
  keyOf(module: Module): string {
    const key = this.moduleKeys.get(module);
    if (key === undefined) throw new Error(`OnnxGraphBuilder: module ${module.constructor.name} is not part of the exported model`);
    return key;
  }

  /** Runs `fn` with node names prefixed by `scope`. */
  scope<T>(scope: string, fn: () => T): T {
    const saved = this.scopeName;
    this.scopeName = scope;
    try {
      return fn();
    } finally {
      this.scopeName = saved;
    }
  }

  private unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private fresh(opType: string): string {
    return this.unique(`${this.scopeName ? `${this.scopeName}/` : ''}${opType}_${++this.counter}`);
  }

  /** Declares a float32 graph input. */
  input(name: string, shape: OnnxDim[], docString?: string): string {
    if (this.names.has(name)) throw new Error(`OnnxGraphBuilder: duplicate name '${name}'`);
    this.names.add(name);
    this.inputs.push({ name, elemType: OnnxDataType.FLOAT, shape, docString });
    return name;
  }

  /** Declares a float32 graph output named `name` holding `value`. */
  output(name: string, value: string, shape: OnnxDim[], docString?: string): void {
    if (this.names.has(name)) throw new Error(`OnnxGraphBuilder: duplicate name '${name}'`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name], name: `output/${name}` });
    this.outputs.push({ name, elemType: OnnxDataType.FLOAT, shape, docString });
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attributes?: Record<string, OnnxAttributeValue>): string {
    return this.opN(opType, inputs, 1, attributes)[0];
  }

  /** Adds a node with `numOutputs` outputs. */
  opN(opType: string, inputs: string[], numOutputs: number, attributes?: Record<string, OnnxAttributeValue>): string[] {
    const nodeName = this.fresh(opType);
    const outputs = Array.from({ length: numOutputs }, (_, i) => (i === 0 ? nodeName : this.unique(`${nodeName}:${i}`)));
    this.nodes.push({ opType, inputs, outputs, name: nodeName, attributes });
    return outputs;
  }

  /** An int64 constant `[values.length]` (or a scalar with `scalar`), shared between users. */
  int64s(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}${values.join(',')}`;
    const hit = this.int64Cache.get(key);
    if (hit) return hit;
    const name = this.unique(`const_i64_${scalar ? 'scalar_' : ''}${values.join('_').replace(/-/g, 'm')}`);
    this.constants.push({ name, dataType: OnnxDataType.INT64, dims: scalar ? [] : [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    this.int64Cache.set(key, name);
    return name;
  }

  /** A float32 scalar constant (dims `[]`), shared between users. */
  scalar(value: number): string {
    const f = Math.fround(value);
    const key = String(f);
    const hit = this.floatCache.get(key);
    if (hit) return hit;
    const name = this.unique(`const_f32_${this.counter++}`);
    this.constants.push({ name, dataType: OnnxDataType.FLOAT, dims: [], data: Float32Array.of(f) });
    this.floatCache.set(key, name);
    return name;
  }

  /** A float32 initializer from values computed at export time. */
  floats(name: string, data: Float32Array, dims: number[], docString?: string): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`OnnxGraphBuilder: '${name}' has ${data.length} values for dims [${dims.join(', ')}]`);
    const unique = this.unique(this.rename(name));
    this.constants.push({ name: unique, dataType: OnnxDataType.FLOAT, dims, data, docString });
    return unique;
  }

  /**
   * A float32 initializer read from a tfjs tensor when the graph is built. `transform` (run in a
   * tidy) derives the stored tensor from it, e.g. our conv layout back to PyTorch's.
   */
  weight(name: string, variable: tf.Tensor, options: { transform?: (t: tf.Tensor) => tf.Tensor; docString?: string } = {}): string {
    const isVar = variable instanceof tf.Variable;
    const cached = isVar ? this.weightNames.get(variable as tf.Variable) : undefined;
    if (cached && !options.transform) return cached;
    if (variable.dtype !== 'float32') throw new Error(`OnnxGraphBuilder: weight '${name}' must be float32, got ${variable.dtype}`);
    const unique = this.unique(this.rename(name));
    const { transform } = options;
    this.pending.push({
      name: unique,
      docString: options.docString,
      tensor: () => (transform ? { value: tf.tidy(() => transform(variable)), owned: true } : { value: variable, owned: false }),
    });
    if (isVar && !transform) this.weightNames.set(variable as tf.Variable, unique);
    return unique;
  }

  /** A float32 initializer computed from the model when the graph is built (`make` runs in a tidy). */
  computed(name: string, make: () => tf.Tensor, docString?: string): string {
    const unique = this.unique(this.rename(name));
    this.pending.push({ name: unique, docString, tensor: () => ({ value: tf.tidy(make), owned: true }) });
    return unique;
  }

  /** Reads every weight and returns the graph. */
  async build(docString?: string): Promise<OnnxGraph> {
    const initializers: OnnxTensor[] = [];
    for (const p of this.pending) {
      const { value, owned } = p.tensor();
      try {
        const data = (await value.data()) as Float32Array;
        initializers.push({ name: p.name, dataType: OnnxDataType.FLOAT, dims: value.shape.slice(), data, docString: p.docString });
      } finally {
        if (owned) value.dispose();
      }
    }
    return { name: this.name, nodes: this.nodes.slice(), initializers: [...initializers, ...this.constants], inputs: this.inputs.slice(), outputs: this.outputs.slice(), docString };
  }
}
