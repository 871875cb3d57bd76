/**
 * A segment: a set of people by properties and behaviour (docs/analyses.md#segment), saved in queries/ and
 * reusable by name in every other kind (`segment:`, `breakdown: segment:NAME`, `exclude:`). Membership is a
 * fixed set of people, whatever analysis uses it.
 */
import { z } from 'zod';
import type { RuleViolation } from '../analysis-kind.js';
import { parseEventField } from '../event-fields.js';
import { dateRangeSchema, whereSchema, type WhereFilter } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { dateRangeViolations, eventNameViolations, FIELD_HINT, whereViolations } from '../common/scope-rules.js';

const behaviourSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    event: z.string(),
    where: whereSchema.optional(),
    /** At least this many matching events (default 1). */
    at_least: z.number().int().min(1).default(1),
    /** At most this many (optional). */
    at_most: z.number().int().min(0).optional(),
    /** Count only events in these days (configured time zone); default all history. */
    date_range: dateRangeSchema.optional(),
  }),
);

const notBehaviourSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    event: z.string(),
    where: whereSchema.optional(),
    date_range: dateRangeSchema.optional(),
  }),
);

export const segmentDefinitionSchema = z.strictObject({
  kind: z.literal('segment'),
  name: z.string().min(1),
  description: z.string().optional(),
  /** Person properties: the latest non-empty value of each field over the person's events must equal the value. */
  properties: whereSchema.optional(),
  /** The person did each of these (all must hold). */
  did: z.array(behaviourSchema).default([]),
  /** The person did none of these. */
  did_not: z.array(notBehaviourSchema).default([]),
  /** The person's first event falls in these days. */
  first_seen: dateRangeSchema.optional(),
});

export type SegmentDefinition = z.output<typeof segmentDefinitionSchema>;
export type SegmentBehaviour = SegmentDefinition['did'][number];
export type SegmentNotBehaviour = SegmentDefinition['did_not'][number];
export type { WhereFilter };

export function segmentRules(def: SegmentDefinition): RuleViolation[] {
  const out: RuleViolation[] = [];
  const k = 'segment';
  if (Object.keys(def.properties ?? {}).length === 0 && def.did.length === 0 && def.did_not.length === 0 && def.first_seen === undefined) {
    out.push({ code: 'segment_empty', field: 'name', message: `segment "${def.name}" has no condition`, hint: 'add properties, did, did_not or first_seen' });
  }
  for (const [name, value] of Object.entries(def.properties ?? {})) {
    if (parseEventField(name) === undefined) out.push({ code: 'segment_field_unknown', field: `properties.${name}`, message: `unknown field "${name}"`, hint: FIELD_HINT });
    else out.push(...whereViolations(k, { [name]: value }, 'properties').map((v) => ({ ...v, field: `properties.${name}` })));
  }
  def.did.forEach((b, i) => {
    out.push(...eventNameViolations(k, b.event, `did.${i}.event`, `did ${i + 1}`));
    out.push(...whereViolations(k, b.where, `did.${i}`));
    out.push(...dateRangeViolations(k, b.date_range, `did.${i}.date_range`));
    if (b.at_most !== undefined && b.at_most < b.at_least) {
      out.push({ code: 'segment_count_range', field: `did.${i}.at_most`, message: `at_most ${b.at_most} is below at_least ${b.at_least}`, hint: 'at_most must be ≥ at_least; use did_not for "never"' });
    }
  });
  def.did_not.forEach((b, i) => {
    out.push(...eventNameViolations(k, b.event, `did_not.${i}.event`, `did_not ${i + 1}`));
    out.push(...whereViolations(k, b.where, `did_not.${i}`));
    out.push(...dateRangeViolations(k, b.date_range, `did_not.${i}.date_range`));
  });
  out.push(...dateRangeViolations(k, def.first_seen, 'first_seen'));
  return out;
}

export function parseSegmentDefinition(input: unknown, file?: string): SegmentDefinition {
  return parseDefinition('segment', segmentDefinitionSchema, segmentRules, input, file);
}
