/** A JSON-safe options object of a registered component (numbers, strings, booleans, arrays, objects). */
export type ComponentOptions = Record<string, unknown>;

/** A component by registered name and the options that rebuild it. */
export interface ComponentConfig {
  name: string;
  options: ComponentOptions;
}

/** How a registry builds, validates and recognises one kind of component. */
export interface ComponentDefinition<T, C = void> {
  /** One line for listings and errors. */
  description?: string;
  /** Builds the component from its options (plus the context the owner passes, e.g. the feature width). */
  create(options: ComponentOptions, context: C): T;
  /**
   * Checks options read from a file before anything is built, throwing an error that names the
   * offending field (types, ranges, consistency). Default: none.
   */
  validate?(options: ComponentOptions, context: C, path: string): void;
  /**
   * The options of an instance built without {@link ComponentRegistry.create} (`new
   * DinoVisionTransformer(...)`), or undefined when it is not of this kind.
   */
  describe?(instance: T): ComponentOptions | undefined;
  /**
   * A module (a file path or URL) whose import registers this component: worker threads (the
   * slice-encoder pool, data-parallel training) import it, so a component of your own works
   * there too. The workers run mst-ts's ES modules, so this must be an ES module that imports
   * 'mst-ts' (in a CommonJS project: a `.mjs` file). Built-in components need none.
   */
  module?: string;
}

/**
 * Named factories of one kind of component (slice encoders, slice fusions). A component built by
 * {@link create} remembers its name and options, so a model holding it can be saved and rebuilt
 * by name; built-in kinds also recognise instances made directly through `describe`.
 *
 * @example
 * const encoders = new ComponentRegistry<SliceEncoder>('slice encoder');
 * encoders.register('tiny-cnn', { create: (o) => new TinyCnn(o) });
 * const enc = encoders.create('tiny-cnn', { width: 32 });
 * encoders.configOf(enc); // { name: 'tiny-cnn', options: { width: 32 } }
 */
export class ComponentRegistry<T extends object, C = void> {
  private readonly definitions = new Map<string, ComponentDefinition<T, C>>();
  private readonly origins = new WeakMap<T, ComponentConfig>();

  /** @param kind what the components are, for error messages ('slice encoder'). */
  constructor(readonly kind: string) {}

  /** Adds (or replaces) the definition of `name`. */
  register(name: string, definition: ComponentDefinition<T, C>): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][\w.+-]*$/.test(name)) {
      throw new Error(`register ${this.kind}: the name must be letters, digits, '.', '_', '+' or '-', got ${JSON.stringify(name)}`);
    }
    if (!definition || typeof definition.create !== 'function') throw new Error(`register ${this.kind} '${name}': the definition needs a create(options) function`);
    this.definitions.set(name, definition);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.definitions.has(name);
  }

  /** Registered names in registration order. */
  names(): string[] {
    return [...this.definitions.keys()];
  }

  /** The definition of `name`, or an error listing the registered names. */
  definition(name: string): ComponentDefinition<T, C> {
    const d = this.definitions.get(name);
    if (!d) throw new Error(`unknown ${this.kind} '${name}'; registered: ${this.names().join(', ')}`);
    return d;
  }

  /** Checks options (as read from a file) against the definition of `name`; errors name `path`. */
  validate(name: string, options: unknown, context: C, path = `${this.kind} '${name}' options`): void {
    const d = this.definition(name);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new Error(`${path}: expected an object, got ${JSON.stringify(options)?.slice(0, 80)}`);
    }
    d.validate?.(options as ComponentOptions, context, path);
  }

  /** Builds a `name` component and remembers how, for {@link configOf}. */
  create(name: string, options: ComponentOptions = {}, context: C): T {
    this.validate(name, options, context);
    const made = this.definition(name).create(options, context);
    this.origins.set(made, { name, options: structuredClone(options) });
    return made;
  }

  /** The modules to import for the given component names (see {@link ComponentDefinition.module}). */
  modulesFor(names: readonly string[]): string[] {
    return [...new Set(names.map((n) => this.definition(n).module).filter((m): m is string => typeof m === 'string'))];
  }

  /**
   * The name and options that rebuild `instance`, or an error saying how to make it savable
   * (`registration` shows the call that registers a factory of its kind).
   */
  requireConfigOf(instance: T, registration: string): ComponentConfig {
    const config = this.configOf(instance);
    if (config) return config;
    const name = (instance as { constructor?: { name?: string } }).constructor?.name ?? typeof instance;
    throw new Error(`the ${this.kind} ${name} was not built by a registered factory, so a model on it cannot be saved or sent to workers: ${registration.replaceAll('CLASS', name)}`);
  }

  /**
   * The name and options that rebuild `instance`, or null when it was neither built by
   * {@link create} nor is recognised by a definition's `describe`.
   */
  configOf(instance: T): ComponentConfig | null {
    const made = this.origins.get(instance);
    if (made) return { name: made.name, options: structuredClone(made.options) };
    for (const [name, d] of this.definitions) {
      const options = d.describe?.(instance);
      if (options) return { name, options };
    }
    return null;
  }
}
