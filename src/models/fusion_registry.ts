import { checkFields, type FieldRules } from '../utils/config_fields';
import { ComponentRegistry, type ComponentConfig, type ComponentDefinition, type ComponentOptions } from './component_registry';
import { AdpeTransformerFusion, type AdpeTransformerFusionOptions } from './fusions/transformer_adpe_fusion';
import { AverageFusion } from './fusions/average_fusion';
import { LinearFusion, type LinearFusionOptions } from './fusions/linear_fusion';
import type { FusionContext, SliceFusion } from './fusions/slice_fusion';
import { TransformerFusion, type TransformerFusionOptions } from './fusions/transformer_fusion';

const TRANSFORMER_RULES: FieldRules = {
  heads: { type: 'int', min: 1, max: 256, optional: true },
  numLayers: { type: 'int', min: 1, max: 64, optional: true },
  dimFeedforward: { type: 'int', min: 1, max: 65536, optional: true },
  dropout: { type: 'number', min: 0, max: 1, optional: true },
  positionalEmbedding: { type: 'enum', values: ['none', 'learned', 'sinusoidal'], optional: true },
  maxSlices: { type: 'int', min: 1, max: 65536, optional: true },
};

const transformer: ComponentDefinition<SliceFusion, FusionContext> = {
  description: "the paper's slice transformer: CLS token, one pre-norm Transformer layer, final norm (Table 2 'Transformer')",
  create: (options, { inputSize, seed }) => new TransformerFusion(inputSize, options as TransformerFusionOptions, seed),
  validate: (options, _context, path) => checkFields(path, options, TRANSFORMER_RULES),
  describe: (f) => (f instanceof TransformerFusion && !(f instanceof AdpeTransformerFusion) ? ({ ...f.config } as ComponentOptions) : undefined),
};

const adpe: ComponentDefinition<SliceFusion, FusionContext> = {
  description: "the slice transformer with an additive slice positional embedding (Table 2 'Transformer + AdPE')",
  create: (options, { inputSize, seed }) => new AdpeTransformerFusion(inputSize, options as AdpeTransformerFusionOptions, seed),
  validate: (options, _context, path) => checkFields(path, options, TRANSFORMER_RULES),
  describe: (f) => (f instanceof AdpeTransformerFusion ? ({ ...f.config } as ComponentOptions) : undefined),
};

const linear: ComponentDefinition<SliceFusion, FusionContext> = {
  description: "slice features concatenated in order for the head (Table 2 'Linear'; a fixed slice count)",
  create: (options, { inputSize }) => new LinearFusion(inputSize, options as LinearFusionOptions),
  validate: (options, _context, path) => checkFields(path, options, { numSlices: { type: 'int', min: 1, max: 4096, optional: true } }),
  describe: (f) => (f instanceof LinearFusion ? ({ ...f.config } as ComponentOptions) : undefined),
};

const average: ComponentDefinition<SliceFusion, FusionContext> = {
  description: "the mean of the slice features (Table 2 'Average')",
  create: (_options, { inputSize }) => new AverageFusion(inputSize),
  validate: (options, _context, path) => checkFields(path, options, {}),
  describe: (f) => (f instanceof AverageFusion ? {} : undefined),
};

/** Every slice fusion by name: `transformer`, `transformer-adpe`, `linear`, `average`, and those of {@link registerFusion}. */
export const FUSIONS = new ComponentRegistry<SliceFusion, FusionContext>('slice fusion');
FUSIONS.register('transformer', transformer);
FUSIONS.register('transformer-adpe', adpe);
FUSIONS.register('linear', linear);
FUSIONS.register('average', average);

/**
 * Makes a slice fusion of your own a first-class citizen: `new MedicalSliceTransformer({ fusion:
 * name, fusionOptions })`, and every model built on it saves and loads by this name. The factory
 * receives the options and `{ inputSize, seed }` (the slice-feature width and an init seed).
 *
 * @example
 * registerFusion('attention-mil', { create: (o, { inputSize, seed }) => new AttentionMil(inputSize, o, seed) });
 */
export function registerFusion(name: string, definition: ComponentDefinition<SliceFusion, FusionContext>): void {
  FUSIONS.register(name, definition);
}

/**
 * Builds a registered slice fusion for features of width `inputSize`.
 *
 * @example
 * const fusion = createFusion('transformer', { heads: 4 }, { inputSize: 64, seed: 1 });
 */
export function createFusion(name: string, options: ComponentOptions, context: FusionContext): SliceFusion {
  return FUSIONS.create(name, options, context);
}

/** The registered name and options that rebuild `fusion`, or an error saying how to make it savable. */
export function fusionConfigOf(fusion: SliceFusion): ComponentConfig {
  return FUSIONS.requireConfigOf(fusion, "registerFusion('name', { create: (options, { inputSize, seed }) => new CLASS(...) }) and build the model with fusion: 'name'");
}
