/**
 * Checks of configuration objects read from files (model configs, bundle JSON): every field's type
 * and range, with errors that name the field's path. Bounds keep a hostile file from asking for
 * absurd sizes before anything is allocated.
 */

/** What one field must be. */
export type FieldRule =
  | { type: 'int'; min?: number; max?: number; optional?: boolean }
  | { type: 'number'; min?: number; max?: number; optional?: boolean }
  | { type: 'boolean'; optional?: boolean }
  | { type: 'string'; maxLength?: number; optional?: boolean }
  | { type: 'enum'; values: readonly (string | number)[]; optional?: boolean }
  | { type: 'ints'; min?: number; max?: number; length?: number; minLength?: number; maxLength?: number; optional?: boolean }
  | { type: 'intOrInts'; min?: number; max?: number; length: number; optional?: boolean }
  | { type: 'object'; fields: FieldRules; optional?: boolean };

/** Rules by field name. */
export type FieldRules = Readonly<Record<string, FieldRule>>;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` in [${min}, ${max}]`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

/**
 * Throws unless `value` is an object whose fields follow `rules` (and has no other field). The
 * error names the path, what was expected and what was found.
 *
 * @example
 * checkFields('config.options', { depth: 2 ** 31 - 1 }, { depth: { type: 'int', min: 1, max: 128 } });
 * // throws: config.options.depth: expected an integer in [1, 128], got 2147483647
 */
export function checkFields(path: string, value: unknown, rules: FieldRules): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected an object, got ${show(value)}`);
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!Object.prototype.hasOwnProperty.call(rules, key)) {
      throw new Error(`${path}.${key}: unknown field; expected only ${Object.keys(rules).join(', ') || '(none)'}`);
    }
  }
  for (const [key, rule] of Object.entries(rules)) checkField(`${path}.${key}`, obj[key], rule);
}

/** Throws unless one value follows `rule`. */
export function checkField(path: string, v: unknown, rule: FieldRule): void {
  if (v === undefined) {
    if (rule.optional) return;
    throw new Error(`${path}: missing`);
  }
  const fail = (expected: string): never => {
    throw new Error(`${path}: expected ${expected}, got ${show(v)}`);
  };
  switch (rule.type) {
    case 'int':
      if (!(typeof v === 'number' && Number.isInteger(v) && (rule.min === undefined || v >= rule.min) && (rule.max === undefined || v <= rule.max))) {
        fail(`an integer${range(rule.min, rule.max)}`);
      }
      return;
    case 'number':
      if (!(typeof v === 'number' && Number.isFinite(v) && (rule.min === undefined || v >= rule.min) && (rule.max === undefined || v <= rule.max))) {
        fail(`a finite number${range(rule.min, rule.max)}`);
      }
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail('true or false');
      return;
    case 'string':
      if (typeof v !== 'string' || (rule.maxLength !== undefined && v.length > rule.maxLength)) fail(`a string${rule.maxLength !== undefined ? ` of at most ${rule.maxLength} characters` : ''}`);
      return;
    case 'enum':
      if (!rule.values.includes(v as string | number)) fail(`one of ${rule.values.map((x) => JSON.stringify(x)).join(', ')}`);
      return;
    case 'ints': {
      const lengthOk =
        Array.isArray(v) &&
        (rule.length === undefined || v.length === rule.length) &&
        (rule.minLength === undefined || v.length >= rule.minLength) &&
        (rule.maxLength === undefined || v.length <= rule.maxLength);
      const what = `${rule.length !== undefined ? `${rule.length} ` : 'a list of '}integers${range(rule.min, rule.max)}`;
      if (!lengthOk) fail(what);
      for (const x of v as unknown[]) {
        if (!(typeof x === 'number' && Number.isInteger(x) && (rule.min === undefined || x >= rule.min) && (rule.max === undefined || x <= rule.max))) fail(what);
      }
      return;
    }
    case 'intOrInts':
      if (typeof v === 'number') checkField(path, v, { type: 'int', min: rule.min, max: rule.max });
      else checkField(path, v, { type: 'ints', min: rule.min, max: rule.max, length: rule.length });
      return;
    case 'object':
      checkFields(path, v, rule.fields);
  }
}
