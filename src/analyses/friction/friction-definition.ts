/**
 * The friction definition as saved in queries/*.yaml (docs/analyses/friction.md): which frustration signals
 * count, how an element is identified, the noise cut, the U-turn threshold and the period comparison, plus the
 * shared scope keys. The schema checks shapes and fills defaults; friction-rules.ts checks ranges with codes.
 */
import { z } from 'zod';
import { scopeFields } from '../common/definition-parts.js';
import { parseDefinition } from '../common/parse-definition.js';
import { frictionRules } from './friction-rules.js';

export const FRICTION_SIGNALS = ['rage', 'dead', 'error'] as const;
export type FrictionSignal = (typeof FRICTION_SIGNALS)[number];

/** The canonical flag column behind each signal (DESIGN.md §3). */
export const SIGNAL_COLUMNS: Readonly<Record<FrictionSignal, 'rage_click' | 'dead_click' | 'error_click'>> = {
  rage: 'rage_click',
  dead: 'dead_click',
  error: 'error_click',
};

/**
 * How a hotspot's element is identified. `selector`: by element_selector (events without one by their text);
 * `text`: by element_text (events without one by their selector); `text_and_selector`: by both.
 */
export const FRICTION_ELEMENT_KEYS = ['selector', 'text', 'text_and_selector'] as const;
export type FrictionElementKey = (typeof FRICTION_ELEMENT_KEYS)[number];

/**
 * `previous_period`: the same number of days right before the range; `previous_month`: the same number of calendar
 * months before a range of whole months (what a monthly report compares with); `none`.
 */
export const FRICTION_COMPARE = ['previous_period', 'previous_month', 'none'] as const;
export type FrictionCompare = (typeof FRICTION_COMPARE)[number];

export const FRICTION_DEFAULTS = {
  signals: [...FRICTION_SIGNALS],
  element: 'selector',
  min_sessions: 5,
  top: 20,
  u_turn_seconds: 10,
  compare: 'previous_period',
} as const;

export const frictionDefinitionSchema = z.strictObject({
  kind: z.literal('friction'),
  name: z.string().min(1),
  description: z.string().optional(),
  signals: z.array(z.enum(FRICTION_SIGNALS)).default([...FRICTION_DEFAULTS.signals]),
  element: z.enum(FRICTION_ELEMENT_KEYS).default(FRICTION_DEFAULTS.element),
  /** Ranges are checked by rules (friction-rules.ts) so each has its own code. */
  min_sessions: z.number().default(FRICTION_DEFAULTS.min_sessions),
  top: z.number().default(FRICTION_DEFAULTS.top),
  u_turn_seconds: z.number().default(FRICTION_DEFAULTS.u_turn_seconds),
  compare: z.enum(FRICTION_COMPARE).default(FRICTION_DEFAULTS.compare),
  ...scopeFields,
});

export type FrictionDefinition = z.output<typeof frictionDefinitionSchema>;

/**
 * Validates a YAML-loaded object and applies the defaults. Throws a UsageLabError whose code is the broken rule
 * (friction_invalid for a wrong shape) and whose place names the file and the field.
 */
export function parseFrictionDefinition(input: unknown, file?: string): FrictionDefinition {
  return parseDefinition('friction', frictionDefinitionSchema, frictionRules, input, file);
}
