/**
 * The trends definition as saved in queries/*.yaml (docs/analyses/trends.md): what is measured (events, people,
 * active users, stickiness, lifecycle), over which series of events, per calendar interval. The schema checks
 * shapes and fills the defaults every measure shares; measure-specific options stay optional so a rule can refuse
 * one given to a measure that would ignore it (trends-rules.ts).
 */
import { z } from 'zod';
import { scopeFields, whereSchema } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { INTERVALS } from '../common/time-buckets.js';
import { ANY_EVENT, LIFECYCLE_NEW, TRENDS_DEFAULTS, TRENDS_MEASURES } from './trends-options.js';
import { trendsRules } from './trends-rules.js';

const seriesSchema = z.preprocess(
  // `- signup` is shorthand for `- { event: signup }`.
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    event: z.string(),
    /** Label in results; defaults to the event name. */
    name: z.string().optional(),
    where: whereSchema.optional(),
  }),
);

export const trendsDefinitionSchema = z.strictObject({
  kind: z.literal('trends'),
  name: z.string().min(1),
  description: z.string().optional(),
  measure: z.enum(TRENDS_MEASURES).default(TRENDS_DEFAULTS.measure),
  events: z.array(seriesSchema).default([{ event: ANY_EVENT }]),
  interval: z.enum(INTERVALS).default(TRENDS_DEFAULTS.interval),
  /** active_users (wau, mau) and stickiness (mau): trailing windows in local days. */
  active_windows: z.strictObject({ wau: z.number().optional(), mau: z.number().optional() }).optional(),
  /** lifecycle only. */
  lifecycle_new: z.enum(LIFECYCLE_NEW).optional(),
  /** With a breakdown: how many values get their own series (the rest are merged into one). */
  breakdown_limit: z.number().optional(),
  ...scopeFields,
});

export type TrendsDefinition = z.output<typeof trendsDefinitionSchema>;
export type TrendsSeriesDefinition = TrendsDefinition['events'][number];

/** Label of a series in results. */
export const seriesLabel = (series: TrendsSeriesDefinition): string => series.name ?? series.event;

/**
 * Validates a YAML-loaded object and applies the defaults. Throws a UsageLabError whose code is the broken rule
 * (trends_invalid for a wrong shape) and whose place names the file and the field.
 */
export function parseTrendsDefinition(input: unknown, file?: string): TrendsDefinition {
  return parseDefinition('trends', trendsDefinitionSchema, trendsRules, input, file);
}
