import * as tf from '@tensorflow/tfjs';
import { ADAMW } from '../kernels/wasm_adamw';

/** Options of {@link AdamW}; the defaults are `torch.optim.AdamW`'s. */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the bias-corrected root of the second moment (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay: each step multiplies the parameter by `1 - lr * weightDecay` (default 1e-2). */
  weightDecay?: number;
}

/** The moments of one parameter, named as the parameter's state-dict key. */
export interface AdamWParamState {
  /** First moment `exp_avg`, in the parameter's tfjs layout. */
  expAvg: tf.Variable;
  /** Second moment `exp_avg_sq`, in the parameter's tfjs layout. */
  expAvgSq: tf.Variable;
}

/**
 * AdamW as `torch.optim.AdamW` (amsgrad off): decoupled weight decay, bias-corrected moments,
 * `eps` added after the square root. Parameters are named (the module's state-dict keys) so the
 * moments can be saved and restored by name; gradients are looked up by `tf.Variable.name`, as
 * `tf.variableGrads` returns them.
 *
 * @example
 * const opt = new AdamW(model.namedParameters(), { lr: 1e-4 });
 * const { value, grads } = tf.variableGrads(() => lossOf(model), opt.variables());
 * opt.step(grads);
 * tf.dispose([value, grads]);
 */
export class AdamW {
  /** Learning rate; may be changed between steps (schedules). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled weight decay; may be changed between steps (DINO schedules it). */
  weightDecay: number;
  /** Steps taken so far (torch's `state['step']`, shared by every parameter here). */
  stepCount = 0;
  private readonly params: [string, tf.Variable][];
  private readonly state = new Map<string, AdamWParamState>();

  /** @param params `[name, variable]` pairs, e.g. `module.namedParameters()`; frozen ones are skipped. */
  constructor(params: [string, tf.Variable][], options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    const checks: [string, number, boolean][] = [
      ['lr', this.lr, this.lr >= 0],
      ['beta1', this.beta1, this.beta1 >= 0 && this.beta1 < 1],
      ['beta2', this.beta2, this.beta2 >= 0 && this.beta2 < 1],
      ['eps', this.eps, this.eps >= 0],
      ['weightDecay', this.weightDecay, this.weightDecay >= 0],
    ];
    for (const [name, value, ok] of checks) {
      if (!(ok && Number.isFinite(value))) throw new Error(`AdamW: invalid ${name} ${value}`);
    }
    this.params = params.filter(([, v]) => v.trainable);
    const names = new Set<string>();
    for (const [name, v] of this.params) {
      if (names.has(name)) throw new Error(`AdamW: parameter name '${name}' appears twice`);
      names.add(name);
      this.state.set(name, { expAvg: zeroVariable(v), expAvgSq: zeroVariable(v) });
    }
  }

  /** The variables this optimizer updates, in order; pass them to `tf.variableGrads`. */
  variables(): tf.Variable[] {
    return this.params.map(([, v]) => v);
  }

  /** Parameter names in order. */
  names(): string[] {
    return this.params.map(([n]) => n);
  }

  /**
   * One update from gradients keyed by `tf.Variable.name`. A parameter without a gradient is left
   * unchanged (its moments too), as torch skips parameters whose `.grad` is None. The gradients
   * are not disposed.
   */
  step(grads: tf.NamedTensorMap): void {
    this.stepCount += 1;
    const t = this.stepCount;
    // Scalars in double precision, as torch computes them in Python.
    const stepSize = this.lr / (1 - this.beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const decay = 1 - this.lr * this.weightDecay;
    const fused = tf.getKernel(ADAMW, tf.getBackend()) != null;
    for (const [name, p] of this.params) {
      const g = grads[p.name];
      if (!g) continue;
      if (!sameShape(g.shape, p.shape)) {
        throw new Error(`AdamW: gradient of '${name}' has shape [${g.shape}], parameter has [${p.shape}]`);
      }
      const s = this.state.get(name) as AdamWParamState;
      if (fused && p.dtype === 'float32' && g.dtype === 'float32') {
        // One pass (native/adamw.c), the ops below bit for bit; float32 constants as tf.mul takes them.
        const constants = [this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2, bc2Sqrt, this.eps, decay, stepSize].map(Math.fround);
        const [np, nm, nv] = tf.engine().runKernel(ADAMW, { p, g, m: s.expAvg, v: s.expAvgSq }, { constants } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        p.assign(np);
        s.expAvg.assign(nm);
        s.expAvgSq.assign(nv);
        tf.dispose([np, nm, nv]);
        continue;
      }
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.expAvg, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(s.expAvgSq, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        const decayed = decay === 1 ? p : tf.mul(p, decay);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
        s.expAvg.assign(m);
        s.expAvgSq.assign(v);
      });
    }
  }

  /**
   * The moments as new tensors (the caller owns them), keyed `exp_avg.<name>` and
   * `exp_avg_sq.<name>` in each parameter's tfjs layout, plus the step count for
   * {@link loadStateDict}.
   */
  stateDict(): { tensors: Record<string, tf.Tensor>; step: number } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.state) {
      tensors[`exp_avg.${name}`] = tf.clone(s.expAvg);
      tensors[`exp_avg_sq.${name}`] = tf.clone(s.expAvgSq);
    }
    return { tensors, step: this.stepCount };
  }

  /** Restores what {@link stateDict} returned; every moment must be present and shaped as before. */
  loadStateDict(saved: { tensors: Record<string, tf.Tensor>; step: number }): void {
    const problems: string[] = [];
    for (const [name, s] of this.state) {
      for (const [key, target] of [[`exp_avg.${name}`, s.expAvg], [`exp_avg_sq.${name}`, s.expAvgSq]] as const) {
        const t = saved.tensors[key];
        if (!t) problems.push(`missing '${key}'`);
        else if (!sameShape(t.shape, target.shape)) problems.push(`'${key}' has shape [${t.shape}], expected [${target.shape}]`);
      }
    }
    if (!Number.isInteger(saved.step) || saved.step < 0) problems.push(`step must be a non-negative integer, got ${saved.step}`);
    if (problems.length) throw new Error(`AdamW.loadStateDict: ${problems.join('; ')}`);
    for (const [name, s] of this.state) {
      s.expAvg.assign(saved.tensors[`exp_avg.${name}`]);
      s.expAvgSq.assign(saved.tensors[`exp_avg_sq.${name}`]);
    }
    this.stepCount = saved.step;
  }

  /** Frees the moments (not the parameters). */
  dispose(): void {
    for (const s of this.state.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.state.clear();
  }
}

function zeroVariable(like: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(like);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
