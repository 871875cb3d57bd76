/**
 * The funnel definition as saved in queries/*.yaml (docs/analyses.md#funnel). The schema checks shapes and
 * fills defaults; rules that need the whole definition (step count, window, exclusion ranges, fields) live in
 * funnel-rules.ts so each has its own stable code.
 */
import { z } from 'zod';
import { assertRules, parseDefinition } from '../common/parse-definition.js';
import { scopeFields, whereSchema } from '../common/definition-parts.js';
import { checkFunnelRules } from './funnel-rules.js';

export const FUNNEL_ORDERS = ['ordered', 'strict', 'unordered'] as const;
export type FunnelOrder = (typeof FUNNEL_ORDERS)[number];

export const FUNNEL_UNITS = ['person', 'session'] as const;
export type FunnelUnit = (typeof FUNNEL_UNITS)[number];

export const FUNNEL_ATTEMPTS = ['best', 'first'] as const;
export type FunnelAttempts = (typeof FUNNEL_ATTEMPTS)[number];

export const FUNNEL_PRESETS = ['posthog', 'mixpanel', 'amplitude'] as const;
export type FunnelPreset = (typeof FUNNEL_PRESETS)[number];

export const FUNNEL_DEFAULTS = { window: '14d', order: 'ordered', unit: 'person', attempts: 'best' } as const;

/**
 * Each vendor's documented funnel defaults (docs/analyses.md#presets; sources in
 * ../shared/reference/analytics-semantics-and-user-needs.md §3.7). A preset fills only keys the definition leaves out.
 */
export const FUNNEL_PRESET_DEFAULTS: Record<FunnelPreset, { window: string; order: FunnelOrder; unit: FunnelUnit; attempts: FunnelAttempts }> = {
  // funnelWindowInterval || 14 days; sequential order; unique persons.
  posthog: { window: '14d', order: 'ordered', unit: 'person', attempts: 'best' },
  // 30-day window from the first step-1 event in range, not reset by repeats ("uniques").
  mixpanel: { window: '30d', order: 'ordered', unit: 'person', attempts: 'first' },
  // Conversion within one day, as rolling 24 hours; unique users, earliest-and-longest path.
  amplitude: { window: '1d', order: 'ordered', unit: 'person', attempts: 'best' },
};


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

/** A preset fills the knobs the definition leaves out, before the plain defaults do. */
function applyPreset(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const raw = input as Record<string, unknown>;
  const preset = FUNNEL_PRESET_DEFAULTS[raw.preset as FunnelPreset] as Record<string, unknown> | undefined;
  if (preset === undefined) return input;
  const out = { ...raw };
  for (const [key, value] of Object.entries(preset)) if (out[key] === undefined) out[key] = value;
  return out;
}

export const funnelDefinitionSchema = z.preprocess(
  applyPreset,
  z.strictObject({
    kind: z.literal('funnel'),
    name: z.string().min(1),
    description: z.string().optional(),
    preset: z.enum(FUNNEL_PRESETS).optional(),
    steps: z.array(stepSchema),
    /** A duration: <n>s, <n>m, <n>h, <n>d or <n>w (a day is 24 hours). A number is refused (unit unclear). */
    window: z.union([z.string(), z.number()]).default(FUNNEL_DEFAULTS.window),
    order: z.enum(FUNNEL_ORDERS).default(FUNNEL_DEFAULTS.order),
    unit: z.enum(FUNNEL_UNITS).default(FUNNEL_DEFAULTS.unit),
    attempts: z.enum(FUNNEL_ATTEMPTS).default(FUNNEL_DEFAULTS.attempts),
    exclusions: z.array(exclusionSchema).default([]),
    ...scopeFields,
  }),
);

export type FunnelDefinition = z.output<typeof funnelDefinitionSchema>;
export type FunnelStep = FunnelDefinition['steps'][number];
export type FunnelExclusion = FunnelDefinition['exclusions'][number];
export type FunnelWhere = NonNullable<FunnelStep['where']>;

/**
 * Validates a YAML-loaded object and applies the preset and defaults. Throws a UsageLabError whose code is the
 * broken rule (funnel_invalid for a wrong shape) and whose place names the file and the field.
 */
export function parseFunnelDefinition(input: unknown, file?: string): FunnelDefinition {
  return parseDefinition('funnel', funnelDefinitionSchema, checkFunnelRules, input, file);
}

/** Throws the first broken rule as a UsageLabError (for definitions built in code, too). */
export function assertFunnelRules(definition: FunnelDefinition, file?: string): void {
  assertRules(checkFunnelRules(definition), file);
}

/** Label of a step in results. */
export const stepLabel = (step: FunnelStep): string => step.name ?? step.event;
