/**
 * The paths definition as saved in queries/*.yaml (docs/analyses/paths.md): the most common sequences of
 * steps within sessions, optionally from a start or to an end. The schema checks shapes and fills defaults;
 * paths-rules.ts holds the rules that need the whole definition, each with a stable code.
 */
import { z } from 'zod';
import { scopeFields, whereSchema } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { pathsRules } from './paths-rules.js';

/** What becomes a step: page views by cleaned path, other events by name, or both. */
export const PATH_STEP_MODES = ['page', 'event', 'page_and_event'] as const;
export type PathStepMode = (typeof PATH_STEP_MODES)[number];

/** Paths are per session; other units may come later without changing what `session` means. */
export const PATH_UNITS = ['session'] as const;
export type PathUnit = (typeof PATH_UNITS)[number];

export const PATHS_DEFAULTS = {
  step: 'page',
  depth: 5,
  collapse_repeats: true,
  top: 20,
  top_transitions: 100,
  unit: 'session',
} as const;

/**
 * A start or end point: an event by name (`signup` is shorthand for `{ event: signup }`) or a page view by its
 * cleaned page_path; `where` narrows it further. Exactly one of event and page (checked in paths-rules.ts).
 */
const anchorSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { event: v } : v),
  z.strictObject({
    event: z.string().optional(),
    page: z.string().optional(),
    where: whereSchema.optional(),
  }),
);

export const pathsDefinitionSchema = z.strictObject({
  kind: z.literal('paths'),
  name: z.string().min(1),
  description: z.string().optional(),
  ...scopeFields,
  start: anchorSchema.nullish(),
  end: anchorSchema.nullish(),
  step: z.enum(PATH_STEP_MODES).default(PATHS_DEFAULTS.step),
  /** Only these event names become event steps (page views are steps whatever their name). */
  include_events: z.array(z.string()).nullish(),
  /** These event names never become event steps. */
  exclude_events: z.array(z.string()).default([]),
  /** Steps per path, 2..20 (a number so the rule, not the shape check, reports a bad value). */
  depth: z.number().default(PATHS_DEFAULTS.depth),
  collapse_repeats: z.boolean().default(PATHS_DEFAULTS.collapse_repeats),
  top: z.number().default(PATHS_DEFAULTS.top),
  top_transitions: z.number().default(PATHS_DEFAULTS.top_transitions),
  unit: z.enum(PATH_UNITS).default(PATHS_DEFAULTS.unit),
});

export type PathsDefinition = z.output<typeof pathsDefinitionSchema>;
export type PathAnchor = NonNullable<PathsDefinition['start']>;

/** Validates a YAML-loaded object and fills the defaults; throws a UsageLabError naming the code and field. */
export function parsePathsDefinition(input: unknown, file?: string): PathsDefinition {
  return parseDefinition('paths', pathsDefinitionSchema, pathsRules, input, file);
}
