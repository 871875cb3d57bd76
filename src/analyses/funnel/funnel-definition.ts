/**
 * The funnel definition as saved in queries/*.yaml (docs/analyses.md#funnel). The schema checks shapes and
 * fills defaults; rules that need the whole definition (step count, window, exclusion ranges, fields) live in
 * funnel-rules.ts so each has its own stable code.
 */
import { z } from 'zod';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { checkFunnelRules } from './funnel-rules.js';

export const FUNNEL_ORDERS = ['ordered', 'strict', 'unordered'] as const;
export type FunnelOrder = (typeof FUNNEL_ORDERS)[number];

export const FUNNEL_UNITS = ['person', 'session'] as const;
export type FunnelUnit = (typeof FUNNEL_UNITS)[number];

export const FUNNEL_DEFAULTS = { window: '14d', order: 'ordered', unit: 'person' } as const;

const filterScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const filterValue = z.union([filterScalar, z.array(z.union([z.string(), z.number(), z.boolean()]))]);
/** field → value; a list means any of its values. Fields: canonical columns or properties.<key>. */
const whereSchema = z.record(z.string(), filterValue);

/** YAML 1.1 tools (and JS callers) may hand over a Date; a calendar date is all that is meant. */
const calendarDate = z.preprocess(
  (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
  z.string(),
);

const stepSchema = z.preprocess(
  // `- signup` is shorthand for `- { event: signup }`.
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    event: z.string(),
    /** Label in results; defaults to the event name. */
    name: z.string().optional(),
    where: whereSchema.optional(),
    /** Only the person's first-ever occurrence of the event (over all history) can match this step. */
    first_time: z.boolean().default(false),
  }),
);

const exclusionSchema = z.strictObject({
  event: z.string(),
  where: whereSchema.optional(),
  /** 1-based step numbers; defaults to the whole funnel (first to last step). */
  between: z.tuple([z.number(), z.number()]).optional(),
});

export const funnelDefinitionSchema = z.strictObject({
  kind: z.literal('funnel'),
  name: z.string().min(1),
  description: z.string().optional(),
  steps: z.array(stepSchema),
  /** A duration: <n>s, <n>m, <n>h, <n>d or <n>w (a day is 24 hours). A number is refused (unit unclear). */
  window: z.union([z.string(), z.number()]).default(FUNNEL_DEFAULTS.window),
  order: z.enum(FUNNEL_ORDERS).default(FUNNEL_DEFAULTS.order),
  unit: z.enum(FUNNEL_UNITS).default(FUNNEL_DEFAULTS.unit),
  exclusions: z.array(exclusionSchema).default([]),
  breakdown: z.string().nullish(),
  date_range: z.strictObject({ from: calendarDate, to: calendarDate }).nullish(),
});

export type FunnelDefinition = z.output<typeof funnelDefinitionSchema>;
export type FunnelStep = FunnelDefinition['steps'][number];
export type FunnelExclusion = FunnelDefinition['exclusions'][number];
export type FunnelWhere = NonNullable<FunnelStep['where']>;

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Validates a YAML-loaded object and applies the defaults. Throws a UsageLabError whose code is the broken rule
 * (funnel_invalid for a wrong shape) and whose place names the file and the field.
 */
export function parseFunnelDefinition(input: unknown, file?: string): FunnelDefinition {
  const parsed = funnelDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = fieldPath(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
    const message = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]!}"` : issue.message;
    throw new UsageLabError('funnel_invalid', message, {
      place: { ...(file === undefined ? {} : { file }), ...(field === '' ? {} : { field }) },
      hint: 'see docs/analyses.md#funnel for the fields a funnel definition takes',
      exitCode: EXIT.usage,
    });
  }
  assertFunnelRules(parsed.data, file);
  return parsed.data;
}

/** Throws the first broken rule as a UsageLabError (for definitions built in code, too). */
export function assertFunnelRules(definition: FunnelDefinition, file?: string): void {
  const violation = checkFunnelRules(definition)[0];
  if (violation === undefined) return;
  throw new UsageLabError(violation.code, violation.message, {
    place: { ...(file === undefined ? {} : { file }), field: violation.field },
    hint: violation.hint,
    exitCode: EXIT.usage,
  });
}

/** Label of a step in results. */
export const stepLabel = (step: FunnelStep): string => step.name ?? step.event;
