/**
 * The adoption definition as saved in queries/*.yaml (docs/analyses/adoption.md): which features of the catalog,
 * the retention interval and how many of them, threshold overrides, and the shared scope keys. Rules that need
 * the catalog (unknown keys, the merged thresholds) are checked when it runs (adoption-plan.ts).
 */
import { z } from 'zod';
import type { RuleViolation } from '../analysis-kind.js';
import { scopeFields } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { scopeViolations } from '../common/scope-rules.js';
import { INTERVALS } from '../common/time-buckets.js';
import { thresholdsSchema, thresholdViolations } from './adoption-thresholds.js';

export const ADOPTION_DEFAULTS = { interval: 'week', retention_intervals: 4 } as const;
export const MAX_RETENTION_INTERVALS = 100;

export const adoptionDefinitionSchema = z.strictObject({
  kind: z.literal('adoption'),
  name: z.string().min(1),
  description: z.string().optional(),
  ...scopeFields,
  /** Feature keys of the catalog, in the order to report them; default: every feature, in catalog order. */
  features: z.array(z.string()).nullish(),
  /** Calendar interval of the retention of feature users. */
  interval: z.enum(INTERVALS).default(ADOPTION_DEFAULTS.interval),
  /** How many intervals after the first use to follow (0: no retention). */
  retention_intervals: z.number().default(ADOPTION_DEFAULTS.retention_intervals),
  /** Overrides of the catalog's thresholds for this analysis. */
  thresholds: thresholdsSchema.optional(),
});

export type AdoptionDefinition = z.output<typeof adoptionDefinitionSchema>;

export function adoptionRules(def: AdoptionDefinition): RuleViolation[] {
  const out: RuleViolation[] = [...scopeViolations('adoption', def)];
  if (def.features != null) {
    if (def.features.length === 0) {
      out.push({ code: 'adoption_features_empty', field: 'features', message: 'an empty features list selects nothing', hint: 'list feature keys of queries/features.yaml, or remove the key to analyse all of them' });
    }
    const seen = new Set<string>();
    def.features.forEach((key, i) => {
      if (seen.has(key)) out.push({ code: 'adoption_feature_duplicate', field: `features.${i}`, message: `feature "${key}" is listed twice`, hint: 'list each feature key once' });
      seen.add(key);
    });
  }
  const n = def.retention_intervals;
  if (!Number.isInteger(n) || n < 0 || n > MAX_RETENTION_INTERVALS) {
    out.push({ code: 'adoption_retention_intervals_invalid', field: 'retention_intervals', message: `retention_intervals ${String(n)} is not a whole number from 0 to ${MAX_RETENTION_INTERVALS}`, hint: 'e.g. retention_intervals: 4 (0 leaves retention out)' });
  }
  out.push(...thresholdViolations('adoption', def.thresholds ?? {}, 'thresholds', false));
  return out;
}

/** Validates a YAML-loaded object and fills the defaults; throws a UsageLabError naming the code, file and field. */
export function parseAdoptionDefinition(input: unknown, file?: string): AdoptionDefinition {
  return parseDefinition('adoption', adoptionDefinitionSchema, adoptionRules, input, file);
}
