/**
 * The retention definition as saved in queries/*.yaml (docs/analyses/retention.md). Keys a definition leaves out
 * stay undefined after parsing, so `retentionSettings` can tell a preset's value from an explicit one: explicit
 * beats preset, preset beats our default.
 */
import { z } from 'zod';
import { INTERVALS } from '../common/time-buckets.js';
import { scopeFields, whereSchema } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { COHORT_TYPES, RETENTION_PRESETS } from './retention-presets.js';
import { retentionRules } from './retention-rules.js';

const eventRefSchema = z.preprocess(
  // `target: signup` is shorthand for `target: { event: signup }`.
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    /** An event name as stored, or `$any` for any event. */
    event: z.string(),
    where: whereSchema.optional(),
  }),
);

export const retentionDefinitionSchema = z.strictObject({
  kind: z.literal('retention'),
  name: z.string().min(1),
  description: z.string().optional(),
  ...scopeFields,
  /** The event that puts a person in a cohort. */
  target: eventRefSchema,
  /** The event that counts as coming back; default the target (amplitude preset: `$any`). */
  returning: eventRefSchema.optional(),
  cohort: z.enum(COHORT_TYPES).optional(),
  interval: z.enum(INTERVALS).optional(),
  /** Intervals shown after interval 0 (the cohort's own interval). */
  intervals: z.number().optional(),
  /** "On or after": interval k counts people who came back in k or any later interval shown. */
  cumulative: z.boolean().optional(),
  /** A person is retained in an interval only with at least this many returning events in it. */
  min_occurrences: z.number().optional(),
  /** Intervals measured from each person's cohort-entry instant (24 h, 7 × 24 h or 30 × 24 h) instead of the calendar. */
  rolling: z.boolean().optional(),
  /** With rolling: round both instants down to the (UTC) hour before measuring, as Amplitude does. */
  round_to_hour: z.boolean().optional(),
  preset: z.enum(RETENTION_PRESETS).optional(),
});

export type RetentionDefinition = z.output<typeof retentionDefinitionSchema>;
export type RetentionEventRef = RetentionDefinition['target'];

/**
 * Validates a YAML-loaded object. Throws a UsageLabError whose code is the broken rule (retention_invalid for a
 * wrong shape) and whose place names the file and the field.
 */
export function parseRetentionDefinition(input: unknown, file?: string): RetentionDefinition {
  return parseDefinition('retention', retentionDefinitionSchema, retentionRules, input, file);
}
